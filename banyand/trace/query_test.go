// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

// --- the brute-force model of a ranked query ---------------------------------------------------

type rankedID struct {
	id  string
	key int64
}

// bruteRank ranks traces the slow way: every span in [lo, hi] that matches pred offers its key,
// a trace takes its best (max for DESC, min for ASC), traces sort by key then by id ascending.
func bruteRank(spans []swSpan, pred func(swSpan) bool, key func(swSpan) int64, lo, hi int64, desc bool, n int) []rankedID {
	best := map[string]int64{}
	for _, s := range spans {
		at := s.at.UnixNano()
		if at < lo || at > hi || !pred(s) {
			continue
		}
		k := key(s)
		if cur, ok := best[s.traceID]; !ok || (desc && k > cur) || (!desc && k < cur) {
			best[s.traceID] = k
		}
	}
	out := make([]rankedID, 0, len(best))
	for id, k := range best {
		out = append(out, rankedID{id: id, key: k})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].key != out[j].key {
			if desc {
				return out[i].key > out[j].key
			}
			return out[i].key < out[j].key
		}
		return out[i].id < out[j].id
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func byDuration(s swSpan) int64  { return s.duration }
func byTimestamp(s swSpan) int64 { return s.at.UnixNano() }
func matchAny(swSpan) bool       { return true }

func keyOf(rule string) func(swSpan) int64 {
	if rule == "timestamp" {
		return byTimestamp
	}
	return byDuration
}

func resultRanks(res []*tracev1.InternalTrace) []rankedID {
	out := []rankedID{}
	for _, tr := range res {
		out = append(out, rankedID{id: tr.TraceId, key: tr.Key})
	}
	return out
}

// genSpans makes traces of 1 to 3 spans spread over yesterday and today, with durations from a
// small range so that many traces tie, and trace ids of different lengths.
func genSpans(rng *rand.Rand, traces int) []swSpan {
	yesterday, today := days()
	services := []string{"svc-a", "svc-b", "svc-c"}
	endpoints := []string{"/a", "/b", "/c"}
	seen := map[string]bool{}
	var spans []swSpan
	for len(seen) < traces {
		id := fmt.Sprintf("t%d", rng.IntN(100000))
		if seen[id] {
			continue
		}
		seen[id] = true
		n := 1 + rng.IntN(3)
		for j := 0; j < n; j++ {
			day := yesterday
			if rng.IntN(2) == 1 {
				day = today
			}
			spans = append(spans, swSpan{
				traceID:  id,
				spanID:   fmt.Sprintf("%s-s%d", id, j),
				at:       day.Add(time.Duration(rng.IntN(23*3600)) * time.Second).Add(time.Duration(rng.IntN(1000)) * time.Millisecond),
				service:  services[rng.IntN(len(services))],
				instance: fmt.Sprintf("inst-%d", rng.IntN(2)),
				endpoint: endpoints[rng.IntN(len(endpoints))],
				state:    int64(rng.IntN(2)),
				duration: int64(rng.IntN(30)),
			})
		}
	}
	return spans
}

// payloadsByTrace is what a query should return per trace: every span's bytes, sorted.
func payloadsByTrace(spans []swSpan, keep func(swSpan) bool) map[string][]string {
	out := map[string][]string{}
	for _, s := range spans {
		if keep(s) {
			out[s.traceID] = append(out[s.traceID], string(s.payload()))
		}
	}
	for _, p := range out {
		sort.Strings(p)
	}
	return out
}

func resultPayloads(tr *tracev1.InternalTrace) []string {
	out := []string{}
	for _, s := range tr.Spans {
		out = append(out, string(s.Span))
	}
	sort.Strings(out)
	return out
}

func (e *env) query(tr *trace, opts QueryOptions) []*tracev1.InternalTrace {
	e.t.Helper()
	if opts.Name == "" {
		opts.Name = tr.name
	}
	res, err := tr.Query(context.Background(), opts)
	if err != nil {
		e.t.Fatalf("Query: %v", err)
	}
	return res
}

// fullRange covers yesterday and today.
func fullRange() timestamp.TimeRange {
	yesterday, today := days()
	return timeRange(yesterday, today.Add(24*time.Hour-time.Millisecond))
}

// --- ordered queries ---------------------------------------------------------------------------

func TestQueryOrderedTopNAcrossShardsAndSegments(t *testing.T) {
	e := newEnv(t).withSW()
	spans := genSpans(rand.New(rand.NewPCG(1, 2)), 80)
	e.mustWrite(requests(spans)...)

	// The data really spans two segments and both shards of each.
	h, ok := e.trace("test-trace-group", "sw").loadTSDB()
	if !ok {
		t.Fatal("the trace has no storage")
	}
	segs := h.db.Segments()
	for _, s := range segs {
		if tables, err := s.Tables(); err != nil || len(tables) != 2 {
			t.Errorf("segment %s has %d shard tables (%v), want 2", s.Dir(), len(tables), err)
		}
		s.DecRef()
	}
	if len(segs) != 2 {
		t.Fatalf("%d segments, want 2 (yesterday and today)", len(segs))
	}

	tr := e.trace("test-trace-group", "sw")
	all := payloadsByTrace(spans, matchAny)
	rng := fullRange()
	lo, hi := rng.Start.UnixNano(), rng.End.UnixNano()
	for _, rule := range []string{"duration", "timestamp"} {
		for _, sortOrder := range []modelv1.Sort{modelv1.Sort_SORT_DESC, modelv1.Sort_SORT_ASC} {
			for _, limit := range []int{1, 3, 10, 25, 1000} {
				name := fmt.Sprintf("%s/%s/top%d", rule, sortOrder, limit)
				t.Run(name, func(t *testing.T) {
					res := e.query(tr, QueryOptions{TimeRange: rng, OrderBy: orderBy(rule, sortOrder), MaxTraces: limit})
					want := bruteRank(spans, matchAny, keyOf(rule), lo, hi, sortOrder != modelv1.Sort_SORT_ASC, limit)
					if got := resultRanks(res); !reflect.DeepEqual(got, want) {
						t.Fatalf("ranking:\n got %v\nwant %v", got, want)
					}
					for _, r := range res {
						if got := resultPayloads(r); !reflect.DeepEqual(got, all[r.TraceId]) {
							t.Fatalf("trace %s: spans %v, want every span %v", r.TraceId, got, all[r.TraceId])
						}
					}
				})
			}
		}
	}
}

func TestQueryBreaksTiesByTraceIDAcrossShardsAndSegments(t *testing.T) {
	e := newEnv(t).withSW()
	yesterday, today := days()
	// Four traces tie at duration 500, on both days and both shards; ids of different lengths.
	tied := []string{"b", "aa", "c", "a", "ab"}
	shards := map[uint32]bool{}
	var spans []swSpan
	for i, id := range tied {
		day := yesterday
		if i%2 == 1 {
			day = today
		}
		shards[shardOf(id, 2)] = true
		spans = append(spans, swSpan{traceID: id, spanID: "s", at: day.Add(time.Hour), service: "svc", duration: 500})
	}
	if len(shards) != 2 {
		t.Fatalf("the tied traces fall in shards %v; the test needs both", shards)
	}
	spans = append(spans,
		swSpan{traceID: "top", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 900},
		swSpan{traceID: "bottom", spanID: "s", at: yesterday.Add(time.Hour), service: "svc", duration: 100},
		// A trace whose other span ties: it ranks by its best span (900 DESC, 500 ASC).
		swSpan{traceID: "0", spanID: "s1", at: yesterday.Add(2 * time.Hour), service: "svc", duration: 900},
		swSpan{traceID: "0", spanID: "s2", at: today.Add(2 * time.Hour), service: "svc", duration: 500},
	)
	e.mustWrite(requests(spans)...)
	tr := e.trace("test-trace-group", "sw")
	tests := []struct {
		sort  modelv1.Sort
		limit int
		want  []string
	}{
		{modelv1.Sort_SORT_DESC, 10, []string{"0", "top", "a", "aa", "ab", "b", "c", "bottom"}},
		{modelv1.Sort_SORT_DESC, 4, []string{"0", "top", "a", "aa"}},
		{modelv1.Sort_SORT_ASC, 10, []string{"bottom", "0", "a", "aa", "ab", "b", "c", "top"}},
		{modelv1.Sort_SORT_ASC, 3, []string{"bottom", "0", "a"}},
	}
	for _, tt := range tests {
		res := e.query(tr, QueryOptions{TimeRange: fullRange(), OrderBy: orderBy("duration", tt.sort), MaxTraces: tt.limit})
		if got := ids(res); !reflect.DeepEqual(got, tt.want) {
			t.Fatalf("%s top %d = %v, want %v", tt.sort, tt.limit, got, tt.want)
		}
	}
}

// TestRankByIndexMatchesBruteForce is a property test of the k-way merge: over random data in two
// segments of two shards, random orders, limits, filters and time ranges, rankByIndex must rank
// exactly as a full sort does.
func TestRankByIndexMatchesBruteForce(t *testing.T) {
	yesterday, today := days()
	type filterCase struct {
		criteria *modelv1.Criteria
		pred     func(swSpan) bool
	}
	filters := []filterCase{
		{nil, matchAny},
		{cond("service_id", opEQ, str("svc-a")), func(s swSpan) bool { return s.service == "svc-a" }},
		{cond("service_id", opIN, strs("svc-b", "svc-c")), func(s swSpan) bool { return s.service != "svc-a" }},
		{cond("state", opEQ, i64(1)), func(s swSpan) bool { return s.state == 1 }},
		// endpoint_id is not an index tag: the merge reads the span to decide.
		{cond("endpoint_id", opNE, str("/a")), func(s swSpan) bool { return s.endpoint != "/a" }},
		{cond("duration", opGT, i64(20)), func(s swSpan) bool { return s.duration > 20 }},
		{cond("duration", opLE, i64(3)), func(s swSpan) bool { return s.duration <= 3 }},
		{and(cond("service_id", opEQ, str("svc-b")), cond("duration", opGE, i64(10))),
			func(s swSpan) bool { return s.service == "svc-b" && s.duration >= 10 }},
		{or(cond("service_id", opEQ, str("svc-c")), cond("endpoint_id", opEQ, str("/b"))),
			func(s swSpan) bool { return s.service == "svc-c" || s.endpoint == "/b" }},
		{and(cond("service_instance_id", opNotIN, strs("inst-0")), cond("state", opNE, i64(1))),
			func(s swSpan) bool { return s.instance != "inst-0" && s.state != 1 }},
	}
	ranges := []timestamp.TimeRange{
		fullRange(),
		timeRange(yesterday, today.Add(-time.Millisecond)),
		timeRange(today, today.Add(24*time.Hour)),
		timeRange(yesterday.Add(12*time.Hour), today.Add(12*time.Hour)),
	}
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			e := newEnv(t).withSW()
			spans := genSpans(rng, 60+rng.IntN(80))
			// Several batches, so that tables hold more than one write.
			for start := 0; start < len(spans); start += 50 {
				end := min(start+50, len(spans))
				e.mustWrite(requests(spans[start:end])...)
			}
			tr := e.trace("test-trace-group", "sw")
			is := tr.loadIndexSchema()
			h, _ := tr.loadTSDB()
			nonEmpty, ties := 0, 0
			for q := 0; q < 40; q++ {
				rule := []string{"duration", "timestamp"}[rng.IntN(2)]
				sortOrder := []modelv1.Sort{modelv1.Sort_SORT_DESC, modelv1.Sort_SORT_ASC}[rng.IntN(2)]
				limit := 1 + rng.IntN(150)
				f := filters[rng.IntN(len(filters))]
				tRange := ranges[rng.IntN(len(ranges))]
				opts := QueryOptions{Name: "sw", TimeRange: tRange, Criteria: f.criteria,
					OrderBy: orderBy(rule, sortOrder), MaxTraces: limit}
				plan, err := newQueryPlan(is, opts)
				if err != nil {
					t.Fatal(err)
				}
				segs := h.db.SelectSegments(tRange)
				lo, hi := timeRangeNanos(opts)
				got, err := tr.rankByIndex(context.Background(), segs, is, plan, lo, hi, limit, &queryBudget{})
				for _, s := range segs {
					s.DecRef()
				}
				if err != nil {
					t.Fatal(err)
				}
				gotRanks := []rankedID{}
				for _, r := range got {
					gotRanks = append(gotRanks, rankedID{id: r.traceID, key: r.key})
				}
				want := bruteRank(spans, f.pred, keyOf(rule), lo, hi, sortOrder != modelv1.Sort_SORT_ASC, limit)
				if !reflect.DeepEqual(gotRanks, want) {
					t.Fatalf("query %d (%s %s top %d, filter %v, range %s):\n got %v\nwant %v",
						q, rule, sortOrder, limit, f.criteria, tRange, gotRanks, want)
				}
				if len(want) > 0 {
					nonEmpty++
				}
				for i := 1; i < len(want); i++ {
					if want[i].key == want[i-1].key {
						ties++
					}
				}
			}
			// The property is only worth something if the queries found traces, and ties among them.
			if nonEmpty < 20 || ties == 0 {
				t.Fatalf("weak sample: %d of 40 queries found traces, %d ties", nonEmpty, ties)
			}
		})
	}
}

