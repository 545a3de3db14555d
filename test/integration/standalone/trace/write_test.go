// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"fmt"
	"io"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// The write specs use private copies of test-trace-group on the shared server, so that what they
// write never shows in the answers of the query table.
var _ = Describe("Write stream", Ordered, func() {
	const group = "write-stream"
	var (
		md   *commonv1.Metadata
		now  time.Time
		good []span
	)

	BeforeAll(func(ctx SpecContext) {
		Expect(helpers.CreateGroupCopy(ctx, sharedConn, "test-trace-group", group)).To(Succeed())
		now = time.Now().Truncate(time.Millisecond).Add(-time.Minute)
		first := span{traceID: "ws_000", spanID: "s0", service: "stream", duration: 10, ts: now}
		var err error
		md, err = helpers.WriteFirstUntilAccepted(ctx, sharedConn, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return first.request(md, 1)
		})
		Expect(err).NotTo(HaveOccurred())
		good = append(good, first)
	})

	It("fails a bad request alone and stores the requests around it", func(ctx SpecContext) {
		mk := func(n int) span {
			return span{
				traceID: fmt.Sprintf("ws_%03d", n), spanID: fmt.Sprintf("s%d", n), service: "stream",
				duration: int64(100 + n), ts: now.Add(time.Duration(n) * time.Millisecond),
			}
		}
		type step struct {
			req  *tracev1.WriteRequest
			want modelv1.Status
			good *span
		}
		var steps []step
		addGood := func(n int) {
			s := mk(n)
			steps = append(steps, step{req: s.request(md, uint64(n)), want: modelv1.Status_STATUS_SUCCEED, good: &s})
		}
		addBad := func(n int, want modelv1.Status, mutate func(r *tracev1.WriteRequest)) {
			r := mk(n).request(md, uint64(n))
			mutate(r)
			steps = append(steps, step{req: r, want: want})
		}
		addGood(1)
		addBad(2, modelv1.Status_STATUS_NOT_FOUND, func(r *tracev1.WriteRequest) {
			r.Metadata = &commonv1.Metadata{Group: group, Name: "no_such_trace"}
		})
		addGood(3)
		addBad(30, modelv1.Status_STATUS_NOT_FOUND, func(r *tracev1.WriteRequest) {
			r.Metadata = &commonv1.Metadata{Group: "no-such-group", Name: "sw"}
		})
		addBad(4, modelv1.Status_STATUS_INVALID_TIMESTAMP, func(r *tracev1.WriteRequest) {
			r.Tags[5] = strTag("slow") // duration is an INT
		})
		addGood(5)
		addBad(6, modelv1.Status_STATUS_INVALID_TIMESTAMP, func(r *tracev1.WriteRequest) {
			r.Tags[0] = nullTag() // no trace id
		})
		addGood(7)
		addBad(8, modelv1.Status_STATUS_INVALID_TIMESTAMP, func(r *tracev1.WriteRequest) {
			r.Tags[0] = strTag("") // an empty trace id
		})
		addGood(9)
		addBad(10, modelv1.Status_STATUS_INVALID_TIMESTAMP, func(r *tracev1.WriteRequest) {
			r.Tags[7] = tsTag(now.Add(time.Microsecond)) // below millisecond precision
		})
		addGood(11)
		addBad(12, modelv1.Status_STATUS_INVALID_TIMESTAMP, func(r *tracev1.WriteRequest) {
			r.Tags[7] = tsTag(now.Add(-10 * 24 * time.Hour)) // the group keeps 3 days
		})
		addGood(13)
		addBad(14, modelv1.Status_STATUS_EXPIRED_SCHEMA, func(r *tracev1.WriteRequest) {
			r.Metadata.ModRevision-- // a revision older than the loaded schema
		})
		addGood(15)
		addBad(16, modelv1.Status_STATUS_INVALID_TIMESTAMP, func(r *tracev1.WriteRequest) {
			r.Tags = r.Tags[:7] // no timestamp
		})
		addGood(17)
		addBad(18, modelv1.Status_STATUS_INVALID_TIMESTAMP, func(r *tracev1.WriteRequest) {
			r.Tags = append(r.Tags, strTag("one too many")) // more values than the schema has tags
		})
		addGood(19)

		reqs := make([]*tracev1.WriteRequest, len(steps))
		for i, s := range steps {
			reqs[i] = s.req
		}
		resps, err := helpers.WriteStream(ctx, sharedConn, reqs)
		Expect(err).NotTo(HaveOccurred())
		Expect(resps).To(HaveLen(len(steps)), "one response per request")
		got := map[uint64]string{}
		for _, r := range resps {
			Expect(got).NotTo(HaveKey(r.GetVersion()), "one response per version")
			got[r.GetVersion()] = r.GetStatus()
		}
		var ids []string
		for _, s := range steps {
			v := s.req.GetVersion()
			Expect(got[v]).To(Equal(s.want.String()), "status of request %d", v)
			ids = append(ids, fmt.Sprintf("ws_%03d", v))
			if s.good != nil {
				good = append(good, *s.good)
			}
		}
		ids = append(ids, "ws_000")
		// Acknowledged spans are queryable at once; refused ones are nowhere.
		expectQuery(ctx, sharedConn, byIDs(group, ids, "duration", "trace_id"),
			wantResponse(good, traceIDs(sortedSpans(good)), "duration", "trace_id"))
	})

	It("answers each request while the stream stays open", func(ctx SpecContext) {
		stream, err := tracev1.NewTraceServiceClient(sharedConn).Write(ctx)
		Expect(err).NotTo(HaveOccurred())
		recv := make(chan *tracev1.WriteResponse)
		recvErr := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			for {
				r, err := stream.Recv()
				if err != nil {
					recvErr <- err
					return
				}
				select {
				case recv <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
		var written []span
		for i := 1; i <= 5; i++ {
			s := span{traceID: "ws_open", spanID: fmt.Sprintf("o%d", i), service: "open", duration: int64(i), ts: now.Add(time.Duration(i) * time.Second)}
			Expect(stream.Send(s.request(md, uint64(100+i)))).To(Succeed())
			var r *tracev1.WriteResponse
			Eventually(recv).WithTimeout(10*time.Second).Should(Receive(&r), "the response to request %d comes before the next is sent", i)
			Expect(r.GetVersion()).To(Equal(uint64(100 + i)))
			Expect(r.GetStatus()).To(Equal(modelv1.Status_STATUS_SUCCEED.String()))
			Expect(proto.Equal(r.GetMetadata(), md)).To(BeTrue(), "the response echoes the metadata")
			written = append(written, s)
			// What is acknowledged is queryable while the stream is still open.
			expectQuery(ctx, sharedConn, byIDs(group, []string{"ws_open"}, "duration"), wantResponse(written, []string{"ws_open"}, "duration"))
		}
		Expect(stream.CloseSend()).To(Succeed())
		Eventually(recvErr).WithTimeout(10 * time.Second).Should(Receive(MatchError(io.EOF)))
	})

	It("answers once a span that a retrying client wrote twice", func(ctx SpecContext) {
		batch := []span{
			{traceID: "ws_retry", spanID: "r1", service: "retry", duration: 10, ts: now.Add(time.Second)},
			{traceID: "ws_retry", spanID: "r2", service: "retry", duration: 20, ts: now.Add(2 * time.Second)},
		}
		for range 2 { // the client never got the answers of the first attempt
			var reqs []*tracev1.WriteRequest
			for i, s := range batch {
				reqs = append(reqs, s.request(md, uint64(200+i)))
			}
			resps, err := helpers.WriteStream(ctx, sharedConn, reqs)
			Expect(err).NotTo(HaveOccurred())
			for _, r := range resps {
				Expect(r.GetStatus()).To(Equal(modelv1.Status_STATUS_SUCCEED.String()))
			}
		}
		expectQuery(ctx, sharedConn, byIDs(group, []string{"ws_retry"}, "duration"), wantResponse(batch, []string{"ws_retry"}, "duration"))
		// A span that shares an id but differs is another span, kept.
		other := span{traceID: "ws_retry", spanID: "r1", service: "retry", duration: 11, ts: now.Add(time.Second)}
		resps, err := helpers.WriteStream(ctx, sharedConn, []*tracev1.WriteRequest{other.request(md, 300)})
		Expect(err).NotTo(HaveOccurred())
		Expect(resps[0].GetStatus()).To(Equal(modelv1.Status_STATUS_SUCCEED.String()))
		expectQuery(ctx, sharedConn, byIDs(group, []string{"ws_retry"}, "duration"),
			wantResponse(append(batch, other), []string{"ws_retry"}, "duration"))
	})
})

// sortedSpans returns spans ordered by trace id (the order of a query by trace ids).
func sortedSpans(spans []span) []span {
	out := append([]span(nil), spans...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].traceID < out[j-1].traceID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

var _ = Describe("Schema change while writing", Ordered, func() {
	const group = "schema-change"
	var (
		oldMD   *commonv1.Metadata
		newMD   *commonv1.Metadata
		now     time.Time
		written []span
	)

	BeforeAll(func(ctx SpecContext) {
		Expect(helpers.CreateGroupCopy(ctx, sharedConn, "test-trace-group", group)).To(Succeed())
		now = time.Now().Truncate(time.Millisecond).Add(-2 * time.Minute)
	})

	It("answers a tag added to the schema as null for the spans written before", func(ctx SpecContext) {
		before := []span{
			{traceID: "sc_001", spanID: "a", service: "old", duration: 100, ts: now},
			{traceID: "sc_001", spanID: "b", service: "old", duration: 300, ts: now.Add(time.Second)},
			{traceID: "sc_002", spanID: "a", service: "old", duration: 200, ts: now.Add(2 * time.Second)},
		}
		var err error
		oldMD, err = helpers.WriteFirstUntilAccepted(ctx, sharedConn, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return before[0].request(md, 1)
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(helpers.WriteAllSucceed(ctx, sharedConn, requests(oldMD, before[1:], 2))).To(Succeed())
		written = append(written, before...)

		// Add a STRING tag at the end of the schema, after the timestamp.
		traces := databasev1.NewTraceRegistryServiceClient(sharedConn)
		got, err := traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: group, Name: "sw"}})
		Expect(err).NotTo(HaveOccurred())
		t := got.GetTrace()
		t.Tags = append(t.Tags, &databasev1.TraceTagSpec{Name: "extra", Type: databasev1.TagType_TAG_TYPE_STRING})
		upd, err := traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: t})
		Expect(err).NotTo(HaveOccurred())
		Expect(upd.GetModRevision()).To(BeNumerically(">", oldMD.GetModRevision()))

		after := []span{
			{traceID: "sc_003", spanID: "a", service: "new", duration: 400, ts: now.Add(3 * time.Second), extra: strTag("x1")},
			{traceID: "sc_003", spanID: "b", service: "new", duration: 150, ts: now.Add(4 * time.Second), extra: strTag("x2")},
			// The new revision also accepts a span without the trailing tag: it reads as null.
			{traceID: "sc_004", spanID: "a", service: "new", duration: 250, ts: now.Add(5 * time.Second)},
			// And one that extends a trace written before the change.
			{traceID: "sc_002", spanID: "b", service: "new", duration: 50, ts: now.Add(6 * time.Second), extra: strTag("x3")},
		}
		newMD, err = helpers.WriteFirstUntilAccepted(ctx, sharedConn, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return after[0].request(md, 10)
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(newMD.GetModRevision()).To(Equal(upd.GetModRevision()))
		Expect(helpers.WriteAllSucceed(ctx, sharedConn, requests(newMD, after[1:], 11))).To(Succeed())
		written = append(written, after...)

		// A writer still on the old revision is told its schema expired; nothing is stored.
		stale := span{traceID: "sc_stale", spanID: "a", service: "old", duration: 1, ts: now}
		resps, err := helpers.WriteStream(ctx, sharedConn, []*tracev1.WriteRequest{stale.request(oldMD, 20)})
		Expect(err).NotTo(HaveOccurred())
		Expect(resps).To(HaveLen(1))
		Expect(resps[0].GetStatus()).To(Equal(modelv1.Status_STATUS_EXPIRED_SCHEMA.String()))

		ids := []string{"sc_001", "sc_002", "sc_003", "sc_004", "sc_stale"}
		expectQuery(ctx, sharedConn, byIDs(group, ids, "extra", "duration", "trace_id"),
			wantResponse(written, []string{"sc_001", "sc_002", "sc_003", "sc_004"}, "extra", "duration", "trace_id"))
		// Old and new spans rank together on an existing rule; longest: 003:400 001:300 004:250 002:200.
		expectQuery(ctx, sharedConn, ordered(group, "duration", modelv1.Sort_SORT_DESC, 10, nil, "extra"),
			wantResponse(written, []string{"sc_003", "sc_001", "sc_004", "sc_002"}, "extra"))
		// A condition on the new tag sees only the spans that have it.
		expectQuery(ctx, sharedConn, ordered(group, "timestamp", modelv1.Sort_SORT_ASC, 10, condition("extra", modelv1.Condition_BINARY_OP_EQ, strTag("x3"))),
			wantResponse(written, []string{"sc_002"}))
	})

	It("applies a new index rule binding to the spans written after it", func(ctx SpecContext) {
		rule := &databasev1.IndexRule{
			Metadata: &commonv1.Metadata{Group: group, Name: "latency"},
			Tags:     []string{"service_id", "duration"},
			Type:     databasev1.IndexRule_TYPE_TREE,
		}
		_, err := databasev1.NewIndexRuleRegistryServiceClient(sharedConn).Create(ctx,
			&databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: rule})
		Expect(err).NotTo(HaveOccurred())
		s, err := helpers.ReadSchemas()
		Expect(err).NotTo(HaveOccurred())
		binding := proto.Clone(s.ForGroup("test-trace-group", group).Bindings[0]).(*databasev1.IndexRuleBinding)
		binding.Metadata.Name, binding.Rules = "latency-binding", []string{"latency"}
		_, err = databasev1.NewIndexRuleBindingRegistryServiceClient(sharedConn).Create(ctx,
			&databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: binding})
		Expect(err).NotTo(HaveOccurred())
		// The rule can order queries once the server has applied the binding.
		Eventually(func() error {
			_, err := queryTraces(ctx, sharedConn, ordered(group, "latency", modelv1.Sort_SORT_DESC, 1, nil))
			return err
		}).Should(Succeed())

		late := []span{
			{traceID: "sc_010", spanID: "a", service: "late", duration: 300, ts: now.Add(10 * time.Second), extra: strTag("l")},
			{traceID: "sc_011", spanID: "a", service: "late", duration: 700, ts: now.Add(11 * time.Second), extra: strTag("l")},
			{traceID: "sc_011", spanID: "b", service: "late", duration: 20, ts: now.Add(12 * time.Second), extra: strTag("l")},
			{traceID: "sc_012", spanID: "a", service: "late", duration: 500, ts: now.Add(13 * time.Second), extra: strTag("l")},
		}
		Expect(helpers.WriteAllSucceed(ctx, sharedConn, requests(newMD, late, 30))).To(Succeed())
		written = append(written, late...)
		late1 := condition("service_id", modelv1.Condition_BINARY_OP_EQ, strTag("late"))
		// Longest: 011:700 012:500 010:300; shortest: 011:20 010:300 012:500.
		expectQuery(ctx, sharedConn, ordered(group, "latency", modelv1.Sort_SORT_DESC, 10, late1, "duration"),
			wantResponse(written, []string{"sc_011", "sc_012", "sc_010"}, "duration"))
		expectQuery(ctx, sharedConn, ordered(group, "latency", modelv1.Sort_SORT_ASC, 10, late1, "duration"),
			wantResponse(written, []string{"sc_011", "sc_010", "sc_012"}, "duration"))
		// The rules bound before still index the new spans.
		expectQuery(ctx, sharedConn, ordered(group, "duration", modelv1.Sort_SORT_DESC, 2, late1),
			wantResponse(written, []string{"sc_011", "sc_012"}))
	})
})

