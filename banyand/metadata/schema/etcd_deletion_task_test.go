// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

func deletionTask(phase databasev1.GroupDeletionTask_Phase, spans int32) *databasev1.GroupDeletionTask {
	return &databasev1.GroupDeletionTask{
		CurrentPhase:  phase,
		TotalCounts:   map[string]int32{"spans": spans, "traces": 1},
		DeletedCounts: map[string]int32{"spans": spans},
		Message:       "test",
		CreatedAt:     timestamppb.Now(),
		UpdatedAt:     timestamppb.Now(),
	}
}

func TestGroupDeletionTaskOutlivesItsGroupAndReplacesTheLastOne(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	if _, err := reg.GetGroupDeletionTask(ctx, "g"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("task of a group never deleted: %v, want ErrNotFound", err)
	}
	must(reg.CreateGroup(ctx, traceGroup("g")))(t)
	running := deletionTask(databasev1.GroupDeletionTask_PHASE_IN_PROGRESS, 7)
	if err := reg.PutGroupDeletionTask(ctx, "g", running); err != nil {
		t.Fatalf("put: %v", err)
	}
	must(reg.DeleteGroup(ctx, "g"))(t)
	done := deletionTask(databasev1.GroupDeletionTask_PHASE_COMPLETED, 7)
	if err := reg.PutGroupDeletionTask(ctx, "g", done); err != nil {
		t.Fatalf("put after the group went: %v", err)
	}
	got, err := reg.GetGroupDeletionTask(ctx, "g")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if !proto.Equal(got, done) {
		t.Fatalf("task = %v, want the latest %v", got, done)
	}
	// A reopened registry (another liaison, a restart) reads the same.
	other := openRegistry(t, sharedEtcd.ClientURL(), reg.keys.root[1:len(reg.keys.root)-1])
	if again, err := other.GetGroupDeletionTask(ctx, "g"); err != nil || !proto.Equal(again, done) {
		t.Fatalf("task through another registry = %v, %v; want %v", again, err, done)
	}
	// Tasks are per group: "g1" shares a prefix with "g" and has none.
	if _, err := reg.GetGroupDeletionTask(ctx, "g1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("task of another group: %v, want ErrNotFound", err)
	}
}

func TestGroupDeletionTaskIsNoEvent(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	rec := &recorder{}
	reg.RegisterHandler("all", kinds, rec)
	if err := reg.PutGroupDeletionTask(ctx, "gone", deletionTask(databasev1.GroupDeletionTask_PHASE_COMPLETED, 1)); err != nil {
		t.Fatalf("put: %v", err)
	}
	// Events arrive in revision order: the group created after the task is the first event.
	must(reg.CreateGroup(ctx, traceGroup("after")))(t)
	if got := names(rec.waitFor(t, 1)); strings.Join(got, ",") != "add groups after" {
		t.Fatalf("events %v, want only the group created after the task", got)
	}
}

func TestGroupDeletionTaskRefusesBadNames(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	for _, name := range []string{"", "a/b"} {
		if err := reg.PutGroupDeletionTask(ctx, name, &databasev1.GroupDeletionTask{}); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("put %q: %v, want ErrBadRequest", name, err)
		}
		if _, err := reg.GetGroupDeletionTask(ctx, name); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("get %q: %v, want ErrBadRequest", name, err)
		}
	}
}
