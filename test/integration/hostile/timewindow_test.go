// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package hostile_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

var _ = Describe("Timestamps from the future", Ordered, func() {
	const group = "future"
	var s *server
	BeforeAll(func() { s = startServer(helpers.ServerOptions{}) })
	dumpOnFailure(func() *server { return s })

	It("refuses a span more than a day ahead and creates nothing on disk for it", func(ctx SpecContext) {
		s.createGroup(ctx, "test-trace-group", group)
		now := time.Now()
		md := s.writeFirst(ctx, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return swSpan(md, "f_now", "a", "svc", 1, now)
		})
		before := s.segmentDirs(group)
		Expect(before).NotTo(BeEmpty())

		var reqs []*tracev1.WriteRequest
		for i, ahead := range []time.Duration{25 * time.Hour, 48 * time.Hour, 365 * 24 * time.Hour, 80 * 365 * 24 * time.Hour} {
			reqs = append(reqs, swSpan(md, fmt.Sprintf("f_%d", i), "a", "svc", 1, now.Add(ahead)))
		}
		for i := 0; i < 150; i++ {
			reqs = append(reqs, swSpan(md, fmt.Sprintf("f_day_%d", i), "a", "svc", 1, now.AddDate(0, 0, 2+i)))
		}
		statuses := s.writeStatuses(ctx, reqs...)
		for i, st := range statuses {
			Expect(st).To(Equal(modelv1.Status_STATUS_INVALID_TIMESTAMP.String()), "span %d at %s", i, reqs[i].GetTags()[7].GetTimestamp().AsTime())
		}
		Expect(s.segmentDirs(group)).To(Equal(before), "no segment was created for a refused span")
		Expect(s.queryByID(ctx, group, "sw", "f_0")).To(BeEmpty())

		// A span a little ahead (a client clock running fast) is still taken.
		Expect(s.writeStatuses(ctx, swSpan(md, "f_soon", "a", "svc", 1, now.Add(time.Minute)))).
			To(Equal([]string{modelv1.Status_STATUS_SUCCEED.String()}))
	})
})