// --- conditions, time ranges, projection -------------------------------------------------------

func TestQueryConditions(t *testing.T) {
	e := newEnv(t).withSW()
	spans := genSpans(rand.New(rand.NewPCG(7, 7)), 60)
	e.mustWrite(requests(spans)...)
	tr := e.trace("test-trace-group", "sw")
	rng := fullRange()
	lo, hi := rng.Start.UnixNano(), rng.End.UnixNano()
	someID := spans[0].traceID
	tests := []struct {
		name     string
		criteria *modelv1.Criteria
		pred     func(swSpan) bool
	}{
		{"EQ", cond("service_id", opEQ, str("svc-a")), func(s swSpan) bool { return s.service == "svc-a" }},
		{"EQ int", cond("state", opEQ, i64(0)), func(s swSpan) bool { return s.state == 0 }},
		{"EQ nothing", cond("service_id", opEQ, str("svc-none")), func(swSpan) bool { return false }},
		{"NE", cond("service_id", opNE, str("svc-a")), func(s swSpan) bool { return s.service != "svc-a" }},
		{"IN", cond("service_instance_id", opIN, strs("inst-1")), func(s swSpan) bool { return s.instance == "inst-1" }},
		{"IN ints", cond("duration", opIN, ints(1, 2, 3, 29)), func(s swSpan) bool {
			return s.duration == 1 || s.duration == 2 || s.duration == 3 || s.duration == 29
		}},
		{"NOT_IN", cond("endpoint_id", opNotIN, strs("/a", "/c")), func(s swSpan) bool { return s.endpoint == "/b" }},
		{"LT on the order tag", cond("duration", opLT, i64(10)), func(s swSpan) bool { return s.duration < 10 }},
		{"GT on the order tag", cond("duration", opGT, i64(25)), func(s swSpan) bool { return s.duration > 25 }},
		{"LE", cond("duration", opLE, i64(0)), func(s swSpan) bool { return s.duration <= 0 }},
		{"GE", cond("duration", opGE, i64(29)), func(s swSpan) bool { return s.duration >= 29 }},
		{"GT the largest int", cond("duration", opGT, i64(1<<63-1)), func(swSpan) bool { return false }},
		{"LT the smallest int", cond("duration", opLT, i64(-1<<63)), func(swSpan) bool { return false }},
		{"range on another tag", cond("state", opGT, i64(0)), func(s swSpan) bool { return s.state > 0 }},
		{"AND", and(cond("service_id", opEQ, str("svc-b")), cond("state", opEQ, i64(1))),
			func(s swSpan) bool { return s.service == "svc-b" && s.state == 1 }},
		{"OR", or(cond("service_id", opEQ, str("svc-b")), cond("duration", opGE, i64(27))),
			func(s swSpan) bool { return s.service == "svc-b" || s.duration >= 27 }},
		{"AND of OR", and(or(cond("endpoint_id", opEQ, str("/a")), cond("endpoint_id", opEQ, str("/b"))),
			cond("duration", opLT, i64(15))),
			func(s swSpan) bool { return (s.endpoint == "/a" || s.endpoint == "/b") && s.duration < 15 }},
		{"trace id NE", cond("trace_id", opNE, str(someID)), func(s swSpan) bool { return s.traceID != someID }},
		{"timestamp range", and(cond("timestamp", opGE, ts(rng.Start.Add(12*time.Hour))), cond("timestamp", opLT, ts(rng.Start.Add(36*time.Hour)))),
			func(s swSpan) bool {
				return !s.at.Before(rng.Start.Add(12*time.Hour)) && s.at.Before(rng.Start.Add(36*time.Hour))
			}},
	}
	for _, tt := range tests {
		for _, rule := range []string{"duration", "timestamp"} {
			t.Run(tt.name+"/"+rule, func(t *testing.T) {
				res := e.query(tr, QueryOptions{TimeRange: rng, Criteria: tt.criteria,
					OrderBy: orderBy(rule, modelv1.Sort_SORT_DESC), MaxTraces: 1000})
				want := bruteRank(spans, tt.pred, keyOf(rule), lo, hi, true, 1000)
				if got := resultRanks(res); !reflect.DeepEqual(got, want) {
					t.Fatalf("\n got %v\nwant %v", got, want)
				}
			})
		}
	}
}

