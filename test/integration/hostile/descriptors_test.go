// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package hostile_test

import (
	"fmt"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// Every shard of every segment is a table holding several descriptors: groups of many shards
// together need more than the process may open. Before the descriptor guard, 12 groups of 64
// shards under ulimit -n 1024 ran the node out of descriptors within their first writes and
// Pebble panicked, ending the process.
var _ = Describe("Groups of many shards under ulimit -n 1024", Ordered, func() {
	const (
		groups   = 12
		shards   = 64
		perGroup = 256 // traces per group: their ids hash onto nearly every shard
		fdLimit  = 1024
	)
	var (
		s   *server
		mds []*commonv1.Metadata
		now time.Time
	)
	BeforeAll(func(ctx SpecContext) {
		s = startServer(helpers.ServerOptions{MaxOpenFiles: fdLimit})
		now = time.Now().Add(-time.Minute).Truncate(time.Millisecond)
		for g := 0; g < groups; g++ {
			name := fmt.Sprintf("wide-%d", g)
			sc := fixtureSchemas().ForGroup("test-trace-group", name)
			sc.Groups[0].ResourceOpts.ShardNum = shards
			Expect(helpers.CreateSchemas(ctx, s.conn, sc, false)).To(Succeed())
			mds = append(mds, s.writeFirst(ctx, name, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
				return swSpan(md, name+"_first", "a", "svc", 1, now)
			}))
		}
	})
	dumpOnFailure(func() *server { return s })

	It("takes every write of every group, closing idle tables of other groups for new ones", func(ctx SpecContext) {
		for g, md := range mds {
			reqs := make([]*tracev1.WriteRequest, 0, perGroup)
			for i := 0; i < perGroup; i++ {
				reqs = append(reqs, swSpan(md, fmt.Sprintf("w%d_%d", g, i), "a", "svc", int64(i), now.Add(time.Millisecond)))
			}
			for i, st := range s.writeStatuses(ctx, reqs...) {
				Expect(st).To(Equal(modelv1.Status_STATUS_SUCCEED.String()), "group %d, trace %d", g, i)
			}
		}
		fds, rss := processUsage(s.PID())
		fmt.Fprintf(GinkgoWriter, "%d groups x %d shards written: fds=%d rss_mib=%.1f\n", groups, shards, fds, float64(rss)/1024)
		Expect(fds).To(BeNumerically("<", fdLimit))
	})

	It("answers queries over every shard of every group, and keeps serving", func(ctx SpecContext) {
		for g := range mds {
			group := fmt.Sprintf("wide-%d", g)
			resp, err := s.trace.Query(ctx, &tracev1.QueryRequest{Groups: []string{group}, Name: "sw",
				TimeRange: &modelv1.TimeRange{Begin: timestamppb.New(now.Add(-time.Hour)), End: timestamppb.New(now.Add(time.Hour))},
				OrderBy:   &modelv1.QueryOrder{IndexRuleName: "duration", Sort: modelv1.Sort_SORT_DESC}, Limit: 3})
			Expect(err).NotTo(HaveOccurred(), "group %s", group)
			Expect(resp.GetTraces()).To(HaveLen(3))
			Expect(resp.GetTraces()[0].GetTraceId()).To(Equal(fmt.Sprintf("w%d_%d", g, perGroup-1)))
			Expect(s.queryByID(ctx, group, "sw", fmt.Sprintf("w%d_7", g))).To(HaveLen(1))
		}
		fds, _ := processUsage(s.PID())
		fmt.Fprintf(GinkgoWriter, "after queries of every group: fds=%d\n", fds)
		Expect(fds).To(BeNumerically("<", fdLimit))
	})
})

// A client that opens connections without end: before the connection budget, 1,100 idle TCP
// connections under ulimit -n 1024 took every descriptor the process had, and the next timed
// flush of a table ended it (Pebble panics when it cannot create its WAL).
var _ = Describe("A flood of connections under ulimit -n 1024", Ordered, func() {
	const fdLimit = 1024
	var (
		s     *server
		md    *commonv1.Metadata
		now   time.Time
		flood []net.Conn
	)
	BeforeAll(func(ctx SpecContext) {
		s = startServer(helpers.ServerOptions{MaxOpenFiles: fdLimit})
		sc := fixtureSchemas().ForGroup("test-trace-group", "flooded")
		Expect(helpers.CreateSchemas(ctx, s.conn, sc, false)).To(Succeed())
		now = time.Now().Add(-time.Minute).Truncate(time.Millisecond)
		md = s.writeFirst(ctx, "flooded", "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return swSpan(md, "before_flood", "a", "svc", 1, now)
		})
		DeferCleanup(func() {
			for _, c := range flood {
				_ = c.Close()
			}
		})
	})
	dumpOnFailure(func() *server { return s })

	It("keeps serving the clients it has, flushing its tables, while new connections past its budget are closed", func(ctx SpecContext) {
		for i := 0; i < fdLimit+76; i++ {
			c, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
			Expect(err).NotTo(HaveOccurred(), "the kernel accepts every connection into the backlog")
			flood = append(flood, c)
		}
		fds, _ := processUsage(s.PID())
		fmt.Fprintf(GinkgoWriter, "%d connections opened: server fds=%d\n", len(flood), fds)
		Expect(fds).To(BeNumerically("<", fdLimit*9/10), "half the descriptors at most go to connections")
		// The client connected before the flood writes, and the tables flush (after 1s) with
		// descriptors to spare.
		reqs := make([]*tracev1.WriteRequest, 0, 100)
		for i := 0; i < 100; i++ {
			reqs = append(reqs, swSpan(md, fmt.Sprintf("during_flood_%d", i), "a", "svc", int64(i), now.Add(time.Millisecond)))
		}
		for i, st := range s.writeStatuses(ctx, reqs...) {
			Expect(st).To(Equal(modelv1.Status_STATUS_SUCCEED.String()), "span %d", i)
		}
		time.Sleep(3 * time.Second)
		Expect(s.queryByID(ctx, "flooded", "sw", "during_flood_42")).To(HaveLen(1))
		Expect(s.queryByID(ctx, "flooded", "sw", "before_flood")).To(HaveLen(1))
	})

	It("takes new clients again once the flood ends", func(ctx SpecContext) {
		for _, c := range flood {
			Expect(c.Close()).To(Succeed())
		}
		flood = nil
		Eventually(func() error {
			conn, err := helpers.Dial(s.Addr)
			if err != nil {
				return err
			}
			defer conn.Close()
			_, err = tracev1.NewTraceServiceClient(conn).Query(ctx, &tracev1.QueryRequest{Groups: []string{"flooded"}, Name: "sw",
				Criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
					Name: "trace_id", Op: modelv1.Condition_BINARY_OP_EQ,
					Value: &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: "before_flood"}}},
				}}},
				TimeRange: &modelv1.TimeRange{Begin: timestamppb.New(now.Add(-time.Hour)), End: timestamppb.New(now.Add(time.Hour))}})
			return err
		}).WithContext(ctx).Should(Succeed())
	})
})
