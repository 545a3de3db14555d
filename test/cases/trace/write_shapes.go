// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-cmp/cmp"
	g "github.com/onsi/ginkgo/v2"
	gm "github.com/onsi/gomega"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// The write shapes of API 0.10 (API.md section 10): metadata on the first request of a stream
// only, and tag_spec naming the positions of the tag values. Every case writes one stream into
// the shapes trace and reads back what it wrote, tag by tag, through a trace-id query.

// shapesTrace is the trace schema the write shape cases write to: every kind of value and a string
// array for empty items. The ids and the timestamp come first, so that a request without a spec
// may stop early and still be a span.
const shapesTrace = "shapes"

// shapesTags are the tags of the shapes trace in schema order.
var shapesTags = []*databasev1.TraceTagSpec{
	{Name: "trace_id", Type: databasev1.TagType_TAG_TYPE_STRING},
	{Name: "span_id", Type: databasev1.TagType_TAG_TYPE_STRING},
	{Name: "timestamp", Type: databasev1.TagType_TAG_TYPE_TIMESTAMP},
	{Name: "state", Type: databasev1.TagType_TAG_TYPE_INT},
	{Name: "service_id", Type: databasev1.TagType_TAG_TYPE_STRING},
	{Name: "duration", Type: databasev1.TagType_TAG_TYPE_INT},
	{Name: "labels", Type: databasev1.TagType_TAG_TYPE_STRING_ARRAY},
}

// shapesProjection projects every tag; the response has the ordinary tags in this order, then
// trace_id, then span_id (API.md section 7.5).
var shapesProjection = []string{"state", "service_id", "duration", "labels", "timestamp", "trace_id", "span_id"}

// shapeSpan is one span of a case: its values by tag name (a name absent here is null when read).
type shapeSpan map[string]*modelv1.TagValue

// shapeReq is one request of a stream.
type shapeReq struct {
	// noMetadata leaves the request's metadata unset.
	noMetadata bool
	// spec is the request's tag spec; nil sends none.
	spec []string
	// order names the tags sent, in the order sent; nil means every tag in schema order. What
	// reads back is the span's values of these tags (the others are null).
	order []string
	// extra appends this many more values (to exceed the spec or the schema).
	extra int
	span  shapeSpan
	// status is the wanted status name; "" means STATUS_SUCCEED.
	status string
}

// shapeCase is one stream and what reads back.
type shapeCase struct {
	reqs []shapeReq
}

func tsValue(t time.Time) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(t)}}
}

// span makes a span of trace id of the case with all tags set.
func (sc shapeCase) span(traceID, spanID string, at time.Time, service string, duration int64) shapeSpan {
	return shapeSpan{
		"trace_id": str(traceID), "state": i64(1), "service_id": str(service), "duration": i64(duration),
		"labels": strs("a", "b"), "span_id": str(spanID), "timestamp": tsValue(at),
	}
}

func schemaNames() []string {
	names := make([]string, len(shapesTags))
	for i, t := range shapesTags {
		names[i] = t.GetName()
	}
	return names
}

func reversed(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[len(ss)-1-i] = s
	}
	return out
}

// without drops names from a span.
func without(s shapeSpan, names ...string) shapeSpan {
	out := shapeSpan{}
	for k, v := range s {
		out[k] = v
	}
	for _, n := range names {
		delete(out, n)
	}
	return out
}

// with sets a tag of a span.
func with(s shapeSpan, name string, v *modelv1.TagValue) shapeSpan {
	out := without(s)
	out[name] = v
	return out
}

