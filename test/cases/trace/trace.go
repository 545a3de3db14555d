// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package trace is the query case table shared by the standalone and distributed trace suites.
// RegisterQueryCases declares one Ginkgo DescribeTable; a suite calls it after it has loaded the
// schema fixtures and written the span fixtures at a base time (test/helpers does both).
//
// Every case names its query and the wanted result: the ids of the returned traces, in order,
// derived by hand from the fixture spans (the derivation is the comment above each entry; the
// spans are transcribed in data.go). The whole wanted QueryResponse is then built from those ids:
// each trace carries all of its spans in the queried groups, each span its span bytes, its span id
// and the projected tags (API.md §7.5 order; tags a group does not have read as null, empty
// strings as empty strings). Responses are compared whole, after sorting the spans of each trace
// by their bytes. Each case also has a BydbQL twin, whose answer must equal the QueryRequest's.
package trace

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	g "github.com/onsi/ginkgo/v2"
	gm "github.com/onsi/gomega"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// modelTimeRange is the query time range message.
type modelTimeRange = modelv1.TimeRange

// queryTimeout bounds one query of the table.
const queryTimeout = 30 * time.Second

// queryCase is one query and its wanted outcome.
type queryCase struct {
	// criteria and orderBy are the query's; nil means none.
	criteria *modelv1.Criteria
	orderBy  *modelv1.QueryOrder
	// timeRange returns the query's range for the fixtures' base time; nil means [base, base+1h],
	// the range API.md §8.2 injects.
	timeRange func(base time.Time) *modelv1.TimeRange
	// name is the trace schema; "" means sw.
	name string
	// groups are the queried groups; nil means test-trace-group.
	groups     []string
	projection []string
	// want is the ids of the wanted traces in order; ignored when wantErr is set.
	want []string
	// ql is the case's BydbQL twin: the same query as a statement whose first two placeholders,
	// TIME BETWEEN ? AND ?, are bound to the case's time range and the next ones to qlParams
	// (timestamp operands there are offsets from the fixtures' base, bound as RFC 3339 strings).
	// It must answer exactly what the QueryRequest answers, or fail with the same code.
	ql       string
	qlParams []*modelv1.TagValue
	limit    uint32
	offset   uint32
	wantErr  codes.Code
}

// RegisterQueryCases declares the table. conn returns the connection to the server under test and
// base the time the span fixtures were written at; both are called when a case runs.
func RegisterQueryCases(conn func() *grpc.ClientConn, base func() time.Time) {
	args := []any{func(c queryCase) { runCase(conn(), base(), c) }}
	for _, e := range queryEntries() {
		args = append(args, e)
	}
	g.DescribeTable("trace queries", args...)
}

func runCase(conn *grpc.ClientConn, base time.Time, c queryCase) {
	req := c.request(base)
	client := tracev1.NewTraceServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	resp, err := client.Query(ctx, req)
	runTwin(ctx, conn, base, c, req, resp, err)
	if c.wantErr != codes.OK {
		gm.Expect(err).To(gm.HaveOccurred(), "want %s, got %v", c.wantErr, resp)
		gm.Expect(status.Code(err)).To(gm.Equal(c.wantErr), "error: %v", err)
		return
	}
	gm.Expect(err).NotTo(gm.HaveOccurred())
	want := c.response(base)
	sortSpans(resp)
	gm.Expect(cmp.Diff(want, resp, protocmp.Transform())).To(gm.BeEmpty(), "-want +got")

	// The same query with trace=true answers the same traces and an execution trace.
	req.Trace = true
	traced, err := client.Query(ctx, req)
	gm.Expect(err).NotTo(gm.HaveOccurred())
	gm.Expect(traced.GetTraceQueryResult().GetSpans()).NotTo(gm.BeEmpty(), "trace=true must return the execution trace")
	traced.TraceQueryResult = nil
	sortSpans(traced)
	gm.Expect(cmp.Diff(want, traced, protocmp.Transform())).To(gm.BeEmpty(), "with trace=true: -want +got")
}