func condition(name string, op modelv1.Condition_BinaryOp, v *modelv1.TagValue) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{Name: name, Op: op, Value: v}}}
}

// Trace schemas of one group share its storage and may share its index rules: a trace id written
// to both must still answer each schema with its own spans only.
var _ = Describe("Two trace schemas in one group", Ordered, func() {
	const group = "two-schemas"
	now := time.Now().Truncate(time.Millisecond).Add(-3 * time.Minute)
	swSpans := []span{
		{traceID: "both", spanID: "a", service: "one", duration: 100, ts: now},
		{traceID: "only_sw", spanID: "a", service: "one", duration: 50, ts: now.Add(time.Second)},
	}
	sw2Spans := []span{
		{traceID: "both", spanID: "b", service: "two", duration: 900, ts: now.Add(2 * time.Second)},
		{traceID: "only_sw2", spanID: "a", service: "two", duration: 5000, ts: now.Add(3 * time.Second)},
	}

	BeforeAll(func(ctx SpecContext) {
		s, err := helpers.ReadSchemas()
		Expect(err).NotTo(HaveOccurred())
		c := s.ForGroup("test-trace-group", group)
		// A second schema, sw2, bound to the same two rules.
		sw2 := proto.Clone(c.Traces[0]).(*databasev1.Trace)
		sw2.Metadata.Name = "sw2"
		b2 := proto.Clone(c.Bindings[0]).(*databasev1.IndexRuleBinding)
		b2.Metadata.Name, b2.Subject.Name = "sw2-binding", "sw2"
		c.Traces = append(c.Traces, sw2)
		c.Bindings = append(c.Bindings, b2)
		Expect(helpers.CreateSchemas(ctx, sharedConn, c, false)).To(Succeed())
		for _, w := range []struct {
			name  string
			spans []span
		}{{"sw", swSpans}, {"sw2", sw2Spans}} {
			md, err := helpers.WriteFirstUntilAccepted(ctx, sharedConn, group, w.name, func(md *commonv1.Metadata) *tracev1.WriteRequest {
				return w.spans[0].request(md, 1)
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(helpers.WriteAllSucceed(ctx, sharedConn, requests(md, w.spans[1:], 2))).To(Succeed())
		}
	})

	named := func(req *tracev1.QueryRequest, name string) *tracev1.QueryRequest {
		req.Name = name
		return req
	}

	It("answers a query by ids with the schema's own spans", func(ctx SpecContext) {
		ids := []string{"both", "only_sw", "only_sw2"}
		expectQuery(ctx, sharedConn, named(byIDs(group, ids, "duration"), "sw"), wantResponse(swSpans, []string{"both", "only_sw"}, "duration"))
		expectQuery(ctx, sharedConn, named(byIDs(group, ids, "duration"), "sw2"), wantResponse(sw2Spans, []string{"both", "only_sw2"}, "duration"))
	})

	It("ranks only the schema's own spans on a shared rule", func(ctx SpecContext) {
		// sw: both:100 only_sw:50; sw2: only_sw2:5000 both:900.
		expectQuery(ctx, sharedConn, named(ordered(group, "duration", modelv1.Sort_SORT_DESC, 10, nil, "duration"), "sw"),
			wantResponse(swSpans, []string{"both", "only_sw"}, "duration"))
		expectQuery(ctx, sharedConn, named(ordered(group, "duration", modelv1.Sort_SORT_DESC, 10, nil, "duration"), "sw2"),
			wantResponse(sw2Spans, []string{"only_sw2", "both"}, "duration"))
	})
})

// A trace whose spans lie in two daily segments is one trace: it ranks by its best span over both
// and comes back whole.
var _ = Describe("Traces across segments", Ordered, func() {
	const group = "two-days"
	now := time.Now().Truncate(time.Millisecond)
	// 25 hours back is always in the previous daily segment; the group keeps 3 days.
	spans := []span{
		{traceID: "x1", spanID: "old", service: "s", duration: 900, ts: now.Add(-25 * time.Hour)},
		{traceID: "x1", spanID: "new", service: "s", duration: 100, ts: now.Add(-time.Minute)},
		{traceID: "x2", spanID: "new", service: "s", duration: 500, ts: now.Add(-2 * time.Minute)},
		{traceID: "x3", spanID: "old", service: "s", duration: 300, ts: now.Add(-26 * time.Hour)},
	}

	BeforeAll(func(ctx SpecContext) {
		Expect(helpers.CreateGroupCopy(ctx, sharedConn, "test-trace-group", group)).To(Succeed())
		md, err := helpers.WriteFirstUntilAccepted(ctx, sharedConn, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return spans[0].request(md, 1)
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(helpers.WriteAllSucceed(ctx, sharedConn, requests(md, spans[1:], 2))).To(Succeed())
	})

	It("returns the spans of every segment by trace id", func(ctx SpecContext) {
		expectQuery(ctx, sharedConn, byIDs(group, []string{"x3", "x2", "x1"}, "duration"),
			wantResponse(spans, []string{"x1", "x2", "x3"}, "duration"))
	})

	It("ranks over both segments", func(ctx SpecContext) {
		// Longest: x1:900 (yesterday) x2:500 x3:300; latest: x1:-1m x2:-2m x3:-26h; earliest:
		// x3:-26h x1:-25h x2:-2m.
		expectQuery(ctx, sharedConn, ordered(group, "duration", modelv1.Sort_SORT_DESC, 10, nil), wantResponse(spans, []string{"x1", "x2", "x3"}))
		expectQuery(ctx, sharedConn, ordered(group, "timestamp", modelv1.Sort_SORT_DESC, 10, nil), wantResponse(spans, []string{"x1", "x2", "x3"}))
		expectQuery(ctx, sharedConn, ordered(group, "timestamp", modelv1.Sort_SORT_ASC, 10, nil), wantResponse(spans, []string{"x3", "x1", "x2"}))
	})

	It("returns a whole trace when only some of its spans lie in the time range", func(ctx SpecContext) {
		// In the last hour: x1:100, x2:500, longest first; x1 comes back with its span of yesterday.
		req := ordered(group, "duration", modelv1.Sort_SORT_DESC, 10, nil, "duration")
		req.TimeRange = &modelv1.TimeRange{Begin: timestamppb.New(now.Add(-time.Hour)), End: timestamppb.New(now)}
		expectQuery(ctx, sharedConn, req, wantResponse(spans, []string{"x2", "x1"}, "duration"))
	})
})
