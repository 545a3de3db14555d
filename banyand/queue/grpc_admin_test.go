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
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/bus"
)

// adminListener answers the operator's calls the way a data node does, from what it was asked.
type adminListener struct{ seen []any }

func (l *adminListener) Handle(_ context.Context, payload any) (any, error) {
	l.seen = append(l.seen, payload)
	switch req := payload.(type) {
	case *clusterv1.TraceGroupInspectRequest:
		if req.GetGroup() == "broken" {
			return nil, errors.New("disk on fire")
		}
		if req.GetGroup() == "gone" {
			return nil, status.Error(codes.NotFound, "group gone")
		}
		return &clusterv1.TraceGroupInspectResponse{
			SegmentInfo:   []*databasev1.SegmentInfo{{SegmentId: "seg-2026112500", ShardInfo: []*databasev1.ShardInfo{{ShardId: 1, DataCount: 7}}}},
			DataSizeBytes: 42,
		}, nil
	case *clusterv1.TraceGroupDropDataRequest:
		return &clusterv1.TraceGroupDropDataResponse{DataSizeBytes: int64(len(req.GetGroup()))}, nil
	case *tracev1.DeleteExpiredSegmentsRequest:
		return &tracev1.DeleteExpiredSegmentsResponse{Deleted: int64(len(req.GetSegmentSuffixes()))}, nil
	}
	return nil, errors.Errorf("unexpected %T", payload)
}

func TestGRPCQueueCarriesOperatorCalls(t *testing.T) {
	srv := NewGRPCServer()
	if err := srv.FlagSet().Parse([]string{"--grpc-host=127.0.0.1", "--grpc-port=0"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := &adminListener{}
	for _, topic := range []bus.Topic{bus.TopicTraceInspectGroup, bus.TopicTraceDropGroupData, bus.TopicTraceDeleteSegments} {
		if err := srv.Subscribe(topic, l); err != nil {
			t.Fatal(err)
		}
	}
	srv.Serve()
	defer srv.GracefulStop()
	c := NewGRPCClient()
	defer c.Close()
	c.AddNode(&databasev1.Node{Metadata: &commonv1.Metadata{Name: "n1"}, GrpcAddress: srv.Addr()})
	ctx := context.Background()

	reply, err := c.Publish(ctx, bus.TopicTraceInspectGroup, "n1", &clusterv1.TraceGroupInspectRequest{Group: "g"})
	if err != nil {
		t.Fatal(err)
	}
	want := &clusterv1.TraceGroupInspectResponse{
		SegmentInfo:   []*databasev1.SegmentInfo{{SegmentId: "seg-2026112500", ShardInfo: []*databasev1.ShardInfo{{ShardId: 1, DataCount: 7}}}},
		DataSizeBytes: 42,
	}
	if got, ok := reply.(*clusterv1.TraceGroupInspectResponse); !ok || !proto.Equal(got, want) {
		t.Fatalf("inspect reply %v", reply)
	}
	reply, err = c.Publish(ctx, bus.TopicTraceDropGroupData, "n1", &clusterv1.TraceGroupDropDataRequest{Group: "four"})
	if err != nil || reply.(*clusterv1.TraceGroupDropDataResponse).GetDataSizeBytes() != 4 {
		t.Fatalf("drop reply %v, err %v", reply, err)
	}
	reply, err = c.Publish(ctx, bus.TopicTraceDeleteSegments, "n1", &tracev1.DeleteExpiredSegmentsRequest{Group: "g", SegmentSuffixes: []string{"a", "b"}})
	if err != nil || reply.(*tracev1.DeleteExpiredSegmentsResponse).GetDeleted() != 2 {
		t.Fatalf("delete reply %v, err %v", reply, err)
	}
	if len(l.seen) != 3 || l.seen[0].(*clusterv1.TraceGroupInspectRequest).GetGroup() != "g" {
		t.Fatalf("the node saw %v", l.seen)
	}

	// A listener's status keeps its code; another error is Internal.
	if _, err = c.Publish(ctx, bus.TopicTraceInspectGroup, "n1", &clusterv1.TraceGroupInspectRequest{Group: "gone"}); status.Code(err) != codes.NotFound {
		t.Fatalf("status error: %v", err)
	}
	if _, err = c.Publish(ctx, bus.TopicTraceInspectGroup, "n1", &clusterv1.TraceGroupInspectRequest{Group: "broken"}); status.Code(err) != codes.Internal {
		t.Fatalf("plain error: %v", err)
	}
	// A payload of the wrong type for its topic never leaves the client.
	if _, err = c.Publish(ctx, bus.TopicTraceDropGroupData, "n1", &clusterv1.TraceGroupInspectRequest{Group: "g"}); err == nil {
		t.Fatal("a mistyped payload was sent")
	}
	if len(l.seen) != 5 {
		t.Fatalf("the node saw %d calls, want 5", len(l.seen))
	}
}