// runTwin runs the case's BydbQL twin and requires the answer (or the error code) that the
// QueryRequest got, with and without WITH QUERY_TRACE.
func runTwin(ctx context.Context, conn *grpc.ClientConn, base time.Time, c queryCase, req *tracev1.QueryRequest,
	resp *tracev1.QueryResponse, qrErr error,
) {
	gm.Expect(c.ql).NotTo(gm.BeEmpty(), "every case has a BydbQL twin")
	params := []*modelv1.TagValue{timeParam(req.GetTimeRange().GetBegin()), timeParam(req.GetTimeRange().GetEnd())}
	for _, p := range c.qlParams {
		if p.GetTimestamp() != nil {
			offset := p.GetTimestamp().AsTime().Sub(time.Unix(0, 0))
			p = str(base.Add(offset).UTC().Format(time.RFC3339Nano))
		}
		params = append(params, p)
	}
	client := bydbqlv1.NewBydbQLServiceClient(conn)
	twin, err := client.Query(ctx, &bydbqlv1.QueryRequest{Query: c.ql, Params: params})
	if qrErr != nil {
		gm.Expect(err).To(gm.HaveOccurred(), "the QueryRequest failed with %v, its BydbQL twin answered %v", qrErr, twin)
		gm.Expect(status.Code(err)).To(gm.Equal(status.Code(qrErr)), "QueryRequest: %v, BydbQL: %v", qrErr, err)
		return
	}
	gm.Expect(err).NotTo(gm.HaveOccurred(), "BydbQL twin %q", c.ql)
	gm.Expect(twin.GetTraceResult()).NotTo(gm.BeNil(), "BydbQL answers a trace_result")
	sortSpans(resp)
	got := twin.GetTraceResult()
	sortSpans(got)
	gm.Expect(cmp.Diff(resp, got, protocmp.Transform())).To(gm.BeEmpty(), "QueryRequest (-) and BydbQL (+) answers differ")

	withTrace := strings.TrimSuffix(strings.TrimSpace(c.ql), ";") + " WITH QUERY_TRACE"
	traced, err := client.Query(ctx, &bydbqlv1.QueryRequest{Query: withTrace, Params: params})
	gm.Expect(err).NotTo(gm.HaveOccurred())
	gm.Expect(traced.GetTraceResult().GetTraceQueryResult().GetSpans()).NotTo(gm.BeEmpty(), "WITH QUERY_TRACE returns the execution trace")
	traced.GetTraceResult().TraceQueryResult = nil
	sortSpans(traced.GetTraceResult())
	gm.Expect(cmp.Diff(resp, traced.GetTraceResult(), protocmp.Transform())).To(gm.BeEmpty(), "WITH QUERY_TRACE: -QueryRequest +BydbQL")
}

// timeParam binds a TIME placeholder: the timestamp, or null for an absent one (which BydbQL
// refuses, as the front door refuses a range without an end).
func timeParam(t *timestamppb.Timestamp) *modelv1.TagValue {
	if t == nil {
		return null()
	}
	return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: t}}
}

func (c queryCase) request(base time.Time) *tracev1.QueryRequest {
	req := &tracev1.QueryRequest{
		Groups:        c.groups,
		Name:          c.name,
		Criteria:      rebase(c.criteria, base),
		OrderBy:       c.orderBy,
		Limit:         c.limit,
		Offset:        c.offset,
		TagProjection: c.projection,
	}
	if req.Groups == nil {
		req.Groups = []string{groupSW}
	}
	if req.Name == "" {
		req.Name = traceSW
	}
	if c.timeRange != nil {
		req.TimeRange = c.timeRange(base)
	} else {
		req.TimeRange = timeRange(base, 0, time.Hour)
	}
	return req
}

// response builds the wanted response: the wanted traces, each with every span it has in the
// queried groups.
func (c queryCase) response(base time.Time) *tracev1.QueryResponse {
	groups := c.groups
	if groups == nil {
		groups = []string{groupSW}
	}
	inGroups := make(map[string]bool, len(groups))
	for _, grp := range groups {
		inGroups[grp] = true
	}
	resp := &tracev1.QueryResponse{}
	for _, id := range c.want {
		t := &tracev1.Trace{TraceId: id}
		for i := range fixtureSpans {
			s := &fixtureSpans[i]
			if s.traceID == id && inGroups[s.group] {
				t.Spans = append(t.Spans, &tracev1.Span{
					Span:   []byte(s.span),
					SpanId: s.spanID,
					Tags:   projectedTags(s, base, c.projection),
				})
			}
		}
		if len(t.Spans) == 0 {
			g.Fail("case bug: wanted trace " + id + " has no fixture span in the queried groups")
		}
		resp.Traces = append(resp.Traces, t)
	}
	sortSpans(resp)
	return resp
}

