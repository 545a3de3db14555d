// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package queue

import (
	"context"
	"testing"

	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	clusterv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/cluster/v1"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

// adminHandler answers the operator's calls the way a data node does, from what it was asked.
type adminHandler struct {
	statusHandler
	seen []string
}

func (h *adminHandler) InspectGroup(_ context.Context, group string) (*clusterv1.TraceGroupInspectResponse, error) {
	h.seen = append(h.seen, "inspect "+group)
	switch group {
	case "broken":
		return nil, errors.New("disk on fire")
	case "gone":
		return nil, status.Error(codes.NotFound, "group gone")
	}
	return &clusterv1.TraceGroupInspectResponse{
		SegmentInfo:   []*databasev1.SegmentInfo{{SegmentId: "seg-2026112500", ShardInfo: []*databasev1.ShardInfo{{ShardId: 1, DataCount: 7}}}},
		DataSizeBytes: 42,
	}, nil
}

func (h *adminHandler) DropGroupData(_ context.Context, group string) (int64, error) {
	h.seen = append(h.seen, "drop "+group)
	return int64(len(group)), nil
}

func (h *adminHandler) DeleteSegments(_ context.Context, group string, suffixes []string) (int64, error) {
	h.seen = append(h.seen, "delete "+group)
	return int64(len(suffixes)), nil
}

func TestGRPCQueueCarriesOperatorCalls(t *testing.T) {
	srv := NewGRPCServer()
	testenv.PreRun(t, srv, "--grpc-host=127.0.0.1", "--grpc-port=0")
	h := &adminHandler{}
	if err := srv.Handle(h); err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	defer srv.GracefulStop()
	c := NewGRPCClient()
	defer c.Close()
	c.AddNode(&databasev1.Node{Metadata: &commonv1.Metadata{Name: "n1"}, GrpcAddress: srv.Addr()})
	ctx := context.Background()

	got, err := c.InspectGroup(ctx, "n1", "g")
	if err != nil {
		t.Fatal(err)
	}
	want := &clusterv1.TraceGroupInspectResponse{
		SegmentInfo:   []*databasev1.SegmentInfo{{SegmentId: "seg-2026112500", ShardInfo: []*databasev1.ShardInfo{{ShardId: 1, DataCount: 7}}}},
		DataSizeBytes: 42,
	}
	if !proto.Equal(got, want) {
		t.Fatalf("inspect reply %v", got)
	}
	if n, err := c.DropGroupData(ctx, "n1", "four"); err != nil || n != 4 {
		t.Fatalf("drop reply %d, err %v", n, err)
	}
	if n, err := c.DeleteSegments(ctx, "n1", "g", []string{"a", "b"}); err != nil || n != 2 {
		t.Fatalf("delete reply %d, err %v", n, err)
	}
	// A handler's status keeps its code; another error is Internal; an unknown node is Unavailable.
	if _, err = c.InspectGroup(ctx, "n1", "gone"); status.Code(err) != codes.NotFound {
		t.Fatalf("status error: %v", err)
	}
	if _, err = c.InspectGroup(ctx, "n1", "broken"); status.Code(err) != codes.Internal {
		t.Fatalf("plain error: %v", err)
	}
	if _, err = c.DropGroupData(ctx, "n2", "g"); status.Code(err) != codes.Unavailable {
		t.Fatalf("unknown node: %v", err)
	}
	wantSeen := []string{"inspect g", "drop four", "delete g", "inspect gone", "inspect broken"}
	if len(h.seen) != len(wantSeen) {
		t.Fatalf("the node saw %v, want %v", h.seen, wantSeen)
	}
	for i := range wantSeen {
		if h.seen[i] != wantSeen[i] {
			t.Fatalf("the node saw %v, want %v", h.seen, wantSeen)
		}
	}
}
