// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// adminGroup is a private copy of test-trace-group that the group administration specs write,
// inspect and delete.
const adminGroup = "cluster-admin"

// inspectSpans sums the spans Inspect reports per data node.
func inspectSpans(resp *databasev1.GroupRegistryServiceInspectResponse) map[string]int64 {
	out := map[string]int64{}
	for _, di := range resp.GetDataInfo() {
		n := di.GetNode().GetMetadata().GetName()
		out[n] += 0
		for _, seg := range di.GetSegmentInfo() {
			for _, sh := range seg.GetShardInfo() {
				out[n] += sh.GetDataCount()
			}
		}
	}
	return out
}

// registerGroupAdminSpecs declares the group administration specs through the liaison: Inspect
// answers every data node, Delete's force and data_only reach every data node, and
// DeleteExpiredSegments asks every data node.
func registerGroupAdminSpecs() {
	var groups databasev1.GroupRegistryServiceClient
	var entries []helpers.SpanEntry
	write := func(ctx context.Context) {
		GinkgoHelper()
		Expect(helpers.WriteSpans(ctx, cl.conn, adminGroup, traceSW, entries, cl.base)).To(Succeed())
	}

	BeforeAll(func(ctx SpecContext) {
		ensureWhole()
		groups = databasev1.NewGroupRegistryServiceClient(cl.conn)
		Expect(helpers.CreateGroupCopy(ctx, cl.conn, groupSW, adminGroup)).To(Succeed())
		var err error
		entries, err = helpers.ReadSpanFile("sw.json")
		Expect(err).NotTo(HaveOccurred())
		write(ctx)
	})

	It("inspects the group on both data nodes and reports the liaison's pending data as zeros", func(ctx SpecContext) {
		resp, err := groups.Inspect(ctx, &databasev1.GroupRegistryServiceInspectRequest{Group: adminGroup})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetSchemaInfo().GetTraces()).To(ConsistOf(traceSW))
		perNode := inspectSpans(resp)
		Expect(perNode).To(HaveLen(2), "one data_info per data node")
		for _, di := range resp.GetDataInfo() {
			n := di.GetNode()
			Expect(n.GetGrpcAddress()).To(Equal(n.GetMetadata().GetName()), "the node's registration, not only its name")
			Expect(n.GetRoles()).To(ConsistOf(databasev1.Role_ROLE_DATA))
			Expect(n.GetCreatedAt()).NotTo(BeNil())
		}
		var total int64
		for node, n := range perNode {
			Expect(n).To(BeNumerically(">", 0), "node %s holds spans of the group", node)
			total += n
		}
		Expect(total).To(Equal(int64(len(entries))))
		Expect(resp.GetLiaisonInfo()).To(HaveLen(1))
		Expect(proto.Equal(resp.GetLiaisonInfo()[0], &databasev1.LiaisonInfo{})).To(BeTrue(), "the liaison forwards synchronously")
	})

	It("asks every data node to delete listed segments, which are inside the TTL and stay", func(ctx SpecContext) {
		resp, err := groups.Inspect(ctx, &databasev1.GroupRegistryServiceInspectRequest{Group: adminGroup})
		Expect(err).NotTo(HaveOccurred())
		var suffixes []string
		for _, di := range resp.GetDataInfo() {
			for _, seg := range di.GetSegmentInfo() {
				suffixes = append(suffixes, seg.GetSegmentId()[len("seg-"):])
			}
		}
		Expect(suffixes).NotTo(BeEmpty())
		del, err := tracev1.NewTraceServiceClient(cl.conn).DeleteExpiredSegments(ctx,
			&tracev1.DeleteExpiredSegmentsRequest{Group: adminGroup, SegmentSuffixes: suffixes})
		Expect(err).NotTo(HaveOccurred())
		Expect(del.GetDeleted()).To(BeZero())
	})

	It("refuses without force, and with data_only drops the data on every data node", func(ctx SpecContext) {
		_, err := groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: adminGroup, DataOnly: true})
		Expect(status.Code(err)).To(Equal(codes.FailedPrecondition), "%v", err)
		_, err = groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: adminGroup, DataOnly: true, Force: true})
		Expect(err).NotTo(HaveOccurred())
		resp, err := groups.Inspect(ctx, &databasev1.GroupRegistryServiceInspectRequest{Group: adminGroup})
		Expect(err).NotTo(HaveOccurred())
		for node, n := range inspectSpans(resp) {
			Expect(n).To(BeZero(), "node %s still holds spans", node)
		}
		got, err := query(cl.conn, byIDsRequest(adminGroup, traceSW, fixtureSets[0].ids[:5]))
		Expect(err).NotTo(HaveOccurred())
		Expect(got.GetTraces()).To(BeEmpty())
		task, err := groups.Query(ctx, &databasev1.GroupRegistryServiceQueryRequest{Group: adminGroup})
		Expect(err).NotTo(HaveOccurred())
		Expect(task.GetTask().GetCurrentPhase()).To(Equal(databasev1.GroupDeletionTask_PHASE_COMPLETED))
		Expect(task.GetTask().GetDeletedCounts()).To(HaveKeyWithValue("spans", int32(len(entries))))
	})

	It("deletes the group with force", func(ctx SpecContext) {
		write(ctx)
		_, err := groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: adminGroup})
		Expect(status.Code(err)).To(Equal(codes.FailedPrecondition), "%v", err)
		resp, err := groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: adminGroup, Force: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetSchemaInfo().GetTraces()).To(ConsistOf(traceSW))
		_, err = groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: adminGroup})
		Expect(status.Code(err)).To(Equal(codes.NotFound))

		// A liaison started after the deletion answers its task: tasks live in etcd.
		other, conn := startLiaison()
		defer func() {
			Expect(conn.Close()).To(Succeed())
			Expect(other.Stop()).To(Succeed())
		}()
		task, err := databasev1.NewGroupRegistryServiceClient(conn).Query(ctx,
			&databasev1.GroupRegistryServiceQueryRequest{Group: adminGroup})
		Expect(err).NotTo(HaveOccurred())
		Expect(task.GetTask().GetCurrentPhase()).To(Equal(databasev1.GroupDeletionTask_PHASE_COMPLETED))
		Expect(task.GetTask().GetDeletedCounts()).To(HaveKeyWithValue("traces", int32(1)))
		Expect(task.GetTask().GetDeletedCounts()).To(HaveKeyWithValue("spans", int32(len(entries))))
	})
}
