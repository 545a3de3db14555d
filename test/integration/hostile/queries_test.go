// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package hostile_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

func cond(name string, op modelv1.Condition_BinaryOp, v *modelv1.TagValue) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{Name: name, Op: op, Value: v}}}
}

func logical(op modelv1.LogicalExpression_LogicalOp, left, right *modelv1.Criteria) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{Op: op, Left: left, Right: right}}}
}

// balancedOr joins n conditions service_id = 'svc_<i>' in a balanced tree of ORs.
func balancedOr(lo, hi int) *modelv1.Criteria {
	if hi-lo == 1 {
		return cond("service_id", modelv1.Condition_BINARY_OP_EQ, strValue(fmt.Sprintf("svc_%d", lo)))
	}
	mid := (lo + hi) / 2
	return logical(modelv1.LogicalExpression_LOGICAL_OP_OR, balancedOr(lo, mid), balancedOr(mid, hi))
}

// leftDeepAnd nests n conditions duration >= 0 in a chain of ANDs n deep.
func leftDeepAnd(n int) *modelv1.Criteria {
	c := cond("duration", modelv1.Condition_BINARY_OP_GE, intValue(0))
	for i := 1; i < n; i++ {
		c = logical(modelv1.LogicalExpression_LOGICAL_OP_AND, c, cond("duration", modelv1.Condition_BINARY_OP_GE, intValue(0)))
	}
	return c
}

// procStatus returns a field of /proc/<pid>/status in bytes (VmRSS, VmHWM, ...).
func procStatus(pid int, field string) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	Expect(err).NotTo(HaveOccurred())
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			Expect(err).NotTo(HaveOccurred())
			return kb << 10
		}
	}
	Fail("no " + field + " in /proc/" + strconv.Itoa(pid) + "/status")
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux clear_refs "5").
func resetPeakRSS(pid int) {
	Expect(os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)).To(Succeed())
}

// cpuTime returns the user+system CPU time the process used so far.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	Expect(err).NotTo(HaveOccurred())
	// The fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, err := strconv.ParseInt(f[11], 10, 64)
	Expect(err).NotTo(HaveOccurred())
	stime, err := strconv.ParseInt(f[12], 10, 64)
	Expect(err).NotTo(HaveOccurred())
	// Clock ticks are 1/100 s on Linux.
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// writeMany writes reqs in streams of perStream requests and expects every one stored.
func (s *server) writeMany(ctx context.Context, reqs []*tracev1.WriteRequest, perStream int) {
	for start := 0; start < len(reqs); start += perStream {
		end := min(start+perStream, len(reqs))
		for i, st := range s.writeStatuses(ctx, reqs[start:end]...) {
			Expect(st).To(Equal(modelv1.Status_STATUS_SUCCEED.String()), "span %d", start+i)
		}
	}
}

// bigSpans builds n one-span traces whose payloads are size bytes, 1 ms apart from base.
func bigSpans(md *commonv1.Metadata, prefix string, n, size int, base time.Time) []*tracev1.WriteRequest {
	reqs := make([]*tracev1.WriteRequest, n)
	for i := range reqs {
		r := swSpan(md, fmt.Sprintf("%s_%05d", prefix, i), "a", "svc", int64(i), base.Add(time.Duration(i)*time.Millisecond))
		r.Span = bytes.Repeat([]byte(fmt.Sprintf("%s-%05d;", prefix, i)), size/12)
		reqs[i] = r
	}
	return reqs
}

