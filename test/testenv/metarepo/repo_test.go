// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package metarepo

import (
	"context"
	"os"
	"testing"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

var etcdURL string

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithEtcd(m, func(srv *embeddedetcd.Server) { etcdURL = srv.ClientURL() }))
}

func TestRepoCountsWritesAndKeepsTestsApart(t *testing.T) {
	ctx := context.Background()
	group := testenv.LoadFixture(t, "schema/groups/test-trace-group.json", &commonv1.Group{})
	a, b := Open(t, etcdURL), Open(t, etcdURL)
	if _, err := a.GroupRegistry().CreateGroup(ctx, group); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GroupRegistry().GetGroup(ctx, "test-trace-group"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GroupRegistry().UpdateGroup(ctx, group); err != nil {
		t.Fatal(err)
	}
	if a.Writes() != 2 {
		t.Fatalf("Writes = %d after a create, a read and an update; want 2", a.Writes())
	}
	// Each Open has a namespace of its own.
	if groups, err := b.GroupRegistry().ListGroup(ctx); err != nil || len(groups) != 0 {
		t.Fatalf("the second repository sees %v, %v", groups, err)
	}
	if _, err := b.GroupRegistry().CreateGroup(ctx, group); err != nil {
		t.Fatalf("the same group in another namespace: %v", err)
	}
	if ok, err := a.GroupRegistry().DeleteGroup(ctx, "test-trace-group"); !ok || err != nil {
		t.Fatalf("DeleteGroup = %v, %v", ok, err)
	}
	if a.Writes() != 3 || b.Writes() != 1 {
		t.Fatalf("Writes = %d and %d, want 3 and 1", a.Writes(), b.Writes())
	}
}
