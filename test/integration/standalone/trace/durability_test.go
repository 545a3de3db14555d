// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// makeSpans makes traces×perTrace spans named <prefix>_<n>; durations are distinct so that an
// order by duration has one answer.
func makeSpans(prefix string, traces, perTrace int, at time.Time) []span {
	var out []span
	for t := 0; t < traces; t++ {
		for s := 0; s < perTrace; s++ {
			n := t*perTrace + s
			out = append(out, span{
				traceID: fmt.Sprintf("%s_%03d", prefix, t), spanID: fmt.Sprintf("span_%d", s),
				service: "durable", state: int64(s % 2), duration: int64(1000 + n*7%997),
				ts: at.Add(time.Duration(n) * time.Millisecond),
			})
		}
	}
	return out
}

// longest returns the ids of the n traces with the longest span, longest first.
func longest(spans []span, n int) []string {
	best := map[string]int64{}
	for _, s := range spans {
		if s.duration > best[s.traceID] {
			best[s.traceID] = s.duration
		}
	}
	ids := traceIDs(spans)
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && (best[ids[j]] > best[ids[j-1]] || best[ids[j]] == best[ids[j-1]] && ids[j] < ids[j-1]); j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	if len(ids) > n {
		ids = ids[:n]
	}
	return ids
}

// writeAcknowledged sends every span on one stream and returns once each has been acknowledged
// with STATUS_SUCCEED, leaving the stream open: the caller kills the server right away.
func writeAcknowledged(conn *grpc.ClientConn, md *commonv1.Metadata, spans []span, firstVersion uint64) {
	GinkgoHelper()
	stream, err := tracev1.NewTraceServiceClient(conn).Write(testCtx())
	Expect(err).NotTo(HaveOccurred())
	sendErr := make(chan error, 1)
	go func() {
		for _, r := range requests(md, spans, firstVersion) {
			if err := stream.Send(r); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- nil
	}()
	for range spans {
		r, err := stream.Recv()
		Expect(err).NotTo(HaveOccurred())
		Expect(r.GetStatus()).To(Equal(modelv1.Status_STATUS_SUCCEED.String()), "version %d", r.GetVersion())
	}
	Expect(<-sendErr).To(Succeed())
}

var _ = Describe("Durability", Ordered, func() {
	const group = "durable"
	var (
		srv     *helpers.Server
		conn    *grpc.ClientConn
		md      *commonv1.Metadata
		written []span
		now     = time.Now().Truncate(time.Millisecond).Add(-5 * time.Minute)
	)
	dumpOnFailure(func() *helpers.Server { return srv })

	BeforeAll(func(ctx SpecContext) {
		srv, conn = startOwnServer()
		Expect(helpers.CreateGroupCopy(ctx, conn, "test-trace-group", group)).To(Succeed())
		first := span{traceID: "d_first", spanID: "s", service: "durable", duration: 1, ts: now}
		var err error
		md, err = helpers.WriteFirstUntilAccepted(ctx, conn, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return first.request(md, 1)
		})
		Expect(err).NotTo(HaveOccurred())
		written = append(written, first)
	})

	// expectAllWritten queries every written trace by id and the top of the duration index, once
	// the restarted server has loaded its schemas.
	expectAllWritten := func(ctx SpecContext) {
		GinkgoHelper()
		ids := traceIDs(sortedSpans(written))
		want := wantResponse(written, ids, "duration", "state", "trace_id", "span_id")
		Eventually(func(g Gomega) {
			resp, err := queryTraces(ctx, conn, byIDs(group, ids, "duration", "state", "trace_id", "span_id"))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(equalResponse(want)(resp)).To(BeEmpty(), "-want +got")
		}).Should(Succeed())
		top := longest(written, 10)
		expectQuery(ctx, conn, ordered(group, "duration", modelv1.Sort_SORT_DESC, 10, nil), wantResponse(written, top))
		// Without a limit a query returns 20 traces (there are more than 20 here).
		Expect(len(traceIDs(written))).To(BeNumerically(">", 20))
		expectQuery(ctx, conn, ordered(group, "duration", modelv1.Sort_SORT_DESC, 0, nil), wantResponse(written, longest(written, 20)))
	}

	It("finds every acknowledged span after the server is killed", func(ctx SpecContext) {
		spans := makeSpans("d_kill", 40, 10, now.Add(time.Second))
		writeAcknowledged(conn, md, spans, 100)
		written = append(written, spans...)
		Expect(srv.Kill()).To(Succeed())
		Expect(srv.Start()).To(Succeed())
		expectAllWritten(ctx)
	})

	It("finds everything after a clean restart", func(ctx SpecContext) {
		spans := makeSpans("d_term", 20, 5, now.Add(2*time.Second))
		Expect(helpers.WriteAllSucceed(ctx, conn, requests(md, spans, 1000))).To(Succeed())
		written = append(written, spans...)
		Expect(srv.Restart()).To(Succeed(), "SIGTERM ends the server cleanly")
		expectAllWritten(ctx)
	})

	It("accepts writes after the restarts", func(ctx SpecContext) {
		spans := makeSpans("d_after", 3, 2, now.Add(3*time.Second))
		_, err := helpers.WriteFirstUntilAccepted(ctx, conn, group, "sw", func(m *commonv1.Metadata) *tracev1.WriteRequest {
			return spans[0].request(m, 2000)
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(helpers.WriteAllSucceed(ctx, conn, requests(md, spans[1:], 2001))).To(Succeed())
		written = append(written, spans...)
		expectAllWritten(ctx)
	})
})
