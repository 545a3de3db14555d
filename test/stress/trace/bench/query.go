// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// queryStats is the outcome of one kind of query.
type queryStats struct {
	kind     string
	lat      []time.Duration
	errors   int // the call failed
	mismatch int // the answer was wrong
}

func (q *queryStats) failures() int { return q.errors + q.mismatch }

// querier runs the verification queries against the written data.
type querier struct {
	client     tracev1.TraceServiceClient
	schema     *benchSchema
	w          *workload
	acks       *ackSet
	log        *mismatchLog
	timeout    time.Duration
	refByQuery map[string][]rankedTrace
}

func msTimestamp(t time.Time) *timestamppb.Timestamp {
	return timestamppb.New(t.Truncate(time.Millisecond))
}

func strValue(v string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: v}}}
}

func eqCriteria(tag, value string) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
		Name: tag, Op: modelv1.Condition_BINARY_OP_EQ, Value: strValue(value),
	}}}
}

// idQueries looks up n traces by id, each expected to come back with exactly its written spans.
func (q *querier) idQueries(ctx context.Context, n int, rng *rand.Rand, now time.Time, slack time.Duration) *queryStats {
	st := &queryStats{kind: "trace-id"}
	if len(q.w.traces) == 0 {
		return st
	}
	order := rng.Perm(len(q.w.traces))
	tags := q.schema.tagNames()
	tr := &modelv1.TimeRange{Begin: msTimestamp(now.Add(-q.w.cfg.window - slack)), End: msTimestamp(now.Add(slack))}
	for i := 0; i < n; i++ {
		t := order[i%len(order)]
		want := &q.w.traces[t]
		req := &tracev1.QueryRequest{
			Groups:        []string{q.schema.metadata.GetGroup()},
			Name:          q.schema.metadata.GetName(),
			TimeRange:     tr,
			Criteria:      eqCriteria("trace_id", want.id),
			TagProjection: tags,
		}
		resp, lat, err := q.query(ctx, req)
		if err != nil {
			st.errors++
			q.log.note(st.kind, fmt.Sprintf("trace_id = %s: %v", want.id, err))
			continue
		}
		st.lat = append(st.lat, lat)
		var problems []string
		expected := q.ackedSpans(t)
		switch {
		case expected == 0 && len(resp.GetTraces()) == 0:
		case len(resp.GetTraces()) != 1:
			problems = append(problems, fmt.Sprintf("got %d traces %v, want 1 trace with %d spans", len(resp.GetTraces()), traceIDs(resp), expected))
		default:
			problems = q.checkTrace(resp.GetTraces()[0], t, tags)
		}
		if len(problems) > 0 {
			st.mismatch++
			q.log.note(st.kind, fmt.Sprintf("trace_id = %s: %s", want.id, strings.Join(problems, "; ")))
		}
	}
	return st
}

// condQueries runs n "service_id = X order by duration desc limit" queries, each expected to return
// exactly the reference top traces, in order, each with all its spans.
func (q *querier) condQueries(ctx context.Context, n, limit int, rng *rand.Rand) *queryStats {
	st := &queryStats{kind: "condition"}
	tags := []string{"service_id", "duration"}
	tr := &modelv1.TimeRange{Begin: msTimestamp(q.w.minTS.Add(-time.Second)), End: msTimestamp(q.w.maxTS.Add(time.Second))}
	keyOf := make(map[string]int, len(q.w.traces))
	for t := range q.w.traces {
		keyOf[q.w.traces[t].id] = t
	}
	for i := 0; i < n; i++ {
		service := serviceName(rng.IntN(q.w.cfg.services))
		req := &tracev1.QueryRequest{
			Groups:        []string{q.schema.metadata.GetGroup()},
			Name:          q.schema.metadata.GetName(),
			TimeRange:     tr,
			Criteria:      eqCriteria("service_id", service),
			OrderBy:       &modelv1.QueryOrder{IndexRuleName: "duration", Sort: modelv1.Sort_SORT_DESC},
			Limit:         uint32(limit),
			TagProjection: tags,
		}
		resp, lat, err := q.query(ctx, req)
		if err != nil {
			st.errors++
			q.log.note(st.kind, fmt.Sprintf("service_id = %s: %v", service, err))
			continue
		}
		st.lat = append(st.lat, lat)
		want, ok := q.refByQuery[service]
		if !ok {
			want = rankForService(q.w, q.acks, service, limit)
			q.refByQuery[service] = want
		}
		problems := q.checkRanking(resp, want, service, keyOf)
		if len(problems) == 0 {
			for j, got := range resp.GetTraces() {
				if p := q.checkTrace(got, want[j].trace, tags); len(p) > 0 {
					problems = append(problems, fmt.Sprintf("rank %d (%s): %s", j+1, got.GetTraceId(), strings.Join(p, "; ")))
				}
			}
		}
		if extra := len(problems) - 24; extra > 0 {
			problems = append(problems[:24], fmt.Sprintf("... %d more", extra))
		}
		if len(problems) > 0 {
			st.mismatch++
			q.log.note(st.kind, fmt.Sprintf("service_id = %s order by duration desc limit %d (time range %s .. %s):\n    %s",
				service, limit, tr.GetBegin().AsTime().Format(time.RFC3339Nano), tr.GetEnd().AsTime().Format(time.RFC3339Nano),
				strings.Join(problems, "\n    ")))
		}
	}
	return st
}