var _ = Describe("Queries that are wrong or too big", Ordered, func() {
	const (
		group = "queries"
		// answerCap is the server's --trace-max-query-response-size.
		answerCap = 4 << 20
	)
	var (
		s     *server
		md    *commonv1.Metadata
		begin time.Time
	)
	BeforeAll(func(ctx SpecContext) {
		s = startServer(helpers.ServerOptions{Args: []string{"--trace-max-query-response-size=4mb"}})
		s.createGroup(ctx, "test-trace-group", group)
		begin = time.Now().Add(-time.Hour)
		md = s.writeFirst(ctx, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return swSpan(md, "q_001", "a", "svc_1", 100, begin)
		})
		Expect(s.writeStatuses(ctx,
			swSpan(md, "q_001", "b", "svc_1", 200, begin.Add(time.Second)),
			swSpan(md, "q_001", "c", "svc_2", 300, begin.Add(2*time.Second)),
			swSpan(md, "q_002", "a", "svc_2", 400, begin.Add(3*time.Second)),
		)).To(HaveEach(modelv1.Status_STATUS_SUCCEED.String()))
	})
	dumpOnFailure(func() *server { return s })

	byDuration := &modelv1.QueryOrder{IndexRuleName: "duration", Sort: modelv1.Sort_SORT_DESC}
	query := func(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.QueryResponse, error) {
		if req.Name == "" {
			req.Name = "sw"
		}
		if req.Groups == nil {
			req.Groups = []string{group}
		}
		return s.trace.Query(ctx, req)
	}
	expectInvalid := func(ctx context.Context, req *tracev1.QueryRequest, says string) {
		resp, err := query(ctx, req)
		Expect(status.Code(err)).To(Equal(codes.InvalidArgument), "answer: %v", resp)
		Expect(err.Error()).To(ContainSubstring(says))
	}

	It("refuses a group listed twice, over gRPC, HTTP and BydbQL, instead of answering every span twice", func(ctx SpecContext) {
		req := &tracev1.QueryRequest{Groups: []string{group, group}, OrderBy: byDuration, Limit: 5}
		expectInvalid(ctx, req, "listed more than once")

		if s.HTTPAddr != "" {
			body := fmt.Sprintf(`{"groups":[%q,%q],"name":"sw","orderBy":{"indexRuleName":"duration","sort":"SORT_DESC"},"limit":5}`, group, group)
			hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.HTTPAddr+"/api/v1/trace/data", strings.NewReader(body))
			Expect(err).NotTo(HaveOccurred())
			hreq.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(hreq)
			Expect(err).NotTo(HaveOccurred())
			text, _ := io.ReadAll(resp.Body)
			Expect(resp.Body.Close()).To(Succeed())
			Expect(resp.StatusCode).To(Equal(http.StatusBadRequest), "body: %s", text)
			Expect(string(text)).To(ContainSubstring("listed more than once"))
		}

		ql := bydbqlv1.NewBydbQLServiceClient(s.conn)
		_, err := ql.Query(ctx, &bydbqlv1.QueryRequest{
			Query: fmt.Sprintf("SELECT () FROM TRACE sw IN %s, %s TIME BETWEEN ? AND ? ORDER BY duration DESC LIMIT 5", group, group),
			Params: []*modelv1.TagValue{
				{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(begin.Add(-time.Hour))}},
				{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(begin.Add(time.Hour))}},
			},
		})
		Expect(status.Code(err)).To(Equal(codes.InvalidArgument), "BydbQL: %v", err)
		Expect(err.Error()).To(ContainSubstring("listed more than once"))

		// Listed once, each trace comes back once with each of its spans once.
		resp, err := query(ctx, &tracev1.QueryRequest{OrderBy: byDuration, Limit: 5})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetTraces()).To(HaveLen(2))
		Expect(resp.GetTraces()[0].GetTraceId()).To(Equal("q_002"))
		Expect(resp.GetTraces()[1].GetSpans()).To(HaveLen(3))
	})

	It("refuses values that do not fit their tag's type, and empty criteria nodes", func(ctx SpecContext) {
		expectInvalid(ctx, &tracev1.QueryRequest{OrderBy: byDuration,
			Criteria: cond("duration", modelv1.Condition_BINARY_OP_GT, strValue("100"))}, "tag 'duration' is TAG_TYPE_INT")
		expectInvalid(ctx, &tracev1.QueryRequest{OrderBy: byDuration,
			Criteria: cond("service_id", modelv1.Condition_BINARY_OP_EQ, intValue(1))}, "tag 'service_id' is TAG_TYPE_STRING")
		expectInvalid(ctx, &tracev1.QueryRequest{OrderBy: byDuration, Criteria: &modelv1.Criteria{}}, "empty criteria")
		expectInvalid(ctx, &tracev1.QueryRequest{OrderBy: byDuration,
			Criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{Op: modelv1.LogicalExpression_LOGICAL_OP_AND}}}}, "no left side")
		expectInvalid(ctx, &tracev1.QueryRequest{OrderBy: byDuration,
			Criteria: logical(modelv1.LogicalExpression_LOGICAL_OP_AND, cond("service_id", modelv1.Condition_BINARY_OP_EQ, strValue("svc_1")), nil)}, "no right side")

		// The same conditions with values of the right types answer.
		resp, err := query(ctx, &tracev1.QueryRequest{OrderBy: byDuration,
			Criteria: logical(modelv1.LogicalExpression_LOGICAL_OP_AND,
				cond("duration", modelv1.Condition_BINARY_OP_GT, intValue(100)),
				cond("service_id", modelv1.Condition_BINARY_OP_EQ, strValue("svc_1")))})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetTraces()).To(HaveLen(1))
		Expect(resp.GetTraces()[0].GetTraceId()).To(Equal("q_001"))
	})

	It("refuses criteria past their bounds before any work: 16k ORed conditions, 65 conditions, 65 levels", func(ctx SpecContext) {
		pid := s.PID()
		cpu := cpuTime(pid)
		expectInvalid(ctx, &tracev1.QueryRequest{OrderBy: byDuration, Criteria: balancedOr(0, 16384)}, "over the limit of 262144 bytes")
		fmt.Fprintf(GinkgoWriter, "a balanced OR of 16384 conditions took %s of server CPU\n", cpuTime(pid)-cpu)
		expectInvalid(ctx, &tracev1.QueryRequest{OrderBy: byDuration, Criteria: balancedOr(0, 65)}, "more than 64 conditions")
		expectInvalid(ctx, &tracev1.QueryRequest{OrderBy: byDuration, Criteria: leftDeepAnd(65)}, "deeper than 64 levels")
		in := make([]string, 4097)
		for i := range in {
			in[i] = fmt.Sprintf("svc_%d", i)
		}
		expectInvalid(ctx, &tracev1.QueryRequest{OrderBy: byDuration,
			Criteria: cond("service_id", modelv1.Condition_BINARY_OP_IN, &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: in}}})},
			"over the limit of 4096")

		// At the bounds the query runs and answers.
		resp, err := query(ctx, &tracev1.QueryRequest{OrderBy: byDuration, Criteria: balancedOr(0, 64)})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetTraces()).To(HaveLen(2))
	})

	It("ends a query whose answer would pass --trace-max-query-response-size with ResourceExhausted; its pages answer", func(ctx SpecContext) {
		// 48 traces of 256 KiB: 12 MiB in all, three times the cap.
		s.writeMany(ctx, bigSpans(md, "big", 48, 256<<10, begin.Add(time.Minute)), 8)
		// A client that accepts any size, so that the server's bound is what is seen.
		opt := grpc.MaxCallRecvMsgSize(1 << 30)
		all := &tracev1.QueryRequest{Groups: []string{group}, Name: "sw", OrderBy: byDuration, Limit: 1000}
		_, err := s.trace.Query(ctx, all, opt)
		Expect(status.Code(err)).To(Equal(codes.ResourceExhausted), "err: %v", err)
		Expect(err.Error()).To(ContainSubstring("limit/offset"))

		seen := map[string]bool{}
		for offset := uint32(0); offset < 48; offset += 8 {
			resp, err := s.trace.Query(ctx, &tracev1.QueryRequest{Groups: []string{group}, Name: "sw", OrderBy: byDuration,
				Limit: 8, Offset: offset,
				Criteria: cond("service_id", modelv1.Condition_BINARY_OP_EQ, strValue("svc"))}, opt)
			Expect(err).NotTo(HaveOccurred(), "page at %d", offset)
			Expect(resp.GetTraces()).To(HaveLen(8))
			size := 0
			for _, t := range resp.GetTraces() {
				Expect(seen[t.GetTraceId()]).To(BeFalse(), "trace %s on two pages", t.GetTraceId())
				seen[t.GetTraceId()] = true
				size += len(t.GetSpans()[0].GetSpan())
			}
			Expect(size).To(BeNumerically("<=", answerCap))
		}
		Expect(seen).To(HaveLen(48))
	})
})