func TestQueryHaving(t *testing.T) {
	e := newEnv(t).withZipkin()
	_, today := days()
	// zipkin's tags: trace_id, span_id, ..., query (string array) at 14, timestamp at 15.
	zipkinSpan := func(traceID string, at time.Time, query ...string) *tracev1.InternalWriteRequest {
		tags := make([]*modelv1.TagValue, 16)
		for i := range tags {
			tags[i] = null()
		}
		tags[0], tags[1] = str(traceID), str(traceID+"-s")
		tags[3], tags[6] = str("GET /"), str("frontend")
		if query != nil {
			tags[14] = strs(query...)
		}
		tags[15] = ts(at)
		return internalRequest("zipkinTrace", "zipkin", []byte(traceID), tags...)
	}
	e.mustWrite(
		zipkinSpan("t1", today.Add(1*time.Minute), "a", "b"),
		zipkinSpan("t2", today.Add(2*time.Minute), "b", "c"),
		zipkinSpan("t3", today.Add(3*time.Minute), "a"),
		zipkinSpan("t4", today.Add(4*time.Minute)),
		zipkinSpan("t5", today.Add(5*time.Minute), "a", "b", "c"),
	)
	tr := e.trace("zipkinTrace", "zipkin")
	tests := []struct {
		name     string
		criteria *modelv1.Criteria
		want     []string
	}{
		{"HAVING a", cond("query", opHaving, strs("a")), []string{"t5", "t3", "t1"}},
		{"HAVING a and b", cond("query", opHaving, strs("a", "b")), []string{"t5", "t1"}},
		{"HAVING a single value", cond("query", opHaving, str("c")), []string{"t5", "t2"}},
		{"HAVING nothing", cond("query", opHaving, strs("z")), []string{}},
		{"NOT_HAVING", cond("query", opNotHaving, strs("a")), []string{"t4", "t2"}},
		{"HAVING and EQ", and(cond("query", opHaving, strs("b")), cond("local_endpoint_service_name", opEQ, str("frontend"))),
			[]string{"t5", "t2", "t1"}},
		{"HAVING or HAVING", or(cond("query", opHaving, strs("c")), cond("query", opHaving, strs("a"))),
			[]string{"t5", "t3", "t2", "t1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.query(tr, QueryOptions{TimeRange: fullRange(), Criteria: tt.criteria,
				OrderBy: orderBy("zipkin-timestamp", modelv1.Sort_SORT_DESC), MaxTraces: 10})
			if got := ids(res); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	// An array tag cannot take IN.
	_, err := tr.Query(context.Background(), QueryOptions{Name: "zipkin", TimeRange: fullRange(),
		Criteria: cond("query", opIN, strs("a")), OrderBy: orderBy("zipkin-timestamp", modelv1.Sort_SORT_DESC), MaxTraces: 10})
	if !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("IN on an array tag: %v, want ErrInvalidQuery", err)
	}
}

