// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"context"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// adminSpans counts the spans of sw.json, which the group admin specs write.
const adminSpans = 13

// groupSpans sums the span counts Inspect reports for a group, and its segments.
func groupSpans(resp *databasev1.GroupRegistryServiceInspectResponse) (spans int64, segments int) {
	for _, di := range resp.GetDataInfo() {
		segments += len(di.GetSegmentInfo())
		for _, seg := range di.GetSegmentInfo() {
			for _, sh := range seg.GetShardInfo() {
				spans += sh.GetDataCount()
			}
		}
	}
	return spans, segments
}

// storedTraces answers the sw traces of a group in the fixture time range.
func storedTraces(ctx context.Context, group string) []*tracev1.Trace {
	GinkgoHelper()
	resp, err := tracev1.NewTraceServiceClient(sharedConn).Query(ctx, &tracev1.QueryRequest{
		Groups: []string{group}, Name: "sw",
		TimeRange: &modelv1.TimeRange{Begin: timestamppb.New(fixtureBase), End: timestamppb.New(fixtureBase.Add(time.Hour))},
		OrderBy:   &modelv1.QueryOrder{IndexRuleName: "timestamp", Sort: modelv1.Sort_SORT_DESC},
		Limit:     100,
	})
	Expect(err).NotTo(HaveOccurred())
	return resp.GetTraces()
}

