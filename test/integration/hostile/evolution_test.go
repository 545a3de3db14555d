// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package hostile_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

var _ = Describe("Schema evolution", Ordered, func() {
	const group = "evolving"
	var (
		s   *server
		md  *commonv1.Metadata
		now time.Time
	)
	BeforeAll(func(ctx SpecContext) {
		s = startServer(helpers.ServerOptions{})
		s.createGroup(ctx, "test-trace-group", group)
		now = time.Now().Add(-time.Minute)
		md = s.writeFirst(ctx, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return swSpan(md, "evo_001", "a", "svc", 10, now)
		})
	})
	dumpOnFailure(func() *server { return s })

	stored := func(ctx SpecContext) *databasev1.Trace {
		got, err := s.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: group, Name: "sw"}})
		Expect(err).NotTo(HaveOccurred())
		return got.GetTrace()
	}
	indexOf := func(t *databasev1.Trace, name string) int {
		for i, tag := range t.GetTags() {
			if tag.GetName() == name {
				return i
			}
		}
		Fail("no tag " + name)
		return -1
	}

	It("refuses an update that reorders, retypes, renames or drops a stored tag", func(ctx SpecContext) {
		before := stored(ctx)
		changes := map[string]func(t *databasev1.Trace) string{
			"swap service_id and service_instance_id": func(t *databasev1.Trace) string {
				i, j := indexOf(t, "service_id"), indexOf(t, "service_instance_id")
				t.Tags[i], t.Tags[j] = t.Tags[j], t.Tags[i]
				return "service_id"
			},
			"retype state": func(t *databasev1.Trace) string {
				t.Tags[indexOf(t, "state")].Type = databasev1.TagType_TAG_TYPE_STRING
				return "state"
			},
			"rename endpoint_id": func(t *databasev1.Trace) string {
				t.Tags[indexOf(t, "endpoint_id")].Name = "endpoint"
				return "endpoint_id"
			},
			"drop the last tag": func(t *databasev1.Trace) string {
				last := t.Tags[len(t.Tags)-1].GetName()
				t.Tags = t.Tags[:len(t.Tags)-1]
				t.Tags = append(t.Tags, &databasev1.TraceTagSpec{Name: "ts2", Type: databasev1.TagType_TAG_TYPE_TIMESTAMP})
				t.TimestampTagName = "ts2"
				return last
			},
			"move the timestamp tag name": func(t *databasev1.Trace) string {
				t.Tags = append(t.Tags, &databasev1.TraceTagSpec{Name: "ts2", Type: databasev1.TagType_TAG_TYPE_TIMESTAMP})
				t.TimestampTagName = "ts2"
				return "timestamp"
			},
		}
		for what, change := range changes {
			t := proto.Clone(before).(*databasev1.Trace)
			tag := change(t)
			_, err := s.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: t})
			Expect(status.Code(err)).To(Equal(codes.FailedPrecondition), "%s: %v", what, err)
			Expect(status.Convert(err).Message()).To(ContainSubstring(`"`+tag+`"`), what)
		}
		Expect(proto.Equal(stored(ctx), before)).To(BeTrue(), "the stored schema is unchanged")

		// Writers using the layout they always used keep succeeding, and old spans read back right.
		Expect(s.writeStatuses(ctx, swSpan(md, "evo_002", "a", "svc", 20, now.Add(time.Second)))).
			To(Equal([]string{modelv1.Status_STATUS_SUCCEED.String()}))
		spans := s.queryByID(ctx, group, "sw", "evo_001", "service_id", "service_instance_id")
		Expect(spans).To(HaveLen(1))
		Expect(spanTag(spans[0], "service_id").GetStr().GetValue()).To(Equal("svc"))
		Expect(spanTag(spans[0], "service_instance_id").GetStr().GetValue()).To(Equal("svc_instance"))
	})

	It("accepts a tag added at the end and reads it as null for the spans written before", func(ctx SpecContext) {
		t := stored(ctx)
		t.Tags = append(t.Tags, &databasev1.TraceTagSpec{Name: "added", Type: databasev1.TagType_TAG_TYPE_STRING})
		_, err := s.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: t})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			// Until the update reaches the trace service, the projection names an unknown tag.
			resp, err := s.trace.Query(ctx, &tracev1.QueryRequest{
				Groups: []string{group}, Name: "sw", Limit: 10, TagProjection: []string{"added", "service_id"},
				Criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
					Name: "trace_id", Op: modelv1.Condition_BINARY_OP_EQ, Value: strValue("evo_001"),
				}}},
			})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(resp.GetTraces()).To(HaveLen(1))
			spans := resp.GetTraces()[0].GetSpans()
			g.Expect(spans).To(HaveLen(1))
			added := spanTag(spans[0], "added")
			g.Expect(added).NotTo(BeNil(), "the added tag is in the projection")
			g.Expect(added.GetValue()).To(BeAssignableToTypeOf(&modelv1.TagValue_Null{}), "the added tag is null: %v", added)
			g.Expect(spanTag(spans[0], "service_id").GetStr().GetValue()).To(Equal("svc"))
		}).Should(Succeed())
	})
})
