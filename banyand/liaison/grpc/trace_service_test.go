// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/banyand/trace"
	"github.com/apache/skywalking-banyandb/pkg/node"
	"github.com/apache/skywalking-banyandb/test/testenv"
	"github.com/apache/skywalking-banyandb/test/testenv/metarepo"
)

// newFrontDoorEnv starts the registry and the TraceService of a standalone node over a real
// trace service (temp dir) and the embedded etcd, with the test fixtures created.
func newFrontDoorEnv(t *testing.T) (*testEnv, *TraceService) {
	t.Helper()
	// The trace service follows the registry the server writes to.
	repo := metarepo.Open(t, etcdURL)
	pm := protector.NewMemory(nil)
	testenv.PreRun(t, pm)
	svc, err := trace.NewService(repo, nil, observability.NewBypassRegistry(), pm)
	if err != nil {
		t.Fatal(err)
	}
	testenv.PreRun(t, svc, "--trace-root-path="+t.TempDir(), "--trace-metadata-cache-wait-duration=100ms")
	t.Cleanup(svc.GracefulStop)
	front, err := NewTraceService(svc, queue.NewLocal(svc), node.NewLocalSelector("local"))
	if err != nil {
		t.Fatal(err)
	}
	env := dialEnv(t, repo, startServer(t, repo, front, "--grpc-host=127.0.0.1", "--grpc-port=0"))
	env.preload(t, readFixtures(t))
	// Schema events reach the trace service asynchronously: wait until sw has both its rules, so
	// that the spans written next get their index entries.
	ctx := testContext(t)
	for {
		if tr, err := svc.Trace(&commonv1.Metadata{Group: "test-trace-group", Name: "sw"}); err == nil && len(tr.GetIndexRules()) == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the trace service did not load sw with its two index rules")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return env, front
}

func strTag(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func intTag(v int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: v}}}
}

// swRequest is a span of the sw fixture: trace_id, state, service_id, service_instance_id,
// endpoint_id, duration, span_id, timestamp.
func swRequest(traceID, spanID string, duration int64, at time.Time) *tracev1.WriteRequest {
	return &tracev1.WriteRequest{
		Metadata: &commonv1.Metadata{Group: "test-trace-group", Name: "sw"},
		Tags: []*modelv1.TagValue{strTag(traceID), intTag(0), strTag("svc"), strTag("inst"), strTag("/ep"),
			intTag(duration), strTag(spanID), {Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(at)}}},
		Span:    []byte(traceID + "/" + spanID),
		Version: 1,
	}
}

// writeSpans sends requests on one Write stream and returns the statuses of the responses.
func writeSpans(t *testing.T, env *testEnv, reqs []*tracev1.WriteRequest) []string {
	t.Helper()
	stream, err := tracev1.NewTraceServiceClient(env.conn).Write(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.GetStatus())
	}
	return got
}

