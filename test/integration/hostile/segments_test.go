// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package hostile_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// processUsage reads the open file descriptors and the resident set size of a process.
func processUsage(pid int) (fds int, rssKiB int) {
	GinkgoHelper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	Expect(err).NotTo(HaveOccurred())
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	Expect(err).NotTo(HaveOccurred())
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKiB, err = strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			Expect(err).NotTo(HaveOccurred())
		}
	}
	return len(entries), rssKiB
}

var _ = Describe("A group with hundreds of segments", Ordered, func() {
	const (
		group   = "many-days"
		days    = 300
		perCall = 10
		fdLimit = 1024
	)
	var (
		s   *server
		md  *commonv1.Metadata
		now time.Time
	)
	BeforeAll(func(ctx SpecContext) {
		s = startServer(helpers.ServerOptions{MaxOpenFiles: fdLimit})
		sc := fixtureSchemas().ForGroup("test-trace-group", group)
		sc.Groups[0].ResourceOpts.Ttl = &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: days + 30}
		Expect(helpers.CreateSchemas(ctx, s.conn, sc, false)).To(Succeed())
		now = time.Now().Add(-time.Minute)
		md = s.writeFirst(ctx, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return swSpan(md, "day_0", "a", "svc", 0, now)
		})
	})
	dumpOnFailure(func() *server { return s })

	report := func(when string) {
		fds, rss := processUsage(s.PID())
		AddReportEntry(when, fmt.Sprintf("fds=%d rss_mib=%.1f", fds, float64(rss)/1024))
		fmt.Fprintf(GinkgoWriter, "%s: fds=%d rss_mib=%.1f\n", when, fds, float64(rss)/1024)
	}

	It("takes spans on hundreds of distinct days under ulimit -n 1024", func(ctx SpecContext) {
		for first := 1; first < days; first += perCall {
			var reqs []*tracev1.WriteRequest
			for d := first; d < first+perCall && d < days; d++ {
				reqs = append(reqs, swSpan(md, fmt.Sprintf("day_%d", d), "a", "svc", int64(d), now.AddDate(0, 0, -d)))
			}
			for i, st := range s.writeStatuses(ctx, reqs...) {
				Expect(st).To(Equal(modelv1.Status_STATUS_SUCCEED.String()), "the span %d days ago", first+i)
			}
		}
		Expect(len(s.segmentDirs(group))).To(BeNumerically(">=", days))
		report("after writing spans on 300 days")
		Expect(s.queryByID(ctx, group, "sw", "day_150")).To(HaveLen(1))
		Expect(s.queryByID(ctx, group, "sw", "day_3")).To(HaveLen(1))
		report("after two queries by trace id")
	})

	It("reopens after a restart and keeps working", func(ctx SpecContext) {
		s.restart()
		report("after the restart")
		Expect(s.queryByID(ctx, group, "sw", "day_150")).To(HaveLen(1))
		Expect(s.queryByID(ctx, group, "sw", "day_299")).To(HaveLen(1))
		Expect(s.writeStatuses(ctx, swSpan(md, "day_0", "b", "svc", 0, now.Add(time.Second)))).
			To(Equal([]string{modelv1.Status_STATUS_SUCCEED.String()}))
		Expect(s.queryByID(ctx, group, "sw", "day_0")).To(HaveLen(2))
		report("after queries and a write following the restart")
	})
})