// shapeEntries are the cases; ids are made unique per case by the case's name.
func shapeEntries(base time.Time) []g.TableEntry {
	all := schemaNames()
	rev := reversed(all)
	// The example order: the trace id named last, the timestamp first.
	other := []string{"timestamp", "span_id", "duration", "service_id", "labels", "state", "trace_id"}
	var c shapeCase
	sp := func(tr, s string, i int, svc string, d int64) shapeSpan {
		return c.span(tr, s, base.Add(time.Duration(i)*time.Second), svc, d)
	}
	return []g.TableEntry{
		g.Entry("metadata once, schema order", shapeCase{reqs: []shapeReq{
			{span: sp("t", "s1", 1, "svc", 10)},
			{noMetadata: true, span: sp("t", "s2", 2, "svc", 20)},
			{noMetadata: true, span: sp("t", "s3", 3, "svc", 30)},
		}}),
		g.Entry("tag_spec in schema order", shapeCase{reqs: []shapeReq{
			{spec: all, order: all, span: sp("t", "s1", 1, "svc", 10)},
			{noMetadata: true, order: all, span: sp("t", "s2", 2, "svc", 20)},
		}}),
		g.Entry("tag_spec in another order", shapeCase{reqs: []shapeReq{
			{spec: other, order: other, span: sp("t", "s1", 1, "/order_endpoint", 10)},
		}}),
		g.Entry("tag_spec sticky across requests", shapeCase{reqs: []shapeReq{
			{spec: rev, order: rev, span: sp("t", "s1", 1, "svc", 10)},
			{noMetadata: true, order: rev, span: sp("t", "s2", 2, "svc", 20)},
			{noMetadata: true, order: rev, span: sp("t", "s3", 3, "svc", 30)},
		}}),
		g.Entry("tag_spec changed mid-stream", shapeCase{reqs: []shapeReq{
			{spec: rev, order: rev, span: sp("t", "s1", 1, "svc", 10)},
			{noMetadata: true, spec: other, order: other, span: sp("t", "s2", 2, "svc", 20)},
			{noMetadata: true, order: other, span: sp("t", "s3", 3, "svc", 30)},
			{noMetadata: true, spec: all, order: all, span: sp("t", "s4", 4, "svc", 40)},
		}}),
		g.Entry("partial tag_spec: unnamed tags read as null", shapeCase{reqs: []shapeReq{
			{
				spec: []string{"span_id", "timestamp", "trace_id", "duration"}, order: []string{"span_id", "timestamp", "trace_id", "duration"},
				span: without(sp("t", "s1", 1, "svc", 10), "state", "service_id", "labels"),
			},
		}}),
		g.Entry("fewer tags than tag_spec names: the rest read as null", shapeCase{reqs: []shapeReq{
			{
				spec: []string{"trace_id", "span_id", "timestamp", "service_id", "state"}, order: []string{"trace_id", "span_id", "timestamp"},
				span: without(sp("t", "s1", 1, "svc", 10), "state", "service_id", "labels", "duration"),
			},
		}}),
		g.Entry("fewer tags than the schema without a spec: trailing tags read as null", shapeCase{reqs: []shapeReq{
			{order: []string{"trace_id", "span_id", "timestamp", "state"}, span: sp("t", "s1", 1, "svc", 10)},
			{noMetadata: true, order: []string{"trace_id", "span_id", "timestamp"}, span: sp("t", "s2", 2, "svc", 10)},
			// Without the timestamp there is no span.
			{noMetadata: true, order: []string{"trace_id", "span_id"}, span: sp("t", "x1", 3, "svc", 10), status: "STATUS_INVALID_TIMESTAMP"},
			{noMetadata: true, extra: 1, span: sp("t", "x2", 4, "svc", 10), status: "STATUS_INVALID_TIMESTAMP"},
		}}),
		g.Entry("empty strings read back as empty strings, apart from null", shapeCase{reqs: []shapeReq{
			{span: with(with(sp("t", "s1", 1, "svc", 10), "service_id", str("")), "labels", strs("", "x", ""))},
			{noMetadata: true, span: with(without(sp("t", "s2", 2, "svc", 10), "service_id"), "labels", strs())},
			{noMetadata: true, spec: other, order: other, span: with(sp("t", "s3", 3, "svc", 10), "service_id", str(""))},
		}}),
		g.Entry("new metadata without a spec puts the stream back in schema order", shapeCase{reqs: []shapeReq{
			{spec: rev, order: rev, span: sp("t", "s1", 1, "svc", 10)},
			{span: sp("t", "s2", 2, "svc", 20)},
			{noMetadata: true, span: sp("t", "s3", 3, "svc", 30)},
		}}),
		g.Entry("refused requests are not stored and lose nothing else", shapeCase{reqs: []shapeReq{
			{noMetadata: true, span: sp("t", "s0", 1, "svc", 10), status: "STATUS_METADATA_REQUIRED"},
			{spec: []string{"trace_id", "span_id"}, order: []string{"trace_id", "span_id"}, span: shapeSpan{"trace_id": str("t"), "span_id": str("x1")}, status: "STATUS_INVALID_TIMESTAMP"},
			{noMetadata: true, spec: []string{"span_id", "timestamp"}, order: []string{"span_id", "timestamp"}, span: shapeSpan{"span_id": str("x2"), "timestamp": tsValue(base)}, status: "STATUS_INVALID_TIMESTAMP"},
			{noMetadata: true, spec: append([]string{"no_such_tag"}, all...), order: all, span: sp("t", "x3", 1, "svc", 10), status: "STATUS_INVALID_TIMESTAMP"},
			{noMetadata: true, spec: all, order: all, extra: 1, span: sp("t", "x4", 1, "svc", 10), status: "STATUS_INVALID_TIMESTAMP"},
			{noMetadata: true, spec: all, order: all, span: sp("t", "s1", 2, "svc", 20)},
			{noMetadata: true, spec: []string{}, extra: 1, span: sp("t", "x5", 3, "svc", 30), status: "STATUS_INVALID_TIMESTAMP"},
			{noMetadata: true, span: sp("t", "s2", 4, "svc", 40)},
		}}),
	}
}