func TestFrontDoorWritesEachRequestOnceAndAnswersEach(t *testing.T) {
	env, front := newFrontDoorEnv(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	wrongType := swRequest("bad", "s1", 1, now)
	wrongType.Tags[1] = strTag("not an int")
	noMetadata := swRequest("nometa", "s1", 1, now)
	noMetadata.Metadata = nil
	unknown := swRequest("unknown", "s1", 1, now)
	unknown.Metadata = &commonv1.Metadata{Group: "test-trace-group", Name: "no-such-trace"}
	// A request without metadata first on a stream is METADATA_REQUIRED; later in the stream it
	// uses the stream's latest metadata (API 0.10).
	reqs := []*tracev1.WriteRequest{
		noMetadata,
		swRequest("t1", "s1", 10, now),
		wrongType,
		noMetadata,
		unknown,
		swRequest("t2", "s1", 20, now),
		swRequest("t1", "s2", 30, now),
	}
	got := writeSpans(t, env, reqs)
	want := []string{
		modelv1.Status_STATUS_METADATA_REQUIRED.String(),
		modelv1.Status_STATUS_SUCCEED.String(), modelv1.Status_STATUS_INVALID_TIMESTAMP.String(),
		modelv1.Status_STATUS_SUCCEED.String(), modelv1.Status_STATUS_NOT_FOUND.String(),
		modelv1.Status_STATUS_SUCCEED.String(), modelv1.Status_STATUS_SUCCEED.String(),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	// The spans the front door hands over carry the revision of the schema it checked them
	// against, which the data side compares with its own to trust the parse.
	ws, ok := front.schemas.ResolveWrite(testContext(t), &commonv1.Metadata{Group: "test-trace-group", Name: "sw"}, map[string]bool{})
	if !ok {
		t.Fatal("sw not resolved")
	}
	if span, st, _ := ws.Parse(swRequest("t9", "s1", 1, now)); st != modelv1.Status_STATUS_SUCCEED || span.Revision <= 0 {
		t.Fatalf("parsed span %+v (%s): want the schema's etcd revision", span, st)
	}
	// The Go method BydbQL calls takes the same path as the RPC.
	resp, err := front.Query(testContext(t), &tracev1.QueryRequest{
		Groups: []string{"test-trace-group"}, Name: "sw", Limit: 10,
		OrderBy:       &modelv1.QueryOrder{IndexRuleName: "duration", Sort: modelv1.Sort_SORT_DESC},
		TagProjection: []string{"duration", "trace_id"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	spans := map[string]int{}
	for _, tr := range resp.GetTraces() {
		ids = append(ids, tr.GetTraceId())
		spans[tr.GetTraceId()] = len(tr.GetSpans())
	}
	if fmt.Sprint(ids) != "[t1 t2 nometa]" || spans["t1"] != 2 || spans["t2"] != 1 || spans["nometa"] != 1 {
		t.Fatalf("traces %v with spans %v, want t1 (2 spans), t2 (1), then nometa (1), stored under the stream's metadata", ids, spans)
	}
	if tags := resp.GetTraces()[0].GetSpans()[0].GetTags(); len(tags) != 2 || tags[0].GetKey() != "duration" || tags[1].GetKey() != "trace_id" {
		t.Fatalf("projected tags %v", tags)
	}
	rpc, err := tracev1.NewTraceServiceClient(env.conn).Query(testContext(t), &tracev1.QueryRequest{
		Groups: []string{"test-trace-group"}, Name: "sw", Limit: 1, Offset: 1,
		OrderBy: &modelv1.QueryOrder{IndexRuleName: "duration", Sort: modelv1.Sort_SORT_DESC},
	})
	if err != nil || len(rpc.GetTraces()) != 1 || rpc.GetTraces()[0].GetTraceId() != "t2" {
		t.Fatalf("the RPC with offset 1 limit 1 answered %v (%v), want t2", rpc.GetTraces(), err)
	}
}

func TestFrontDoorRefusesBadQueriesWithTheirCodes(t *testing.T) {
	env, _ := newFrontDoorEnv(t)
	client := tracev1.NewTraceServiceClient(env.conn)
	cases := []struct {
		name string
		req  *tracev1.QueryRequest
		code codes.Code
	}{
		{"no groups", &tracev1.QueryRequest{Name: "sw"}, codes.InvalidArgument},
		{"no name", &tracev1.QueryRequest{Groups: []string{"test-trace-group"}}, codes.InvalidArgument},
		{"unknown trace", &tracev1.QueryRequest{Groups: []string{"test-trace-group"}, Name: "nope"}, codes.NotFound},
		{"unknown projection", &tracev1.QueryRequest{Groups: []string{"test-trace-group"}, Name: "sw", TagProjection: []string{"nope"},
			OrderBy: &modelv1.QueryOrder{IndexRuleName: "duration"}}, codes.InvalidArgument},
		// Compiled once, on the data side, and refused with the same code as before.
		{"unknown order rule", &tracev1.QueryRequest{Groups: []string{"test-trace-group"}, Name: "sw",
			OrderBy: &modelv1.QueryOrder{IndexRuleName: "nope"}}, codes.InvalidArgument},
		{"neither ids nor order", &tracev1.QueryRequest{Groups: []string{"test-trace-group"}, Name: "sw"}, codes.InvalidArgument},
	}
	for _, tc := range cases {
		if _, err := client.Query(testContext(t), tc.req); status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}

func TestNewTraceServiceNeedsItsParts(t *testing.T) {
	if _, err := NewTraceService(nil, queue.NewLocal(nil), node.NewLocalSelector("local")); err == nil {
		t.Fatal("a front door without schemas was built")
	}
}