func TestQueryTimeRange(t *testing.T) {
	e := newEnv(t).withSW()
	yesterday, today := days()
	spans := []swSpan{
		{traceID: "old", spanID: "s1", at: yesterday.Add(time.Hour), service: "svc", duration: 10},
		{traceID: "both", spanID: "s1", at: yesterday.Add(2 * time.Hour), service: "svc", duration: 99},
		{traceID: "both", spanID: "s2", at: today.Add(2 * time.Hour), service: "svc", duration: 20},
		{traceID: "new", spanID: "s1", at: today.Add(3 * time.Hour), service: "svc", duration: 30},
		{traceID: "edge", spanID: "s1", at: today, service: "svc", duration: 40},
	}
	e.mustWrite(requests(spans)...)
	tr := e.trace("test-trace-group", "sw")
	tests := []struct {
		name  string
		rng   timestamp.TimeRange
		rule  string
		want  []string
		spans map[string]int // spans returned per trace
	}{
		{name: "both days", rng: fullRange(), rule: "duration", want: []string{"both", "edge", "new", "old"},
			spans: map[string]int{"both": 2, "edge": 1, "new": 1, "old": 1}},
		// Today only: "both" ranks by its span of today (20, not 99), and comes back whole.
		{name: "today", rng: timeRange(today, today.Add(24*time.Hour-time.Millisecond)), rule: "duration",
			want: []string{"edge", "new", "both"}, spans: map[string]int{"both": 2, "edge": 1, "new": 1}},
		{name: "yesterday", rng: timeRange(yesterday, today.Add(-time.Millisecond)), rule: "duration",
			want: []string{"both", "old"}, spans: map[string]int{"both": 2, "old": 1}},
		{name: "the inclusive end", rng: timeRange(today.Add(-time.Hour), today), rule: "duration",
			want: []string{"edge"}, spans: map[string]int{"edge": 1}},
		{name: "the exclusive end", rng: timestamp.NewTimeRangeDuration(today.Add(-time.Hour), time.Hour, true, false), rule: "duration",
			want: []string{}},
		{name: "within a day by timestamp", rng: timeRange(today.Add(90*time.Minute), today.Add(150*time.Minute)), rule: "timestamp",
			want: []string{"both"}, spans: map[string]int{"both": 2}},
		{name: "before any data", rng: timeRange(yesterday.Add(-48*time.Hour), yesterday.Add(-time.Hour)), rule: "duration",
			want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.query(tr, QueryOptions{TimeRange: tt.rng, OrderBy: orderBy(tt.rule, modelv1.Sort_SORT_DESC), MaxTraces: 10})
			if got := ids(res); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for _, r := range res {
				if len(r.Spans) != tt.spans[r.TraceId] {
					t.Fatalf("trace %s: %d spans, want %d", r.TraceId, len(r.Spans), tt.spans[r.TraceId])
				}
			}
		})
	}
}