var _ = Describe("Group inspection and deletion (API 0.10)", Ordered, func() {
	const group = "admin-group"
	var (
		groups   databasev1.GroupRegistryServiceClient
		entries  []helpers.SpanEntry
		writeAll func(ctx context.Context)
	)

	BeforeAll(func(ctx SpecContext) {
		groups = databasev1.NewGroupRegistryServiceClient(sharedConn)
		Expect(helpers.CreateGroupCopy(ctx, sharedConn, "test-trace-group", group)).To(Succeed())
		var err error
		entries, err = helpers.ReadSpanFile("sw.json")
		Expect(err).NotTo(HaveOccurred())
		Expect(entries).To(HaveLen(adminSpans))
		writeAll = func(ctx context.Context) {
			Expect(helpers.WriteSpans(ctx, sharedConn, group, "sw", entries, fixtureBase)).To(Succeed())
		}
		writeAll(ctx)
	})

	It("inspects the group: its schema and its segments with per-shard spans and bytes", func(ctx SpecContext) {
		resp, err := groups.Inspect(ctx, &databasev1.GroupRegistryServiceInspectRequest{Group: group})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetGroup().GetMetadata().GetName()).To(Equal(group))
		Expect(resp.GetSchemaInfo().GetTraces()).To(ConsistOf("sw"))
		Expect(resp.GetSchemaInfo().GetIndexRules()).To(ConsistOf("duration", "timestamp"))
		Expect(resp.GetSchemaInfo().GetIndexRuleBindings()).To(HaveLen(1))
		Expect(resp.GetDataInfo()).To(HaveLen(1), "one data node in standalone")
		Expect(resp.GetLiaisonInfo()).To(BeEmpty(), "standalone forwards nothing")
		di := resp.GetDataInfo()[0]
		Expect(di.GetNode().GetRoles()).To(ConsistOf(databasev1.Role_ROLE_DATA, databasev1.Role_ROLE_LIAISON))
		Expect(di.GetNode().GetCreatedAt()).NotTo(BeNil(), "the node's start time")
		Expect(di.GetDataSizeBytes()).To(BeNumerically(">", 0))
		spans, segments := groupSpans(resp)
		Expect(spans).To(Equal(int64(adminSpans)))
		Expect(segments).To(BeNumerically(">=", 1))
		var bytes int64
		for _, seg := range di.GetSegmentInfo() {
			Expect(seg.GetSegmentId()).To(HavePrefix("seg-"))
			start, err := time.Parse(time.RFC3339, seg.GetTimeRangeStart())
			Expect(err).NotTo(HaveOccurred())
			end, err := time.Parse(time.RFC3339, seg.GetTimeRangeEnd())
			Expect(err).NotTo(HaveOccurred())
			Expect(end.After(start)).To(BeTrue())
			// The spans of sw.json lie in [base, base+6s]: every segment overlaps that.
			Expect(end.After(fixtureBase) && !start.After(fixtureBase.Add(6*time.Second))).To(BeTrue(),
				"segment %s [%s, %s) and the fixtures' base %s", seg.GetSegmentId(), start, end, fixtureBase)
			for _, sh := range seg.GetShardInfo() {
				Expect(sh.GetShardId()).To(BeNumerically("<", 2))
				bytes += sh.GetDataSizeBytes()
			}
		}
		Expect(bytes).To(Equal(di.GetDataSizeBytes()))
	})

	It("answers NotFound for an unknown group and for a group without a deletion task", func(ctx SpecContext) {
		_, err := groups.Inspect(ctx, &databasev1.GroupRegistryServiceInspectRequest{Group: "no-such-group"})
		Expect(status.Code(err)).To(Equal(codes.NotFound))
		_, err = groups.Query(ctx, &databasev1.GroupRegistryServiceQueryRequest{Group: group})
		Expect(status.Code(err)).To(Equal(codes.NotFound))
	})

	It("refuses to delete a group holding data without force", func(ctx SpecContext) {
		_, err := groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: group})
		Expect(status.Code(err)).To(Equal(codes.FailedPrecondition), "%v", err)
		Expect(err.Error()).To(ContainSubstring("force"))
		_, err = groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: group, DataOnly: true})
		Expect(status.Code(err)).To(Equal(codes.FailedPrecondition), "%v", err)
		Expect(storedTraces(ctx, group)).To(HaveLen(5))
	})

	It("reports with dry_run what would go and changes nothing", func(ctx SpecContext) {
		resp, err := groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: group, DryRun: true, Force: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetSchemaInfo().GetTraces()).To(ConsistOf("sw"))
		Expect(resp.GetSchemaInfo().GetIndexRules()).To(ConsistOf("duration", "timestamp"))
		// A dry run without force reports the same; it deletes nothing so it refuses nothing.
		resp, err = groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: group, DryRun: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetSchemaInfo().GetTraces()).To(ConsistOf("sw"))
		Expect(storedTraces(ctx, group)).To(HaveLen(5))
		_, err = groups.Query(ctx, &databasev1.GroupRegistryServiceQueryRequest{Group: group})
		Expect(status.Code(err)).To(Equal(codes.NotFound), "a dry run records no task")
	})

	It("keeps the segments DeleteExpiredSegments lists while they are inside the TTL", func(ctx SpecContext) {
		before, err := groups.Inspect(ctx, &databasev1.GroupRegistryServiceInspectRequest{Group: group})
		Expect(err).NotTo(HaveOccurred())
		var suffixes []string
		for _, seg := range before.GetDataInfo()[0].GetSegmentInfo() {
			suffixes = append(suffixes, strings.TrimPrefix(seg.GetSegmentId(), "seg-"))
		}
		traces := tracev1.NewTraceServiceClient(sharedConn)
		resp, err := traces.DeleteExpiredSegments(ctx, &tracev1.DeleteExpiredSegmentsRequest{Group: group, SegmentSuffixes: suffixes})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetDeleted()).To(BeZero())
		after, err := groups.Inspect(ctx, &databasev1.GroupRegistryServiceInspectRequest{Group: group})
		Expect(err).NotTo(HaveOccurred())
		spans, _ := groupSpans(after)
		Expect(spans).To(Equal(int64(adminSpans)))
		_, err = traces.DeleteExpiredSegments(ctx, &tracev1.DeleteExpiredSegmentsRequest{Group: "no-such-group", SegmentSuffixes: suffixes})
		Expect(status.Code(err)).To(Equal(codes.NotFound))
		_, err = traces.DeleteExpiredSegments(ctx, &tracev1.DeleteExpiredSegmentsRequest{})
		Expect(status.Code(err)).To(Equal(codes.InvalidArgument))
	})

	It("deletes only the data with data_only and force, keeping the schema", func(ctx SpecContext) {
		before, err := groups.Inspect(ctx, &databasev1.GroupRegistryServiceInspectRequest{Group: group})
		Expect(err).NotTo(HaveOccurred())
		resp, err := groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: group, DataOnly: true, Force: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetSchemaInfo()).NotTo(BeNil())
		Expect(resp.GetSchemaInfo().GetTraces()).To(BeEmpty(), "no schema resource went")
		Expect(storedTraces(ctx, group)).To(BeEmpty())
		after, err := groups.Inspect(ctx, &databasev1.GroupRegistryServiceInspectRequest{Group: group})
		Expect(err).NotTo(HaveOccurred())
		Expect(after.GetSchemaInfo().GetTraces()).To(ConsistOf("sw"))
		spans, segments := groupSpans(after)
		Expect(spans).To(BeZero())
		Expect(segments).To(BeZero())

		task, err := groups.Query(ctx, &databasev1.GroupRegistryServiceQueryRequest{Group: group})
		Expect(err).NotTo(HaveOccurred())
		t := task.GetTask()
		Expect(t.GetCurrentPhase()).To(Equal(databasev1.GroupDeletionTask_PHASE_COMPLETED))
		Expect(t.GetTotalCounts()).To(HaveKeyWithValue("spans", int32(adminSpans)))
		Expect(t.GetDeletedCounts()).To(HaveKeyWithValue("spans", int32(adminSpans)))
		Expect(t.GetTotalCounts()).To(HaveKeyWithValue("traces", int32(0)))
		Expect(t.GetTotalDataSizeBytes()).To(Equal(before.GetDataInfo()[0].GetDataSizeBytes()))
		Expect(t.GetDeletedDataSizeBytes()).To(Equal(t.GetTotalDataSizeBytes()))
		Expect(t.GetCreatedAt().AsTime()).NotTo(BeZero())
		Expect(t.GetUpdatedAt().AsTime().Before(t.GetCreatedAt().AsTime())).To(BeFalse())

		// The group takes data again.
		writeAll(ctx)
		Expect(storedTraces(ctx, group)).To(HaveLen(5))
	})

	It("deletes the group, its resources and its data with force", func(ctx SpecContext) {
		resp, err := groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: group, Force: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetSchemaInfo().GetTraces()).To(ConsistOf("sw"))
		Expect(resp.GetSchemaInfo().GetIndexRules()).To(ConsistOf("duration", "timestamp"))
		_, err = groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: group})
		Expect(status.Code(err)).To(Equal(codes.NotFound))
		task, err := groups.Query(ctx, &databasev1.GroupRegistryServiceQueryRequest{Group: group})
		Expect(err).NotTo(HaveOccurred())
		Expect(task.GetTask().GetCurrentPhase()).To(Equal(databasev1.GroupDeletionTask_PHASE_COMPLETED))
		Expect(task.GetTask().GetDeletedCounts()).To(HaveKeyWithValue("traces", int32(1)))
		Expect(task.GetTask().GetDeletedCounts()).To(HaveKeyWithValue("index_rules", int32(2)))
		Expect(task.GetTask().GetDeletedCounts()).To(HaveKeyWithValue("spans", int32(adminSpans)))
	})

	It("deletes a group holding no data without force", func(ctx SpecContext) {
		const empty = "admin-empty-group"
		_, err := groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: &commonv1.Group{
			Metadata: &commonv1.Metadata{Name: empty}, Catalog: commonv1.Catalog_CATALOG_TRACE,
			ResourceOpts: &commonv1.ResourceOpts{
				ShardNum:        1,
				SegmentInterval: &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 1},
				Ttl:             &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 3},
			},
		}})
		Expect(err).NotTo(HaveOccurred())
		resp, err := groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: empty})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetSchemaInfo()).NotTo(BeNil())
		_, err = groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: empty})
		Expect(status.Code(err)).To(Equal(codes.NotFound))
	})
})
