// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"bytes"
	"context"
	"sort"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// span is a span of the sw schema that a write spec makes up: the tags are in sw's order
// (trace_id, state, service_id, service_instance_id, endpoint_id, duration, span_id, timestamp),
// plus extra when a spec has added a tag at the end of the schema.
type span struct {
	ts       time.Time
	extra    *modelv1.TagValue
	traceID  string
	spanID   string
	service  string
	state    int64
	duration int64
}

func strTag(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func intTag(n int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: n}}}
}

func tsTag(t time.Time) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(t)}}
}

func nullTag() *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Null{Null: structpb.NullValue_NULL_VALUE}}
}

func (s span) tags() []*modelv1.TagValue {
	tags := []*modelv1.TagValue{
		strTag(s.traceID), intTag(s.state), strTag(s.service), strTag(s.service + "_instance"),
		strTag("/" + s.service), intTag(s.duration), strTag(s.spanID), tsTag(s.ts),
	}
	if s.extra != nil {
		tags = append(tags, s.extra)
	}
	return tags
}

func (s span) bytes() []byte { return []byte(s.traceID + "/" + s.spanID) }

func (s span) request(md *commonv1.Metadata, version uint64) *tracev1.WriteRequest {
	return &tracev1.WriteRequest{Metadata: proto.Clone(md).(*commonv1.Metadata), Tags: s.tags(), Span: s.bytes(), Version: version}
}

// requests builds one request per span, versions from first on.
func requests(md *commonv1.Metadata, spans []span, first uint64) []*tracev1.WriteRequest {
	reqs := make([]*tracev1.WriteRequest, len(spans))
	for i, s := range spans {
		reqs[i] = s.request(md, first+uint64(i))
	}
	return reqs
}

// tag returns the value a query answers for a projected tag of the span.
func (s span) tag(name string) *modelv1.TagValue {
	switch name {
	case "trace_id":
		return strTag(s.traceID)
	case "span_id":
		return strTag(s.spanID)
	case "service_id":
		return strTag(s.service)
	case "state":
		return intTag(s.state)
	case "duration":
		return intTag(s.duration)
	case "timestamp":
		return tsTag(s.ts)
	case "extra":
		if s.extra == nil || (s.extra.GetStr() != nil && s.extra.GetStr().GetValue() == "") {
			return nullTag()
		}
		return s.extra
	}
	Fail("span.tag: unknown tag " + name)
	return nil
}

// wantResponse is the response listing the traces in order, each with all its spans, and the
// projected tags in API.md §7.5 order (ordinary tags, then trace_id, then span_id).
func wantResponse(spans []span, order []string, projection ...string) *tracev1.QueryResponse {
	resp := &tracev1.QueryResponse{}
	for _, id := range order {
		t := &tracev1.Trace{TraceId: id}
		for _, s := range spans {
			if s.traceID != id {
				continue
			}
			sp := &tracev1.Span{Span: s.bytes(), SpanId: s.spanID}
			var idTags []*modelv1.Tag
			for _, name := range projection {
				tag := &modelv1.Tag{Key: name, Value: s.tag(name)}
				if name == "trace_id" || name == "span_id" {
					idTags = append(idTags, tag)
					continue
				}
				sp.Tags = append(sp.Tags, tag)
			}
			sort.SliceStable(idTags, func(i, j int) bool { return idTags[i].GetKey() == "trace_id" })
			sp.Tags = append(sp.Tags, idTags...)
			t.Spans = append(t.Spans, sp)
		}
		Expect(t.Spans).NotTo(BeEmpty(), "spec bug: no span of wanted trace %s", id)
		resp.Traces = append(resp.Traces, t)
	}
	sortSpans(resp)
	return resp
}

func sortSpans(resp *tracev1.QueryResponse) {
	for _, t := range resp.GetTraces() {
		sort.SliceStable(t.Spans, func(i, j int) bool { return bytes.Compare(t.Spans[i].GetSpan(), t.Spans[j].GetSpan()) < 0 })
	}
}

// traceIDs lists the distinct trace ids of spans in first-seen order.
func traceIDs(spans []span) []string {
	var ids []string
	seen := map[string]bool{}
	for _, s := range spans {
		if !seen[s.traceID] {
			seen[s.traceID] = true
			ids = append(ids, s.traceID)
		}
	}
	return ids
}

// queryTraces runs a query of group/sw over all time and returns its response with the spans of
// each trace sorted.
func queryTraces(ctx context.Context, conn *grpc.ClientConn, req *tracev1.QueryRequest) (*tracev1.QueryResponse, error) {
	if req.Name == "" {
		req.Name = "sw"
	}
	resp, err := tracev1.NewTraceServiceClient(conn).Query(ctx, req)
	if err != nil {
		return nil, err
	}
	sortSpans(resp)
	return resp, nil
}

func byIDs(group string, ids []string, projection ...string) *tracev1.QueryRequest {
	return &tracev1.QueryRequest{
		Groups:        []string{group},
		Criteria:      &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{Name: "trace_id", Op: modelv1.Condition_BINARY_OP_IN, Value: &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: ids}}}}}},
		Limit:         uint32(len(ids) + 1),
		TagProjection: projection,
	}
}

func ordered(group, rule string, sort modelv1.Sort, limit uint32, criteria *modelv1.Criteria, projection ...string) *tracev1.QueryRequest {
	return &tracev1.QueryRequest{
		Groups:        []string{group},
		OrderBy:       &modelv1.QueryOrder{IndexRuleName: rule, Sort: sort},
		Criteria:      criteria,
		Limit:         limit,
		TagProjection: projection,
	}
}

// equalResponse matches a response equal to want (spans sorted by bytes on both sides).
func equalResponse(want *tracev1.QueryResponse) func(*tracev1.QueryResponse) string {
	return func(got *tracev1.QueryResponse) string { return cmp.Diff(want, got, protocmp.Transform()) }
}

// expectQuery runs req and requires a response equal to want.
func expectQuery(ctx context.Context, conn *grpc.ClientConn, req *tracev1.QueryRequest, want *tracev1.QueryResponse) {
	GinkgoHelper()
	resp, err := queryTraces(ctx, conn, req)
	Expect(err).NotTo(HaveOccurred())
	Expect(equalResponse(want)(resp)).To(BeEmpty(), "-want +got")
}