func tagKeys(tags []*modelv1.Tag) []string {
	out := []string{}
	for _, t := range tags {
		out = append(out, t.GetKey())
	}
	return out
}

func isNullTag(v *modelv1.TagValue) bool {
	_, ok := v.GetValue().(*modelv1.TagValue_Null)
	return ok
}

func TestQueryProjection(t *testing.T) {
	e := newEnv(t).withSW()
	_, today := days()
	at := today.Add(time.Hour)
	e.mustWrite(swSpan{traceID: "t1", spanID: "s1", at: at, service: "svc", instance: "inst", endpoint: "", state: 1, duration: 7}.request())
	tr := e.trace("test-trace-group", "sw")
	query := func(projection ...string) *tracev1.Span {
		t.Helper()
		res := e.query(tr, QueryOptions{TimeRange: fullRange(), OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC),
			MaxTraces: 1, TagProjection: projection})
		if len(res) != 1 || len(res[0].Spans) != 1 {
			t.Fatalf("got %d traces", len(res))
		}
		s := res[0].Spans[0]
		if s.SpanId != "s1" || string(s.Span) != "t1/s1" {
			t.Fatalf("span id %q payload %q", s.SpanId, s.Span)
		}
		return s
	}

	// §7.5: projected ordinary tags in request order, then trace id, then span id.
	s := query("trace_id", "span_id", "duration", "service_id", "timestamp", "state")
	if got, want := tagKeys(s.Tags), []string{"duration", "service_id", "timestamp", "state", "trace_id", "span_id"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tag order = %v, want %v", got, want)
	}
	wantValues := []*modelv1.TagValue{i64(7), str("svc"), ts(at), i64(1), str("t1"), str("s1")}
	for i, w := range wantValues {
		if !proto.Equal(s.Tags[i].GetValue(), w) {
			t.Fatalf("tag %s = %v, want %v", s.Tags[i].GetKey(), s.Tags[i].GetValue(), w)
		}
	}

	s = query("span_id", "service_instance_id", "trace_id")
	if got, want := tagKeys(s.Tags), []string{"service_instance_id", "trace_id", "span_id"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tag order = %v, want %v", got, want)
	}

	// An empty string reads back as an empty string (API 0.10), not null.
	s = query("endpoint_id")
	if len(s.Tags) != 1 || !proto.Equal(s.Tags[0].GetValue(), str("")) {
		t.Fatalf("empty endpoint_id = %v, want an empty string", s.Tags)
	}

	// No projection: no tags, but the span and its id.
	if s = query(); len(s.Tags) != 0 {
		t.Fatalf("tags without projection: %v", s.Tags)
	}

	// A tag this schema does not have (another group's) reads as null.
	s = query("not_in_this_group", "duration")
	if got := tagKeys(s.Tags); !reflect.DeepEqual(got, []string{"not_in_this_group", "duration"}) || !isNullTag(s.Tags[0].GetValue()) {
		t.Fatalf("projection of an unknown tag = %v", s.Tags)
	}
}