// RegisterWriteShapeCases declares the table of API 0.10 write shapes. conn returns the
// connection to the server under test (standalone or a liaison); group names a group the cases
// create (a TRACE group with the shapes trace) and write to. Each case writes its own trace ids.
func RegisterWriteShapeCases(conn func() *grpc.ClientConn, group string) {
	base := time.Now().Truncate(time.Millisecond)
	g.Describe("API 0.10 write shapes", g.Ordered, func() {
		g.BeforeAll(func() {
			createShapesSchema(conn(), group, base)
		})
		args := []any{func(c shapeCase) { runShapeCase(conn(), group, base, c) }}
		for _, e := range shapeEntries(base) {
			args = append(args, e)
		}
		g.DescribeTable("write streams", args...)
	})
}

// createShapesSchema creates the group and the shapes trace and waits until a write is accepted.
func createShapesSchema(conn *grpc.ClientConn, group string, base time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	day := &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 1}
	_, err := databasev1.NewGroupRegistryServiceClient(conn).Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: &commonv1.Group{
		Metadata: &commonv1.Metadata{Name: group},
		Catalog:  commonv1.Catalog_CATALOG_TRACE,
		ResourceOpts: &commonv1.ResourceOpts{
			ShardNum: 2, SegmentInterval: day, Ttl: &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 7},
		},
	}})
	gm.Expect(err).NotTo(gm.HaveOccurred())
	_, err = databasev1.NewTraceRegistryServiceClient(conn).Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: &databasev1.Trace{
		Metadata: &commonv1.Metadata{Group: group, Name: shapesTrace}, Tags: shapesTags,
		TraceIdTagName: "trace_id", SpanIdTagName: "span_id", TimestampTagName: "timestamp",
	}})
	gm.Expect(err).NotTo(gm.HaveOccurred())
	probe := &tracev1.WriteRequest{
		Metadata: &commonv1.Metadata{Group: group, Name: shapesTrace},
		Tags:     []*modelv1.TagValue{str("probe"), str("probe"), tsValue(base)},
		Version:  1,
	}
	gm.Eventually(func() (string, error) {
		resps, err := helpers.WriteStream(ctx, conn, []*tracev1.WriteRequest{probe})
		if err != nil || len(resps) != 1 {
			return "", errors.Join(err, fmt.Errorf("%d responses", len(resps)))
		}
		return resps[0].GetStatus(), nil
	}).Should(gm.Equal(modelv1.Status_STATUS_SUCCEED.String()))
}