// projectedTags is API.md §7.5: the projected ordinary tags in projection order, then the trace-id
// tag, then the span-id tag. A tag the span's group does not have is null; an empty string reads
// back as an empty string (API 0.10).
func projectedTags(s *fixtureSpan, base time.Time, projection []string) []*modelv1.Tag {
	var tags []*modelv1.Tag
	var traceID, spanID bool
	for _, name := range projection {
		switch name {
		case "trace_id":
			traceID = true
			continue
		case "span_id":
			spanID = true
			continue
		case "timestamp":
			ts := base.Add(s.offset)
			tags = append(tags, &modelv1.Tag{Key: name, Value: &modelv1.TagValue{
				Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(ts)},
			}})
			continue
		}
		v, ok := s.tags[name]
		if !ok {
			v = null()
		}
		tags = append(tags, &modelv1.Tag{Key: name, Value: v})
	}
	if traceID {
		tags = append(tags, &modelv1.Tag{Key: "trace_id", Value: str(s.traceID)})
	}
	if spanID {
		tags = append(tags, &modelv1.Tag{Key: "span_id", Value: str(s.spanID)})
	}
	return tags
}

func null() *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Null{Null: structpb.NullValue_NULL_VALUE}}
}

// sortSpans orders the spans of every trace by their bytes: span order inside a trace is not part
// of the API.
func sortSpans(resp *tracev1.QueryResponse) {
	for _, t := range resp.GetTraces() {
		sort.SliceStable(t.Spans, func(i, j int) bool {
			return bytes.Compare(t.Spans[i].GetSpan(), t.Spans[j].GetSpan()) < 0
		})
	}
}

func timeRange(base time.Time, from, to time.Duration) *modelv1.TimeRange {
	return &modelv1.TimeRange{Begin: timestamppb.New(base.Add(from)), End: timestamppb.New(base.Add(to))}
}

// ts is a timestamp operand at an offset from the fixtures' base; the base is only known when
// a case runs, so the table holds the offset and request() resolves it.
func ts(offset time.Duration) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(time.Unix(0, int64(offset)).UTC())}}
}

// rebase returns a copy of the criteria whose timestamp operands, offsets in the table, are moved
// to the fixtures' base.
func rebase(c *modelv1.Criteria, base time.Time) *modelv1.Criteria {
	if c == nil {
		return nil
	}
	c = proto.Clone(c).(*modelv1.Criteria)
	var walk func(c *modelv1.Criteria)
	walk = func(c *modelv1.Criteria) {
		if c == nil {
			return
		}
		if le := c.GetLe(); le != nil {
			walk(le.GetLeft())
			walk(le.GetRight())
			return
		}
		if v := c.GetCondition().GetValue(); v.GetTimestamp() != nil {
			offset := v.GetTimestamp().AsTime().Sub(time.Unix(0, 0))
			v.Value = &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(base.Add(offset))}
		}
	}
	walk(c)
	return c
}

func cond(name string, op modelv1.Condition_BinaryOp, v *modelv1.TagValue) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{Name: name, Op: op, Value: v}}}
}

func and(l, r *modelv1.Criteria) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{Op: modelv1.LogicalExpression_LOGICAL_OP_AND, Left: l, Right: r}}}
}

func or(l, r *modelv1.Criteria) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{Op: modelv1.LogicalExpression_LOGICAL_OP_OR, Left: l, Right: r}}}
}

func order(rule string, sort modelv1.Sort) *modelv1.QueryOrder {
	return &modelv1.QueryOrder{IndexRuleName: rule, Sort: sort}
}

// Short names for the table.
const (
	eq       = modelv1.Condition_BINARY_OP_EQ
	ne       = modelv1.Condition_BINARY_OP_NE
	lt       = modelv1.Condition_BINARY_OP_LT
	le       = modelv1.Condition_BINARY_OP_LE
	gt       = modelv1.Condition_BINARY_OP_GT
	ge       = modelv1.Condition_BINARY_OP_GE
	in       = modelv1.Condition_BINARY_OP_IN
	notIn    = modelv1.Condition_BINARY_OP_NOT_IN
	having   = modelv1.Condition_BINARY_OP_HAVING
	noHaving = modelv1.Condition_BINARY_OP_NOT_HAVING
	desc     = modelv1.Sort_SORT_DESC
	asc      = modelv1.Sort_SORT_ASC
)

func ids(s ...string) []string { return s }

// trs returns the ids trace_0NN of test-trace-group/test-trace-updated for the short numbers n.
func trs(n ...string) []string {
	out := make([]string, len(n))
	for i, x := range n {
		out[i] = "trace_0" + x
	}
	return out
}

// none is an empty result (a success with no trace).
var none = []string{}
