// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"fmt"
	"sort"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/testing/protocmp"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	casestrace "github.com/apache/skywalking-banyandb/test/cases/trace"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// faultGroup is a private copy of test-trace-group for the spans the fault specs write, so that
// the answers of the case table stay those of the fixtures.
const faultGroup = "cluster-faults"

// fixtureSet is the traces of the span fixtures in one group, and the tags a by-id query of them
// projects.
type fixtureSet struct {
	group, name string
	ids         []string
	projection  []string
}

var fixtureSets = []fixtureSet{
	{
		group: groupSW, name: traceSW,
		ids:        []string{"trace_001", "trace_002", "trace_003", "trace_004", "trace_005", "trace_006", "trace_007", "trace_008"},
		projection: []string{"state", "service_id", "service_instance_id", "endpoint_id", "duration", "timestamp", "trace_id", "span_id"},
	},
	{
		group: groupUpdated, name: traceSW,
		ids:        []string{"trace_009", "trace_010"},
		projection: []string{"state", "service_id", "endpoint_id", "duration", "error_message", "timestamp", "trace_id", "span_id"},
	},
	{
		group: groupZipkin, name: traceZipkin,
		ids:        []string{"zipkin_trace_001", "zipkin_trace_002", "zipkin_trace_003"},
		projection: []string{"operation_name", "kind", "duration", "query", "timestamp", "trace_id", "span_id"},
	},
}

func conn1() *grpc.ClientConn { return cl.conn }
func conn2() *grpc.ClientConn { return cl.conn2 }
func base() time.Time         { return cl.base }

// answer is the by-id answer of every fixture trace of the set, with its tags.
func (f fixtureSet) answer(conn *grpc.ClientConn) (*tracev1.QueryResponse, error) {
	return query(conn, byIDsRequest(f.group, f.name, f.ids, f.projection...))
}

// orderRule is an index rule of the set's trace to rank by.
func (f fixtureSet) orderRule() string {
	if f.name == traceZipkin {
		return "zipkin-timestamp"
	}
	return "duration"
}

// shards returns the shards of the set's traces.
func (f fixtureSet) shards() map[int]bool {
	out := map[int]bool{}
	for _, id := range f.ids {
		out[shardOf(id)] = true
	}
	return out
}

// ensureWhole starts the data nodes that are not running (a fault spec that failed half-way may
// leave one down) and waits until the liaison routes to both again.
func ensureWhole() {
	GinkgoHelper()
	for _, n := range cl.data {
		if !n.Running() {
			Expect(n.Start()).To(Succeed())
		}
	}
	waitLiaisonNodes(cl.conn, 2)
}