func runShapeCase(conn *grpc.ClientConn, group string, base time.Time, c shapeCase) {
	traceID := fmt.Sprintf("%s-%d", g.CurrentSpecReport().LeafNodeText, base.UnixNano())
	md := &commonv1.Metadata{Group: group, Name: shapesTrace}
	reqs := make([]*tracev1.WriteRequest, len(c.reqs))
	wantStatus := make([]string, len(c.reqs))
	var stored []shapeSpan
	for i, r := range c.reqs {
		order := r.order
		if order == nil {
			order = schemaNames()
		}
		span := shapeSpan{}
		for _, name := range order {
			if v, ok := r.span[name]; ok {
				span[name] = v
			}
		}
		if _, ok := span["trace_id"]; ok {
			span["trace_id"] = str(traceID)
		}
		req := &tracev1.WriteRequest{Version: uint64(i + 1), Span: []byte(fmt.Sprintf("span-%d", i))}
		if !r.noMetadata {
			req.Metadata = md
		}
		if r.spec != nil {
			req.TagSpec = &tracev1.TagSpec{TagNames: r.spec}
		}
		for _, name := range order {
			v, ok := span[name]
			if !ok {
				v = null()
			}
			req.Tags = append(req.Tags, v)
		}
		for range r.extra {
			req.Tags = append(req.Tags, str("extra"))
		}
		reqs[i] = req
		wantStatus[i] = r.status
		if wantStatus[i] == "" {
			wantStatus[i] = modelv1.Status_STATUS_SUCCEED.String()
			span["payload"] = &modelv1.TagValue{Value: &modelv1.TagValue_BinaryData{BinaryData: req.GetSpan()}}
			stored = append(stored, span)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	resps, err := helpers.WriteStream(ctx, conn, reqs)
	gm.Expect(err).NotTo(gm.HaveOccurred())
	gm.Expect(resps).To(gm.HaveLen(len(reqs)))
	for i, resp := range resps {
		gm.Expect(resp.GetVersion()).To(gm.Equal(uint64(i+1)), "responses come in request order")
		gm.Expect(resp.GetStatus()).To(gm.Equal(wantStatus[i]), "request %d", i)
		if wantStatus[i] == modelv1.Status_STATUS_SUCCEED.String() {
			gm.Expect(resp.GetMetadata().GetGroup()).To(gm.Equal(group), "the response names the stream's metadata")
		}
	}

	want := &tracev1.QueryResponse{}
	if len(stored) > 0 {
		tr := &tracev1.Trace{TraceId: traceID}
		for _, s := range stored {
			sp := &tracev1.Span{Span: s["payload"].GetBinaryData(), SpanId: s["span_id"].GetStr().GetValue()}
			for _, name := range shapesProjection {
				v, ok := s[name]
				if !ok {
					v = null()
				}
				sp.Tags = append(sp.Tags, &modelv1.Tag{Key: name, Value: v})
			}
			tr.Spans = append(tr.Spans, sp)
		}
		want.Traces = []*tracev1.Trace{tr}
	}
	got, err := tracev1.NewTraceServiceClient(conn).Query(ctx, &tracev1.QueryRequest{
		Groups: []string{group}, Name: shapesTrace,
		TimeRange:     &modelv1.TimeRange{Begin: timestamppb.New(base.Add(-time.Hour)), End: timestamppb.New(base.Add(time.Hour))},
		Criteria:      cond("trace_id", eq, str(traceID)),
		TagProjection: shapesProjection,
	})
	gm.Expect(err).NotTo(gm.HaveOccurred(), "query: %v", status.Convert(err))
	sortSpans(got)
	gm.Expect(cmp.Diff(want, got, protocmp.Transform())).To(gm.BeEmpty(), "-want +got")
}