var _ = Describe("A match-all query with a huge limit against a memory budget", Ordered, func() {
	const (
		group  = "querymem"
		budget = 96 << 20
		// margin is what the server holds besides the query's charged bytes (the runtime, Pebble's
		// memtables and caches, the garbage the collector has not returned yet).
		margin = 128 << 20
	)
	var s *server
	BeforeAll(func() {
		s = startServer(helpers.ServerOptions{Args: []string{"--allowed-bytes=96mb", "--trace-max-query-response-size=1gb"}})
	})
	dumpOnFailure(func() *server { return s })

	It("ends with ResourceExhausted and keeps RSS within the budget plus a fixed margin", func(ctx SpecContext) {
		s.createGroup(ctx, "test-trace-group", group)
		begin := time.Now().Add(-time.Hour)
		md := s.writeFirst(ctx, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return swSpan(md, "m_first", "a", "svc", 1, begin)
		})
		// 1,024 traces of 256 KiB: 256 MiB to materialise, well past the budget.
		s.writeMany(ctx, bigSpans(md, "mem", 1024, 256<<10, begin.Add(time.Second)), 16)

		pid := s.PID()
		rssBefore := procStatus(pid, "VmRSS")
		resetPeakRSS(pid)
		cpu := cpuTime(pid)
		_, err := s.trace.Query(ctx, &tracev1.QueryRequest{Groups: []string{group}, Name: "sw",
			OrderBy: &modelv1.QueryOrder{IndexRuleName: "duration", Sort: modelv1.Sort_SORT_DESC}, Limit: 1 << 30},
			grpc.MaxCallRecvMsgSize(1<<30))
		peak := procStatus(pid, "VmHWM")
		fmt.Fprintf(GinkgoWriter, "match-all query: RSS %d MiB before, peak %d MiB, %s of server CPU, err %v\n",
			rssBefore>>20, peak>>20, cpuTime(pid)-cpu, err)
		Expect(status.Code(err)).To(Equal(codes.ResourceExhausted), "err: %v", err)
		Expect(err.Error()).To(ContainSubstring("limit/offset"))
		Expect(err.Error()).NotTo(ContainSubstring(s.Dir), "the message names the segment, not the server's paths")
		Expect(peak).To(BeNumerically("<=", uint64(budget+margin)), "peak RSS %d MiB", peak>>20)

		// The budget was given back: a page of the same query answers.
		resp, err := s.trace.Query(ctx, &tracev1.QueryRequest{Groups: []string{group}, Name: "sw",
			OrderBy: &modelv1.QueryOrder{IndexRuleName: "duration", Sort: modelv1.Sort_SORT_DESC}, Limit: 10},
			grpc.MaxCallRecvMsgSize(1<<30))
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetTraces()).To(HaveLen(10))
		Expect(resp.GetTraces()[0].GetTraceId()).To(Equal("mem_01023"))
	})
})
