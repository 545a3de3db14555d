// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// recordingTrace is a TraceService whose Query keeps the requests it gets and answers one trace
// named after the request, or the error it was given.
type recordingTrace struct {
	tracev1.UnimplementedTraceServiceServer
	err  error
	mu   sync.Mutex
	reqs []*tracev1.QueryRequest
}

// QuerySchema holds no schemas: statements bind against the registries.
func (r *recordingTrace) QuerySchema(string, string) (*databasev1.Trace, []*databasev1.IndexRule, bool) {
	return nil, nil, false
}

func (r *recordingTrace) Query(_ context.Context, req *tracev1.QueryRequest) (*tracev1.QueryResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	if r.err != nil {
		return nil, r.err
	}
	return &tracev1.QueryResponse{Traces: []*tracev1.Trace{{TraceId: "answer-for-" + req.GetName()}}}, nil
}

// TestBydbQLReadsTheRegistries runs statements against the fixture schemas in etcd: the request
// reaching the trace service is the statement's QueryRequest, typed by the stored schemas, and its
// answer comes back as the trace result.
func TestBydbQLReadsTheRegistries(t *testing.T) {
	rec := &recordingTrace{}
	env := newTestEnv(t, rec)
	env.preload(t, readFixtures(t))
	ctx := testContext(t)
	client := bydbqlv1.NewBydbQLServiceClient(env.conn)

	resp, err := client.Query(ctx, &bydbqlv1.QueryRequest{
		Query: "SELECT trace_id, state FROM TRACE sw IN test-trace-group, test-trace-updated TIME BETWEEN ? AND ? " +
			"WHERE state = ? OR state = 'error' ORDER BY timestamp DESC LIMIT 2",
		Params: []*modelv1.TagValue{
			{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: "2026-12-01T08:00:00Z"}}},
			{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: "2026-12-01T09:00:00Z"}}},
			{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: 1}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetTraceResult().GetTraces(); len(got) != 1 || got[0].GetTraceId() != "answer-for-sw" {
		t.Fatalf("trace result %v", resp)
	}
	begin := timestamppb.New(mustTime(t, "2026-12-01T08:00:00Z"))
	want := &tracev1.QueryRequest{
		Name: "sw", Groups: []string{"test-trace-group", "test-trace-updated"}, TagProjection: []string{"trace_id", "state"},
		TimeRange: &modelv1.TimeRange{Begin: begin, End: timestamppb.New(mustTime(t, "2026-12-01T09:00:00Z"))},
		Criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
			Op: modelv1.LogicalExpression_LOGICAL_OP_OR,
			Left: &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
				Name: "state", Op: modelv1.Condition_BINARY_OP_EQ, Value: &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: 1}}},
			}}},
			Right: &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
				Name: "state", Op: modelv1.Condition_BINARY_OP_EQ, Value: &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: "error"}}},
			}}},
		}}},
		OrderBy: &modelv1.QueryOrder{IndexRuleName: "timestamp", Sort: modelv1.Sort_SORT_DESC},
		Limit:   2,
	}
	rec.mu.Lock()
	got := rec.reqs[len(rec.reqs)-1]
	rec.mu.Unlock()
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("QueryRequest -want +got:\n%s", diff)
	}

	// ORDER BY the sort tag of zipkin's only rule names that rule.
	if _, err = client.Query(ctx, &bydbqlv1.QueryRequest{Query: "SELECT () FROM TRACE zipkin IN zipkinTrace TIME > '-1h' ORDER BY timestamp"}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	if rule := rec.reqs[len(rec.reqs)-1].GetOrderBy().GetIndexRuleName(); rule != "zipkin-timestamp" {
		t.Errorf("ORDER BY timestamp on zipkin uses rule %q", rule)
	}
	n := len(rec.reqs)
	rec.mu.Unlock()

	for _, tc := range []struct {
		stmt string
		msg  string
		code codes.Code
	}{
		{stmt: "", code: codes.InvalidArgument, msg: "the statement is empty"},
		{stmt: "SELECT () FROM TRACE sw IN test-trace-group\n  WHERE duration > 1", code: codes.InvalidArgument, msg: "line 2, column 3: expected TIME, found WHERE"},
		{stmt: "SELECT () FROM TRACE nope IN test-trace-group TIME > '-1h'", code: codes.NotFound, msg: "trace test-trace-group/nope not found"},
		{stmt: "SELECT () FROM TRACE sw IN no-such-group TIME > '-1h'", code: codes.NotFound, msg: "trace no-such-group/sw not found"},
		{stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-1h' ORDER BY zipkin-timestamp", code: codes.InvalidArgument, msg: "index rule 'zipkin-timestamp' is not bound to trace sw"},
		{stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-1h' WHERE duration = 'slow'", code: codes.InvalidArgument, msg: "tag 'duration' is INT"},
		{stmt: "SELECT * FROM MEASURE m IN g TIME > '-1h'", code: codes.InvalidArgument, msg: "this server stores traces only"},
	} {
		_, err := client.Query(ctx, &bydbqlv1.QueryRequest{Query: tc.stmt})
		wantCode(t, err, tc.code, tc.msg)
	}
	rec.mu.Lock()
	if len(rec.reqs) != n {
		t.Errorf("refused statements reached the trace service: %d requests, want %d", len(rec.reqs), n)
	}
	rec.mu.Unlock()

	// The trace service's own refusal comes back unchanged.
	rec.err = status.Error(codes.InvalidArgument, "either traceIDs or order must be specified")
	_, err = client.Query(ctx, &bydbqlv1.QueryRequest{Query: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-1h'"})
	wantCode(t, err, codes.InvalidArgument, "either traceIDs or order must be specified")
}

// TestBydbQLRelativeTimeUsesTheClock resolves '-15m' against an injected clock.
func TestBydbQLRelativeTimeUsesTheClock(t *testing.T) {
	rec := &recordingTrace{}
	env := newTestEnv(t, nil)
	env.preload(t, readFixtures(t))
	now := mustTime(t, "2026-12-03T10:00:00.123456Z")
	srv := NewBydbQLServer(rec, env.repo, timestamp.NewMockClock(now))
	if _, err := srv.Query(testContext(t), &bydbqlv1.QueryRequest{Query: "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN '-15m' AND 'now' ORDER BY duration"}); err != nil {
		t.Fatal(err)
	}
	got := rec.reqs[0].GetTimeRange()
	if b, e := got.GetBegin().AsTime(), got.GetEnd().AsTime(); !b.Equal(mustTime(t, "2026-12-03T09:45:00.123Z")) || !e.Equal(mustTime(t, "2026-12-03T10:00:00.123Z")) {
		t.Errorf("time range %v .. %v", b, e)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
