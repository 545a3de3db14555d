// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package queue

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/bus"
)

func spanOf(payload int) *tracev1.InternalWriteRequest {
	return &tracev1.InternalWriteRequest{Request: &tracev1.WriteRequest{Span: make([]byte, payload), Version: 1}}
}

func TestChunkBySizeKeepsOrderAndBound(t *testing.T) {
	var reqs []*tracev1.InternalWriteRequest
	for i := 0; i < 10; i++ {
		reqs = append(reqs, spanOf(100))
	}
	reqs = append(reqs, spanOf(5000)) // alone larger than the bound
	one := proto.Size(reqs[0])
	chunks := chunkBySize(reqs, 3*one)
	var flat []*tracev1.InternalWriteRequest
	for i, c := range chunks {
		size := 0
		for _, r := range c {
			size += proto.Size(r)
		}
		if len(c) > 1 && size > 3*one {
			t.Fatalf("chunk %d holds %d bytes, above %d", i, size, 3*one)
		}
		flat = append(flat, c...)
	}
	if len(flat) != len(reqs) {
		t.Fatalf("%d requests after chunking, want %d", len(flat), len(reqs))
	}
	for i := range reqs {
		if flat[i] != reqs[i] {
			t.Fatalf("request %d moved", i)
		}
	}
	if len(chunks) != 5 {
		t.Fatalf("%d chunks, want 3+3+3+1 and the large one alone", len(chunks))
	}
}

// statusListener answers every write with SUCCEED and counts the batches it saw.
type statusListener struct{ batches, spans int }

func (l *statusListener) Handle(_ context.Context, payload any) (any, error) {
	reqs := payload.([]*tracev1.InternalWriteRequest)
	l.batches++
	l.spans += len(reqs)
	out := make([]modelv1.Status, len(reqs))
	for i := range out {
		out[i] = modelv1.Status_STATUS_SUCCEED
	}
	return out, nil
}

func TestGRPCQueueCarriesBatchesOverTheNetwork(t *testing.T) {
	srv := NewGRPCServer()
	if err := srv.FlagSet().Parse([]string{"--grpc-host=127.0.0.1", "--grpc-port=0"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := &statusListener{}
	if err := srv.Subscribe(bus.TopicTraceWrite, l); err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	defer srv.GracefulStop()
	c := NewGRPCClient()
	defer c.Close()
	c.AddNode(&databasev1.Node{Metadata: &commonv1.Metadata{Name: "n1"}, GrpcAddress: srv.Addr()})
	var reqs []*tracev1.InternalWriteRequest
	for i := 0; i < 3; i++ {
		reqs = append(reqs, spanOf(6<<20)) // two together would pass the 8 MiB bound: three RPCs
	}
	reply, err := c.Publish(context.Background(), bus.TopicTraceWrite, "n1", reqs)
	if err != nil {
		t.Fatal(err)
	}
	if got := reply.([]modelv1.Status); len(got) != 3 || got[2] != modelv1.Status_STATUS_SUCCEED {
		t.Fatalf("statuses %v", got)
	}
	if l.batches != 3 || l.spans != 3 {
		t.Fatalf("node saw %d batches of %d spans, want 3 batches of one span", l.batches, l.spans)
	}
	if _, err := c.Publish(context.Background(), bus.TopicTraceWrite, "n2", reqs); status.Code(err) != codes.Unavailable {
		t.Fatalf("unknown node: err = %v, want Unavailable", err)
	}
}

func TestGRPCServerReleasedWithoutServingFreesItsPort(t *testing.T) {
	srv := NewGRPCServer()
	if err := srv.FlagSet().Parse([]string{"--grpc-host=127.0.0.1", "--grpc-port=0"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.GracefulStop()
	again := NewGRPCServer()
	_, port, _ := net.SplitHostPort(addr)
	if err := again.FlagSet().Parse([]string{"--grpc-host=127.0.0.1", "--grpc-port=" + port}); err != nil {
		t.Fatal(err)
	}
	if err := again.PreRun(context.Background()); err != nil {
		t.Fatalf("the released server still holds %s: %v", addr, err)
	}
	again.GracefulStop()
}