func TestQuerySchemaEvolution(t *testing.T) {
	e := newEnv(t).withSW()
	_, today := days()
	// Written under the first schema.
	e.mustWrite(swSpan{traceID: "v1", spanID: "s", at: today.Add(time.Minute), service: "svc", duration: 1}.request())

	// The schema gains a tag at its end.
	evolved := testenv.Clone(e.fx.SW)
	evolved.Tags = append(evolved.Tags, &databasev1.TraceTagSpec{Name: "error_message", Type: databasev1.TagType_TAG_TYPE_STRING})
	e.md.Put(evolved)
	withErr := swSpan{traceID: "v2", spanID: "s", at: today.Add(2 * time.Minute), service: "svc", duration: 2}
	withoutErr := swSpan{traceID: "v2short", spanID: "s", at: today.Add(3 * time.Minute), service: "svc", duration: 3}
	e.mustWrite(
		internalRequest("test-trace-group", "sw", withErr.payload(), append(withErr.tags(), str("boom"))...),
		// Fewer values than tags: the missing trailing tag is null.
		withoutErr.request(),
	)
	tr := e.trace("test-trace-group", "sw")
	res := e.query(tr, QueryOptions{TimeRange: fullRange(), OrderBy: orderBy("duration", modelv1.Sort_SORT_ASC),
		MaxTraces: 10, TagProjection: []string{"error_message", "service_id"}})
	if got, want := ids(res), []string{"v1", "v2", "v2short"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("traces = %v, want %v", got, want)
	}
	wantErr := map[string]*modelv1.TagValue{"v1": null(), "v2": str("boom"), "v2short": null()}
	for _, r := range res {
		tags := r.Spans[0].Tags
		if got := tagKeys(tags); !reflect.DeepEqual(got, []string{"error_message", "service_id"}) {
			t.Fatalf("trace %s tags %v", r.TraceId, got)
		}
		if !proto.Equal(tags[0].GetValue(), wantErr[r.TraceId]) {
			t.Fatalf("trace %s error_message = %v, want %v", r.TraceId, tags[0].GetValue(), wantErr[r.TraceId])
		}
		if !proto.Equal(tags[1].GetValue(), str("svc")) {
			t.Fatalf("trace %s service_id = %v", r.TraceId, tags[1].GetValue())
		}
	}
	// A condition on the new tag: spans without it are null, so EQ misses and NE matches them.
	eq := e.query(tr, QueryOptions{TimeRange: fullRange(), Criteria: cond("error_message", opEQ, str("boom")),
		OrderBy: orderBy("duration", modelv1.Sort_SORT_ASC), MaxTraces: 10})
	if got := ids(eq); !reflect.DeepEqual(got, []string{"v2"}) {
		t.Fatalf("error_message = boom: %v", got)
	}
	ne := e.query(tr, QueryOptions{TimeRange: fullRange(), Criteria: cond("error_message", opNE, str("boom")),
		OrderBy: orderBy("duration", modelv1.Sort_SORT_ASC), MaxTraces: 10})
	if got := ids(ne); !reflect.DeepEqual(got, []string{"v1", "v2short"}) {
		t.Fatalf("error_message != boom: %v", got)
	}
}

// --- queries by trace id ----------------------------------------------------------------------