// checkRanking compares the returned trace ids with the reference, describing the difference.
func (q *querier) checkRanking(resp *tracev1.QueryResponse, want []rankedTrace, service string, keyOf map[string]int) []string {
	got := resp.GetTraces()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = got[i].GetTraceId() == want[i].id
	}
	if same {
		return nil
	}
	// Is it only the order among equal keys?
	tieOnly := len(got) == len(want)
	var lines []string
	lines = append(lines, fmt.Sprintf("got %d traces, want %d; rank: got id (its key for %s) | want id (key)", len(got), len(want), service))
	for i := 0; i < max(len(got), len(want)); i++ {
		g, w := "-", "-"
		gotKey := int64(-1)
		if i < len(got) {
			id := got[i].GetTraceId()
			if t, ok := keyOf[id]; ok {
				if r := rankForTrace(q.w, q.acks, t, service); r != nil {
					gotKey = *r
					g = fmt.Sprintf("%s (%d)", id, gotKey)
				} else {
					g = fmt.Sprintf("%s (no span of %s)", id, service)
				}
			} else {
				g = fmt.Sprintf("%s (not written by this run)", id)
			}
		}
		if i < len(want) {
			w = fmt.Sprintf("%s (%d)", want[i].id, want[i].key)
			if gotKey != want[i].key {
				tieOnly = false
			}
		}
		mark := " "
		if i >= len(got) || i >= len(want) || got[i].GetTraceId() != want[i].id {
			mark = "*"
		}
		lines = append(lines, fmt.Sprintf("%s%2d: %s | %s", mark, i+1, g, w))
	}
	if tieOnly {
		lines[0] += " [same keys at every rank: only the order of equal keys differs]"
	}
	return lines
}

// rankForTrace is the rank key of trace t for a service, or nil if no acknowledged span has it.
func rankForTrace(w *workload, acks *ackSet, t int, service string) *int64 {
	var key *int64
	for i := range w.traces[t].spans {
		s := &w.traces[t].spans[i]
		if s.service == service && acks.has(t, i) && (key == nil || s.duration > *key) {
			d := s.duration
			key = &d
		}
	}
	return key
}

func (q *querier) query(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.QueryResponse, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	start := time.Now()
	resp, err := q.client.Query(ctx, req)
	return resp, time.Since(start), err
}

func (q *querier) ackedSpans(t int) int {
	n := 0
	for i := range q.w.traces[t].spans {
		if q.acks.has(t, i) {
			n++
		}
	}
	return n
}

// checkTrace compares a returned trace with the acknowledged spans of workload trace t: same trace
// id, the same span ids with the same bytes, each once, and exactly the projected tags with the
// written values.
func (q *querier) checkTrace(got *tracev1.Trace, t int, projection []string) []string {
	want := &q.w.traces[t]
	var problems []string
	add := func(format string, args ...any) {
		if len(problems) < 4 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	if got.GetTraceId() != want.id {
		add("trace id %q, want %q", got.GetTraceId(), want.id)
	}
	byID := make(map[string]int, len(want.spans))
	for i := range want.spans {
		if q.acks.has(t, i) {
			byID[want.spans[i].spanID] = i
		}
	}
	names := q.schema.tagNames()
	seen := make(map[string]bool, len(got.GetSpans()))
	for _, sp := range got.GetSpans() {
		i, ok := byID[sp.GetSpanId()]
		switch {
		case !ok:
			add("unexpected span id %q (%d bytes: %.60q)", sp.GetSpanId(), len(sp.GetSpan()), sp.GetSpan())
			continue
		case seen[sp.GetSpanId()]:
			add("span %q returned twice", sp.GetSpanId())
			continue
		}
		seen[sp.GetSpanId()] = true
		ws := &want.spans[i]
		if !bytes.Equal(sp.GetSpan(), ws.payload) {
			add("span %q: %d bytes %.60q, want %d bytes %.60q", sp.GetSpanId(), len(sp.GetSpan()), sp.GetSpan(), len(ws.payload), ws.payload)
		}
		values := tagValues(want.id, ws)
		gotTags := make(map[string]*modelv1.TagValue, len(sp.GetTags()))
		for _, tag := range sp.GetTags() {
			if _, dup := gotTags[tag.GetKey()]; dup {
				add("span %q: tag %q twice", sp.GetSpanId(), tag.GetKey())
			}
			gotTags[tag.GetKey()] = tag.GetValue()
		}
		for _, name := range projection {
			pos := indexOf(names, name)
			v, ok := gotTags[name]
			switch {
			case !ok:
				add("span %q: projected tag %q missing (got %s)", sp.GetSpanId(), name, tagKeys(sp))
			case !proto.Equal(v, values[pos]):
				add("span %q: tag %q = %s, want %s", sp.GetSpanId(), name, compact(v), compact(values[pos]))
			}
			delete(gotTags, name)
		}
		for name := range gotTags {
			add("span %q: tag %q not projected", sp.GetSpanId(), name)
		}
	}
	if len(seen) != len(byID) {
		var missing []string
		for id := range byID {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		add("%d spans returned, %d written (missing %v)", len(got.GetSpans()), len(byID), missing)
	}
	return problems
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func tagKeys(sp *tracev1.Span) []string {
	out := make([]string, 0, len(sp.GetTags()))
	for _, t := range sp.GetTags() {
		out = append(out, t.GetKey())
	}
	return out
}

func compact(m proto.Message) string {
	return strings.TrimSpace(prototext.MarshalOptions{}.Format(m))
}

func traceIDs(resp *tracev1.QueryResponse) []string {
	out := make([]string, 0, len(resp.GetTraces()))
	for _, t := range resp.GetTraces() {
		out = append(out, fmt.Sprintf("%s(%d spans)", t.GetTraceId(), len(t.GetSpans())))
	}
	return out
}
