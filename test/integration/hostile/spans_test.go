// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package hostile_test

import (
	"context"
	"time"

	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// swSpan builds a write of one span of the fixture "sw" schema (trace_id, state, service_id,
// service_instance_id, endpoint_id, duration, span_id, timestamp) to md's trace.
func swSpan(md *commonv1.Metadata, traceID, spanID, service string, duration int64, ts time.Time) *tracev1.WriteRequest {
	return &tracev1.WriteRequest{
		Metadata: md,
		Tags: []*modelv1.TagValue{
			strValue(traceID), intValue(1), strValue(service), strValue(service + "_instance"),
			strValue("/" + service), intValue(duration), strValue(spanID),
			{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(ts.Truncate(time.Millisecond))}},
		},
		Span:    []byte(traceID + "/" + spanID),
		Version: 1,
	}
}

func strValue(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func intValue(v int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: v}}}
}

// writeFirst writes req, built from the trace's current metadata, until the server has loaded
// the schema and answers STATUS_SUCCEED; it returns the metadata that was accepted.
func (s *server) writeFirst(ctx context.Context, group, name string, build func(md *commonv1.Metadata) *tracev1.WriteRequest) *commonv1.Metadata {
	md, err := helpers.WriteFirstUntilAccepted(ctx, s.conn, group, name, build)
	Expect(err).NotTo(HaveOccurred())
	return md
}

// writeStatuses writes reqs on one stream and returns the status of each, in order.
func (s *server) writeStatuses(ctx context.Context, reqs ...*tracev1.WriteRequest) []string {
	resps, err := helpers.WriteStream(ctx, s.conn, reqs)
	Expect(err).NotTo(HaveOccurred())
	Expect(resps).To(HaveLen(len(reqs)))
	out := make([]string, len(resps))
	for i, r := range resps {
		out[i] = r.GetStatus()
	}
	return out
}

// queryByID returns the spans of one trace of group/name, with the projected tags.
func (s *server) queryByID(ctx context.Context, group, name, traceID string, projection ...string) []*tracev1.Span {
	resp, err := s.trace.Query(ctx, &tracev1.QueryRequest{
		Groups:        []string{group},
		Name:          name,
		Criteria:      &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{Name: "trace_id", Op: modelv1.Condition_BINARY_OP_EQ, Value: strValue(traceID)}}},
		Limit:         10,
		TagProjection: projection,
	})
	Expect(err).NotTo(HaveOccurred())
	var spans []*tracev1.Span
	for _, t := range resp.GetTraces() {
		spans = append(spans, t.GetSpans()...)
	}
	return spans
}

// spanTag returns the value of the named tag of a query result span, nil if it is absent.
func spanTag(sp *tracev1.Span, name string) *modelv1.TagValue {
	for _, t := range sp.GetTags() {
		if t.GetKey() == name {
			return t.GetValue()
		}
	}
	return nil
}