func TestQueryByTraceIDs(t *testing.T) {
	e := newEnv(t).withSW()
	yesterday, today := days()
	e.mustWrite(requests([]swSpan{
		{traceID: "c", spanID: "s1", at: today.Add(time.Hour), service: "svc-a", duration: 1},
		{traceID: "a", spanID: "s1", at: yesterday.Add(time.Hour), service: "svc-b", duration: 2},
		{traceID: "a", spanID: "s2", at: today.Add(time.Hour), service: "svc-a", duration: 3},
		{traceID: "b", spanID: "s1", at: today.Add(time.Hour), service: "svc-b", duration: 4},
		{traceID: "d", spanID: "s1", at: yesterday.Add(time.Hour), service: "svc-b", duration: 5},
	})...)
	tr := e.trace("test-trace-group", "sw")
	tests := []struct {
		name     string
		criteria *modelv1.Criteria
		order    *modelv1.QueryOrder
		rng      timestamp.TimeRange
		limit    int
		want     []string
		spans    map[string]int
	}{
		{name: "EQ", criteria: cond("trace_id", opEQ, str("a")), want: []string{"a"}, spans: map[string]int{"a": 2}},
		{name: "IN sorted by id", criteria: cond("trace_id", opIN, strs("d", "c", "a", "nope", "c")),
			want: []string{"a", "c", "d"}, spans: map[string]int{"a": 2, "c": 1, "d": 1}},
		{name: "EQ with a list", criteria: cond("trace_id", opEQ, strs("b", "a")), want: []string{"a", "b"}},
		{name: "truncated to the limit", criteria: cond("trace_id", opIN, strs("d", "c", "b", "a")), limit: 2, want: []string{"a", "b"}},
		{name: "OR of ids", criteria: or(cond("trace_id", opEQ, str("d")), cond("trace_id", opEQ, str("b"))), want: []string{"b", "d"}},
		{name: "the order is irrelevant", criteria: cond("trace_id", opIN, strs("d", "a")),
			order: orderBy("duration", modelv1.Sort_SORT_DESC), want: []string{"a", "d"}},
		{name: "a trace matches when one of its spans does", criteria: and(cond("trace_id", opIN, strs("a", "b", "c")),
			cond("service_id", opEQ, str("svc-a"))), want: []string{"a", "c"}, spans: map[string]int{"a": 2, "c": 1}},
		{name: "the same span must match every condition", criteria: and(cond("trace_id", opEQ, str("a")),
			and(cond("service_id", opEQ, str("svc-a")), cond("duration", opEQ, i64(2)))), want: []string{}},
		{name: "disjoint ids", criteria: and(cond("trace_id", opEQ, str("a")), cond("trace_id", opEQ, str("b"))), want: []string{}},
		{name: "unknown id", criteria: cond("trace_id", opEQ, str("zzz")), want: []string{}},
		// a has a span in each day, d only yesterday: a matches today and is returned whole.
		{name: "matched in today's segment, returned whole", criteria: cond("trace_id", opIN, strs("a", "d")),
			rng: timeRange(today, today.Add(24*time.Hour)), want: []string{"a"}, spans: map[string]int{"a": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := tt.rng
			if rng.Start.IsZero() {
				rng = fullRange()
			}
			limit := tt.limit
			if limit == 0 {
				limit = 10
			}
			res := e.query(tr, QueryOptions{TimeRange: rng, Criteria: tt.criteria, OrderBy: tt.order, MaxTraces: limit})
			if got := ids(res); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for _, r := range res {
				if r.Key != 0 {
					t.Fatalf("trace %s has key %d in a query by ids", r.TraceId, r.Key)
				}
				if n, ok := tt.spans[r.TraceId]; ok && len(r.Spans) != n {
					t.Fatalf("trace %s: %d spans, want %d", r.TraceId, len(r.Spans), n)
				}
			}
		})
	}
}

func TestQueryKeepsTracesOfOtherSchemasApart(t *testing.T) {
	e := newEnv(t).withSW()
	// A second trace schema in the same group, bound to the same rules, shares the group's tables.
	other := testenv.Clone(e.fx.SW)
	other.Metadata.Name = "sw2"
	binding := testenv.Clone(e.fx.SWBinding)
	binding.Metadata.Name = "sw2-binding"
	binding.Subject.Name = "sw2"
	e.md.Put(binding)
	e.md.Put(other)
	_, today := days()
	span := swSpan{traceID: "shared-id", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 5}
	otherSpan := span
	otherSpan.spanID, otherSpan.duration = "other", 50
	e.mustWrite(span.request(), internalRequest("test-trace-group", "sw2", []byte("sw2 span"), otherSpan.tags()...))
	for name, wantPayload := range map[string]string{"sw": "shared-id/s", "sw2": "sw2 span"} {
		tr := e.trace("test-trace-group", name)
		for _, opts := range []QueryOptions{
			{TimeRange: fullRange(), OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC), MaxTraces: 10},
			{TimeRange: fullRange(), Criteria: cond("trace_id", opEQ, str("shared-id")), MaxTraces: 10},
		} {
			res := e.query(tr, opts)
			if len(res) != 1 || len(res[0].Spans) != 1 || string(res[0].Spans[0].Span) != wantPayload {
				t.Fatalf("%s sees %d traces (%v), want its own span only", name, len(res), res)
			}
		}
	}
}

// --- errors -----------------------------------------------------------------------------------

func TestQueryErrors(t *testing.T) {
	e := newEnv(t).withSW()
	tr := e.trace("test-trace-group", "sw")
	noSort := testenv.Clone(e.fx.Timestamp)
	noSort.Metadata.Name = "unsorted"
	noSort.NoSort = true
	byString := testenv.Clone(e.fx.Timestamp)
	byString.Metadata.Name = "by-service"
	byString.Tags = []string{"service_id"}
	binding := testenv.Clone(e.fx.SWBinding)
	binding.Rules = append(binding.Rules, "unsorted", "by-service")
	e.md.Put(noSort)
	e.md.Put(byString)
	e.md.Put(binding)
	tests := []struct {
		name string
		opts QueryOptions
		want string
	}{
		{name: "unknown tag in a condition", opts: QueryOptions{
			Criteria: cond("nope", opEQ, str("x")), OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC)}, want: "'nope' not found"},
		{name: "unknown tag in a query by id", opts: QueryOptions{
			Criteria: and(cond("trace_id", opEQ, str("a")), cond("nope", opEQ, str("x")))}, want: "'nope' not found"},
		{name: "unknown order rule", opts: QueryOptions{OrderBy: orderBy("latency", modelv1.Sort_SORT_DESC)},
			want: "index rule latency not found"},
		{name: "order rule bound to no trace of this name", opts: QueryOptions{OrderBy: orderBy("zipkin-timestamp", modelv1.Sort_SORT_DESC)},
			want: "not found"},
		{name: "no_sort rule", opts: QueryOptions{OrderBy: orderBy("unsorted", modelv1.Sort_SORT_DESC)}, want: "no_sort"},
		{name: "rule ending in a string tag", opts: QueryOptions{OrderBy: orderBy("by-service", modelv1.Sort_SORT_DESC)},
			want: "INT or TIMESTAMP"},
		{name: "IN on an array-free schema's scalar without a list", opts: QueryOptions{
			Criteria: cond("service_id", opIN, str("x")), OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC)}, want: "array value"},
		{name: "no trace ids and no order", opts: QueryOptions{}, want: "either traceIDs or order must be specified"},
		{name: "an order without a rule", opts: QueryOptions{OrderBy: &modelv1.QueryOrder{Sort: modelv1.Sort_SORT_DESC}},
			want: "either traceIDs or order must be specified"},
		{name: "conditions but no ids and no order", opts: QueryOptions{Criteria: cond("service_id", opEQ, str("x"))},
			want: "either traceIDs or order must be specified"},
		{name: "trace id NE is not a list of ids", opts: QueryOptions{Criteria: cond("trace_id", opNE, str("x"))},
			want: "either traceIDs or order must be specified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Name, opts.TimeRange, opts.MaxTraces = "sw", fullRange(), 10
			res, err := tr.Query(context.Background(), opts)
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("error = %v, want ErrInvalidQuery", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
			if len(res) != 0 {
				t.Fatalf("an invalid query returned traces: %v", ids(res))
			}
		})
	}
}