// The containers run in the order they are written (Ginkgo keeps the order of the specs inside a
// top-level container unless --randomize-all is given): the fixture answers first, then the
// outage, then the same answers after the restart and through a second liaison.
var _ = Describe("A cluster of two data nodes and a liaison", func() {
	Context("through the liaison", func() {
		casestrace.RegisterQueryCases(conn1, base)
		casestrace.RegisterHTTPQueryCases(func() string { return cl.liaison.HTTPAddr }, base)
	})

	Context("API 0.10 writes through the liaison", func() {
		casestrace.RegisterWriteShapeCases(conn1, "v010-shapes")
	})

	Context("group administration through the liaison", Ordered, func() {
		registerGroupAdminSpecs()
	})

	It("spreads the fixture data over both data nodes", func() {
		holds := map[int]bool{}
		for _, f := range fixtureSets {
			own := owners(f.group)
			Expect(own).To(HaveLen(len(f.shards())), "group %s: shards with files %v, shards of its traces %v", f.group, own, f.shards())
			for shard, nodes := range own {
				Expect(f.shards()).To(HaveKey(shard), "group %s has files of shard %d, which none of its traces has", f.group, shard)
				Expect(nodes).To(HaveLen(1), "group %s shard %d has files on data nodes %v", f.group, shard, nodes)
				holds[nodes[0]] = true
			}
			if len(own) == shardNum {
				Expect(own[0][0]).NotTo(Equal(own[1][0]), "group %s: both shards are on data node %d", f.group, own[0][0])
			}
			for i, n := range cl.data {
				files, err := shardFiles(n, f.group)
				Expect(err).NotTo(HaveOccurred())
				for shard, size := range files {
					Expect(size).To(BeNumerically(">", 1024), "group %s shard %d on data node %d holds %d bytes", f.group, shard, i, size)
				}
			}
			// Each node answers exactly the fixture traces of its shards, with all their spans.
			all, err := queryIDs(cl.conn, f.group, f.name, f.ids)
			Expect(err).NotTo(HaveOccurred())
			Expect(all).To(HaveLen(len(f.ids)))
			for i, n := range cl.data {
				held, err := queryNode(n, f.group, f.name, f.ids)
				Expect(err).NotTo(HaveOccurred())
				want := make(spanIDs)
				for _, id := range f.ids {
					if own[shardOf(id)][0] == i {
						want[id] = all[id]
					}
				}
				Expect(held).To(Equal(want), "group %s: the traces data node %d holds", f.group, i)
			}
		}
		Expect(holds).To(HaveLen(len(cl.data)), "data nodes holding fixture data: %v", holds)
	})

	Context("when a data node is killed", Ordered, func() {
		var (
			w        *spanWriter
			victim   int
			survivor int
			// victimIDs and survivorIDs are the fault traces whose shard lived on the victim and
			// on the survivor before the kill.
			victimIDs, survivorIDs []string
			allIDs                 []string
			killedAt               time.Time
			// before is the by-id answer of the fixture traces of each group before the kill.
			before = map[string]*tracev1.QueryResponse{}
		)

		BeforeAll(func() {
			ctx, cancel := contextWithTimeout(setupTimeout)
			defer cancel()
			Expect(helpers.CreateGroupCopy(ctx, cl.conn, groupSW, faultGroup)).To(Succeed())
			byShard := map[int][]string{}
			for i := 0; len(byShard[0]) < 3 || len(byShard[1]) < 3; i++ {
				id := fmt.Sprintf("fault_trace_%02d", i)
				byShard[shardOf(id)] = append(byShard[shardOf(id)], id)
			}
			allIDs = append(append(allIDs, byShard[0]...), byShard[1]...)
			sort.Strings(allIDs)

			md, err := helpers.GetTraceMetadata(ctx, cl.conn, faultGroup, traceSW)
			Expect(err).NotTo(HaveOccurred())
			w = &spanWriter{md: md, acked: spanIDs{}}
			// The first span is retried until every node has loaded the new group.
			Eventually(func() (map[string]string, error) {
				r, err := w.write([]spanReq{{traceID: allIDs[0], spanID: allIDs[0] + "_first"}}, 10*time.Second)
				return r.status, err
			}).WithTimeout(settleTimeout).Should(HaveEach(modelv1.Status_STATUS_SUCCEED.String()))
			r, err := w.write(spansFor(allIDs, "before"), 10*time.Second)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.status).To(HaveEach(modelv1.Status_STATUS_SUCCEED.String()))

			own := owners(faultGroup)
			Expect(own).To(HaveLen(shardNum), "shards of %s with files: %v", faultGroup, own)
			Expect(own[0]).To(HaveLen(1))
			Expect(own[1]).To(HaveLen(1))
			Expect(own[0][0]).NotTo(Equal(own[1][0]), "both shards of %s are on data node %d", faultGroup, own[0][0])
			victim, survivor = own[0][0], own[1][0]
			victimIDs, survivorIDs = byShard[0], byShard[1]

			for _, f := range fixtureSets {
				before[f.group], err = f.answer(cl.conn)
				Expect(err).NotTo(HaveOccurred())
				Expect(before[f.group].GetTraces()).To(HaveLen(len(f.ids)))
			}
			got, err := queryIDs(cl.conn, faultGroup, traceSW, allIDs)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(w.acked))
		})

		It("answers the writes of the dead node's shards promptly with a failure and stores the others", func() {
			Expect(cl.data[victim].Kill()).To(Succeed())
			killedAt = time.Now()
			By(fmt.Sprintf("killed data node %s; its shard of %s holds %v", cl.data[victim].Name, faultGroup, victimIDs))

			// One stream mixing both shards, then one with the dead node's traces alone.
			mixed, err := w.write(spansFor(allIDs, "outage"), 2*promptly)
			Expect(err).NotTo(HaveOccurred())
			alone, err := w.write(spansFor(victimIDs, "outage_alone"), 2*promptly)
			Expect(err).NotTo(HaveOccurred())
			sinceKill := time.Since(killedAt)
			GinkgoWriter.Printf("outage writes: mixed stream %s, dead-shard stream %s, %s after the kill; statuses %v %v\n",
				mixed.took, alone.took, sinceKill, mixed.status, alone.status)
			Expect(mixed.took).To(BeNumerically("<", promptly), "the mixed stream took %s", mixed.took)
			Expect(alone.took).To(BeNumerically("<", promptly), "the dead-shard stream took %s", alone.took)
			Expect(sinceKill).To(BeNumerically("<", leaseTTL),
				"the outage writes ended %s after the kill: the lease may have lapsed, so they prove nothing", sinceKill)
			for _, id := range victimIDs {
				for _, s := range []string{mixed.status[id+"_outage"], alone.status[id+"_outage_alone"]} {
					Expect(s).NotTo(Equal(modelv1.Status_STATUS_SUCCEED.String()), "a span of %s (dead node's shard)", id)
					Expect(s).NotTo(BeEmpty())
				}
			}
			for _, id := range survivorIDs {
				Expect(mixed.status[id+"_outage"]).To(Equal(modelv1.Status_STATUS_SUCCEED.String()), "a span of %s (live node's shard)", id)
			}
		})

		It("answers queries from the live node during the outage", func() {
			got, err := queryIDs(cl.conn, faultGroup, traceSW, allIDs)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(w.acked.only(survivorIDs)))

			for _, f := range fixtureSets {
				own := owners(f.group)
				var live []string
				for _, id := range f.ids {
					if own[shardOf(id)][0] == survivor {
						live = append(live, id)
					}
				}
				resp, err := f.answer(cl.conn)
				Expect(err).NotTo(HaveOccurred())
				want := &tracev1.QueryResponse{Traces: []*tracev1.Trace{}}
				for _, t := range before[f.group].GetTraces() {
					if own[shardOf(t.GetTraceId())][0] == survivor {
						want.Traces = append(want.Traces, t)
					}
				}
				Expect(cmp.Diff(want, resp, protocmp.Transform())).To(BeEmpty(), "group %s during the outage: -want +got", f.group)

				// A ranked query answers too, from the live node's traces.
				ranked, err := query(cl.conn, &tracev1.QueryRequest{
					Groups: []string{f.group}, Name: f.name, TimeRange: allTime(), Limit: 100,
					OrderBy: &modelv1.QueryOrder{IndexRuleName: f.orderRule(), Sort: modelv1.Sort_SORT_DESC},
				})
				Expect(err).NotTo(HaveOccurred())
				rankedIDs := []string{}
				for _, t := range ranked.GetTraces() {
					rankedIDs = append(rankedIDs, t.GetTraceId())
				}
				Expect(rankedIDs).To(ConsistOf(live), "group %s ranked during the outage", f.group)
			}
		})

		It("stores the dead node's shards on the live node once its lease lapses", func() {
			probe := 0
			var slowest time.Duration
			Eventually(func() (string, error) {
				probe++
				r, err := w.write([]spanReq{{traceID: victimIDs[0], spanID: fmt.Sprintf("%s_probe_%03d", victimIDs[0], probe)}}, 2*promptly)
				slowest = max(slowest, r.took)
				for _, s := range r.status {
					return s, err
				}
				return "", err
			}).WithTimeout(settleTimeout).Should(Equal(modelv1.Status_STATUS_SUCCEED.String()))
			GinkgoWriter.Printf("writes of the dead node's shard succeed again %s after the kill (%d probes, slowest %s)\n",
				time.Since(killedAt), probe, slowest)
			Expect(slowest).To(BeNumerically("<", promptly), "a probe write took %s", slowest)
			Expect(liaisonNodes(cl.conn)).To(Equal(1))

			r, err := w.write(spansFor(allIDs, "lapsed"), 2*promptly)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.status).To(HaveEach(modelv1.Status_STATUS_SUCCEED.String()))
			Expect(r.took).To(BeNumerically("<", promptly))

			files, err := shardFiles(cl.data[survivor], faultGroup)
			Expect(err).NotTo(HaveOccurred())
			Expect(files).To(HaveKey(0), "the live node should now hold shard 0 of %s", faultGroup)

			got, err := queryIDs(cl.conn, faultGroup, traceSW, allIDs)
			Expect(err).NotTo(HaveOccurred())
			want := w.acked.only(survivorIDs)
			for id, spans := range w.acked.only(victimIDs) {
				for _, s := range spans {
					if s != id+"_first" && s != id+"_before" {
						want[id] = append(want[id], s)
					}
				}
			}
			Expect(got).To(Equal(want))
		})

		It("answers every acknowledged span again once the dead node is back", func() {
			Expect(cl.data[victim].Start()).To(Succeed())
			waitLiaisonNodes(cl.conn, 2)
			Eventually(func() (spanIDs, error) { return queryIDs(cl.conn, faultGroup, traceSW, allIDs) }).
				WithTimeout(settleTimeout).Should(Equal(w.acked), "spans acknowledged before, during and after the outage")
			for _, f := range fixtureSets {
				Eventually(func() (string, error) {
					resp, err := f.answer(cl.conn)
					return cmp.Diff(before[f.group], resp, protocmp.Transform()), err
				}).WithTimeout(settleTimeout).Should(BeEmpty(), "group %s after the restart: -before +after", f.group)
			}

			r, err := w.write(spansFor(allIDs, "restarted"), 2*promptly)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.status).To(HaveEach(modelv1.Status_STATUS_SUCCEED.String()))
			got, err := queryIDs(cl.conn, faultGroup, traceSW, allIDs)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(w.acked))
			// A trace matches a filter when one of its spans does, and is then returned whole: here
			// only the spans written since the restart match, and the older spans of the dead node's
			// traces are on the other node.
			var minRestarted int64 = 1 << 62
			for _, id := range allIDs {
				minRestarted = min(minRestarted, w.durations[id+"_restarted"])
			}
			recent := &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
				Name: "duration", Op: modelv1.Condition_BINARY_OP_GE,
				Value: &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: minRestarted}}},
			}}}
			filtered, err := query(cl.conn, &tracev1.QueryRequest{
				Groups: []string{faultGroup}, Name: traceSW, TimeRange: allTime(), Limit: 100, Criteria: recent,
				OrderBy: &modelv1.QueryOrder{IndexRuleName: "timestamp", Sort: modelv1.Sort_SORT_DESC},
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(spanIDsOf(filtered.GetTraces())).To(Equal(w.acked), "ordered by timestamp, spans written since the restart")
			byIDs := byIDsRequest(faultGroup, traceSW, allIDs)
			byIDs.Criteria = &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
				Op: modelv1.LogicalExpression_LOGICAL_OP_AND, Left: byIDs.Criteria, Right: recent,
			}}}
			filtered, err = query(cl.conn, byIDs)
			Expect(err).NotTo(HaveOccurred())
			Expect(spanIDsOf(filtered.GetTraces())).To(Equal(w.acked), "by ids, spans written since the restart")

			// A ranked query returns its traces whole, though the spans of the dead node's traces
			// are now on both nodes.
			for _, asc := range []bool{false, true} {
				sort := modelv1.Sort_SORT_DESC
				if asc {
					sort = modelv1.Sort_SORT_ASC
				}
				for limit := 1; limit <= len(allIDs); limit++ {
					resp, err := query(cl.conn, &tracev1.QueryRequest{
						Groups: []string{faultGroup}, Name: traceSW, TimeRange: allTime(), Limit: uint32(limit),
						OrderBy: &modelv1.QueryOrder{IndexRuleName: "duration", Sort: sort},
					})
					Expect(err).NotTo(HaveOccurred())
					Expect(spanIDsOf(resp.GetTraces())).To(Equal(w.ranked(asc, limit)), "ordered by duration %s, limit %d", sort, limit)
				}
			}
			// The shard went back to its node: the node holds the spans written since.
			held, err := queryNode(cl.data[victim], faultGroup, traceSW, victimIDs)
			Expect(err).NotTo(HaveOccurred())
			for _, id := range victimIDs {
				Expect(held[id]).To(ContainElements(id+"_before", id+"_restarted"))
			}
		})

		AfterAll(func() {
			// The specs below need the whole cluster, whatever happened here.
			ensureWhole()
		})
	})

	Context("through the liaison after the restart", func() {
		casestrace.RegisterQueryCases(conn1, base)
	})

	Context("through a second liaison", Ordered, func() {
		BeforeAll(func() {
			ensureWhole()
			cl.liaison2, cl.conn2 = startLiaison()
			waitLiaisonNodes(cl.conn2, 2)
		})

		casestrace.RegisterQueryCases(conn2, base)

		It("answers the fault group as the first liaison", func() {
			first, err := query(cl.conn, byIDsRequest(faultGroup, traceSW, faultIDs()))
			Expect(err).NotTo(HaveOccurred())
			Expect(first.GetTraces()).NotTo(BeEmpty())
			second, err := query(cl.conn2, byIDsRequest(faultGroup, traceSW, faultIDs()))
			Expect(err).NotTo(HaveOccurred())
			Expect(cmp.Diff(first, second, protocmp.Transform())).To(BeEmpty(), "-first +second")
		})

		It("writes through the second liaison", func() {
			ctx, cancel := contextWithTimeout(queryTimeout)
			defer cancel()
			md, err := helpers.GetTraceMetadata(ctx, cl.conn2, faultGroup, traceSW)
			Expect(err).NotTo(HaveOccurred())
			w := &spanWriter{md: md, acked: spanIDs{}, conn: cl.conn2}
			ids := []string{"second_liaison_trace_a", "second_liaison_trace_b", "second_liaison_trace_c"}
			r, err := w.write(spansFor(ids, "second"), 2*promptly)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.status).To(HaveEach(modelv1.Status_STATUS_SUCCEED.String()))
			for _, c := range []*grpc.ClientConn{cl.conn, cl.conn2} {
				got, err := queryIDs(c, faultGroup, traceSW, ids)
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(Equal(w.acked))
			}
		})
	})
})

// faultIDs lists the fault traces the fault specs may have written.
func faultIDs() []string {
	var out []string
	for i := 0; i < 20; i++ {
		out = append(out, fmt.Sprintf("fault_trace_%02d", i))
	}
	return out
}
