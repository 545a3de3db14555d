// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package queue

import (
	"context"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	clusterv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/cluster/v1"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/test/testenv"
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

// statusHandler answers every write with SUCCEED and records the batches it saw.
type statusHandler struct {
	batches, spans int
	shards         []uint32
	revisions      []int64
	query          *tracev1.QueryRequest
}

func (h *statusHandler) WriteSpans(_ context.Context, batch []Span) ([]modelv1.Status, error) {
	h.batches++
	h.spans += len(batch)
	out := make([]modelv1.Status, len(batch))
	for i := range out {
		out[i] = modelv1.Status_STATUS_SUCCEED
		h.shards = append(h.shards, batch[i].Shard)
		h.revisions = append(h.revisions, batch[i].Revision)
	}
	return out, nil
}

func (h *statusHandler) QueryTraces(_ context.Context, req *tracev1.QueryRequest) (*tracev1.InternalQueryResponse, error) {
	h.query = req
	if req.GetName() == "missing" {
		return nil, status.Error(codes.NotFound, "trace missing not found")
	}
	return &tracev1.InternalQueryResponse{InternalTraces: []*tracev1.InternalTrace{{TraceId: "t1", Key: 7}}}, nil
}

func TestGRPCQueueCarriesBatchesOverTheNetwork(t *testing.T) {
	srv := NewGRPCServer()
	testenv.PreRun(t, srv, "--grpc-host=127.0.0.1", "--grpc-port=0")
	h := &statusHandler{}
	if err := srv.Handle(h); err != nil {
		t.Fatal(err)
	}
	if err := srv.Handle(h); err == nil {
		t.Fatal("a second handler was accepted")
	}
	srv.Serve()
	defer srv.GracefulStop()
	c := NewGRPCClient()
	defer c.Close()
	c.AddNode(&databasev1.Node{Metadata: &commonv1.Metadata{Name: "n1"}, GrpcAddress: srv.Addr()})
	var batch []Span
	for i := 0; i < 3; i++ {
		// two together would pass the 8 MiB bound: three RPCs
		batch = append(batch, Span{Request: spanOf(6 << 20).GetRequest(), Shard: uint32(i + 1), Revision: int64(10 + i)})
	}
	got, err := c.Write(context.Background(), "n1", batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2] != modelv1.Status_STATUS_SUCCEED {
		t.Fatalf("statuses %v", got)
	}
	if h.batches != 3 || h.spans != 3 {
		t.Fatalf("node saw %d batches of %d spans, want 3 batches of one span", h.batches, h.spans)
	}
	for i := range batch {
		if h.shards[i] != batch[i].Shard || h.revisions[i] != batch[i].Revision {
			t.Fatalf("span %d arrived with shard %d revision %d, sent %d and %d", i, h.shards[i], h.revisions[i], batch[i].Shard, batch[i].Revision)
		}
	}
	if _, err := c.Write(context.Background(), "n2", batch); status.Code(err) != codes.Unavailable {
		t.Fatalf("unknown node: err = %v, want Unavailable", err)
	}
	resp, err := c.Query(context.Background(), "n1", &tracev1.QueryRequest{Name: "sw", Groups: []string{"g"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetInternalTraces()) != 1 || resp.GetInternalTraces()[0].GetKey() != 7 || h.query.GetName() != "sw" {
		t.Fatalf("query reply %v, node saw %v", resp, h.query)
	}
	if _, err := c.Query(context.Background(), "n1", &tracev1.QueryRequest{Name: "missing"}); status.Code(err) != codes.NotFound {
		t.Fatalf("the node's NotFound came back as %v", err)
	}

	// A decoded answer is charged to the account of the query's context.
	pm := protector.NewMemory(nil)
	if err := pm.FlagSet().Parse([]string{"--allowed-bytes=1kb"}); err != nil {
		t.Fatal(err)
	}
	if err := pm.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	acct := protector.NewAccount(pm)
	resp, err = c.Query(protector.WithAccount(context.Background(), acct), "n1", &tracev1.QueryRequest{Name: "sw", Groups: []string{"g"}})
	if err != nil {
		t.Fatal(err)
	}
	if acct.Held() != uint64(proto.Size(resp)) || pm.Usage() != acct.Held() {
		t.Fatalf("account holds %d, protector %d; want the answer's %d bytes", acct.Held(), pm.Usage(), proto.Size(resp))
	}
	if err := acct.Grow(context.Background(), 1024-acct.Held()); err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(protector.WithAccount(context.Background(), acct), "n1", &tracev1.QueryRequest{Name: "sw", Groups: []string{"g"}})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "limit/offset") {
		t.Fatalf("an answer past the budget: %v, want ResourceExhausted saying to page", err)
	}
	acct.Release()
	if pm.Usage() != 0 {
		t.Fatalf("usage after release = %d", pm.Usage())
	}
}

func TestLocalDataPlaneCallsTheHandler(t *testing.T) {
	h := &statusHandler{}
	dp := NewLocal(h)
	got, err := dp.Write(context.Background(), "whatever", []Span{{Shard: 4, Revision: 9}})
	if err != nil || len(got) != 1 || got[0] != modelv1.Status_STATUS_SUCCEED || h.shards[0] != 4 || h.revisions[0] != 9 {
		t.Fatalf("Write = %v, %v; handler saw shards %v revisions %v", got, err, h.shards, h.revisions)
	}
	if _, err := dp.Query(context.Background(), "", &tracev1.QueryRequest{Name: "missing"}); status.Code(err) != codes.NotFound {
		t.Fatalf("Query error %v, want the handler's NotFound", err)
	}
	if _, err := NewLocal(nil).Write(context.Background(), "", nil); err == nil {
		t.Fatal("a data plane without handler accepted a write")
	}
}

func TestGRPCServerReleasedWithoutServingFreesItsPort(t *testing.T) {
	srv := NewGRPCServer()
	testenv.PreRun(t, srv, "--grpc-host=127.0.0.1", "--grpc-port=0")
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

func (h *statusHandler) InspectGroup(context.Context, string) (*clusterv1.TraceGroupInspectResponse, error) {
	return &clusterv1.TraceGroupInspectResponse{}, nil
}

func (h *statusHandler) DropGroupData(context.Context, string) (int64, error) { return 0, nil }

func (h *statusHandler) DeleteSegments(context.Context, string, []string) (int64, error) {
	return 0, nil
}