func TestQueryWithNoLimitOrCancelled(t *testing.T) {
	e := newEnv(t).withSW()
	_, today := days()
	e.mustWrite(swSpan{traceID: "t", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 1}.request())
	tr := e.trace("test-trace-group", "sw")
	res := e.query(tr, QueryOptions{TimeRange: fullRange(), OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC)})
	if len(res) != 0 {
		t.Fatalf("MaxTraces 0 returned %v", ids(res))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Query(ctx, QueryOptions{Name: "sw", TimeRange: fullRange(),
		OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC), MaxTraces: 10}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled query: %v, want context.Canceled", err)
	}
}

// --- the query topic ----------------------------------------------------------------------------

func TestQueryTopicRunsTheQueryOnEveryGroup(t *testing.T) {
	e := newEnv(t).withSW()
	yesterday, today := days()
	// A second group with the same trace name (§7.3).
	g2 := testenv.Clone(e.fx.SWGroup)
	g2.Metadata.Name = "test-trace-group-2"
	e.md.Put(g2)
	for _, m := range []proto.Message{e.fx.Duration, e.fx.Timestamp, e.fx.SWBinding, e.fx.SW} {
		c := proto.Clone(m)
		c.(interface{ GetMetadata() *commonv1.Metadata }).GetMetadata().Group = "test-trace-group-2"
		e.md.Put(c)
	}
	e.mustWrite(
		swSpan{traceID: "g1-slow", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 300}.request(),
		swSpan{traceID: "g1-fast", spanID: "s", at: yesterday.Add(time.Hour), service: "svc", duration: 10}.request(),
	)
	other := swSpan{traceID: "g2-mid", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 200}
	tie := swSpan{traceID: "g2-tie", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 300}
	e.mustWrite(internalRequest("test-trace-group-2", "sw", other.payload(), other.tags()...),
		internalRequest("test-trace-group-2", "sw", tie.payload(), tie.tags()...))

	rng := fullRange()
	req := &tracev1.QueryRequest{
		Groups:    []string{"test-trace-group", "test-trace-group-2"},
		Name:      "sw",
		TimeRange: &modelv1.TimeRange{Begin: timestamppb.New(rng.Start), End: timestamppb.New(rng.End)},
		OrderBy:   orderBy("duration", modelv1.Sort_SORT_DESC),
		Limit:     3,
	}
	resp, err := e.s.QueryTraces(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var keys []int64
	for _, tr := range resp.GetInternalTraces() {
		got = append(got, tr.GetTraceId())
		keys = append(keys, tr.GetKey())
	}
	if want := []string{"g1-slow", "g2-tie", "g2-mid"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("merged traces = %v, want %v", got, want)
	}
	if want := []int64{300, 300, 200}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}

	req.Groups = []string{"test-trace-group", "no-such-group"}
	if _, err := e.s.QueryTraces(context.Background(), req); status.Code(err) != codes.NotFound {
		t.Fatalf("a query naming an unknown group: %v, want NotFound", err)
	}
}

// sanity: the tests above rely on the fixture's schema layout.
func TestFixtureLayout(t *testing.T) {
	fx := testenv.LoadSchemas(t)
	want := []string{"trace_id", "state", "service_id", "service_instance_id", "endpoint_id", "duration", "span_id", "timestamp"}
	var got []string
	for _, tag := range fx.SW.GetTags() {
		got = append(got, tag.GetName())
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sw tags = %v, want %v", got, want)
	}
	if fx.Zipkin.GetTags()[14].GetName() != "query" || fx.Zipkin.GetTags()[15].GetName() != "timestamp" {
		t.Fatal("zipkin's query and timestamp tags moved")
	}
	if fx.SWGroup.GetResourceOpts().GetShardNum() != 2 || fx.SWGroup.GetCatalog() != commonv1.Catalog_CATALOG_TRACE {
		t.Fatal("test-trace-group is not a two-shard trace group")
	}
}
