// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"math"
	"path/filepath"
	"sort"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/internal/storage"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// QueryOptions is one trace query against one trace schema of one group.
type QueryOptions struct {
	// TimeRange selects segments and spans by the span timestamp (inclusive bounds).
	TimeRange timestamp.TimeRange
	// Criteria filters spans; a trace matches when one of its spans matches.
	Criteria *modelv1.Criteria
	// OrderBy names the index rule that ranks traces; nil when the query is by trace ids.
	OrderBy *modelv1.QueryOrder
	// Name is the trace schema's name.
	Name string
	// TagProjection lists the tags returned per span, in request order.
	TagProjection []string
	// MaxTraces is how many ranked traces to return (offset + limit: the front door applies the
	// offset after merging the results of every group and node).
	MaxTraces int
	// budget is the query's memory and answer budget, shared by the groups of one request; nil:
	// Query makes one of its own over the trace's protector.
	budget *queryBudget
}

// queryPlan is a validated query against one trace.
type queryPlan struct {
	filter   filter
	rule     *indexRule
	traceIDs []string
	// prefixes are the values of the order rule's first tag that every matching span must have
	// (EQ / IN reached through ANDs); the scan then reads only those values' entries.
	prefixes []string
	minKey   int64
	maxKey   int64
	desc     bool
}

func newQueryPlan(is *indexSchema, opts QueryOptions) (*queryPlan, error) {
	f, err := compileCriteria(opts.Criteria, is.tags)
	if err != nil {
		return nil, err
	}
	p := &queryPlan{filter: f, minKey: math.MinInt64, maxKey: math.MaxInt64}
	p.traceIDs = collectTraceIDs(opts.Criteria, is.tags)
	if opts.OrderBy != nil && opts.OrderBy.GetIndexRuleName() != "" {
		ir, ok := is.byName[opts.OrderBy.GetIndexRuleName()]
		if !ok {
			return nil, invalidQuery("index rule %s not found", opts.OrderBy.GetIndexRuleName())
		}
		if ir.rule.GetNoSort() {
			return nil, invalidQuery("index rule %s is not sortable (no_sort)", opts.OrderBy.GetIndexRuleName())
		}
		if !ir.usable {
			return nil, invalidQuery("index rule %s cannot order traces: its last tag must be an INT or TIMESTAMP tag of the trace",
				opts.OrderBy.GetIndexRuleName())
		}
		p.rule = ir
		p.desc = opts.OrderBy.GetSort() != modelv1.Sort_SORT_ASC
	}
	if p.traceIDs == nil && p.rule == nil {
		return nil, invalidQuery("either traceIDs or order must be specified")
	}
	if p.rule != nil {
		if p.rule.sortIsTime {
			p.minKey, p.maxKey = timeRangeNanos(opts)
		}
		p.minKey, p.maxKey = keyBounds(opts.Criteria, is.tags, p.rule.sortPos, p.minKey, p.maxKey)
		if p.rule.prefixPos >= 0 {
			p.prefixes = collectStrValues(opts.Criteria, p.rule.prefixPos, is.tags)
		}
	}
	return p, nil
}

func timeRangeNanos(opts QueryOptions) (int64, int64) {
	lo, hi := opts.TimeRange.Start.UnixNano(), opts.TimeRange.End.UnixNano()
	if !opts.TimeRange.IncludeStart {
		lo++
	}
	if !opts.TimeRange.IncludeEnd {
		hi--
	}
	return lo, hi
}

// Query runs a query against this trace in its group: by trace ids, or by an index rule's order.
// The result holds at most opts.MaxTraces traces in rank order, each with all of its spans, in
// the shape of the response: the plan is compiled here, once, and each stored span becomes a
// response span directly.
func (t *trace) Query(ctx context.Context, opts QueryOptions) ([]*tracev1.InternalTrace, error) {
	is := t.loadIndexSchema()
	plan, err := newQueryPlan(is, opts)
	if err != nil {
		return nil, err
	}
	h, ok := t.loadTSDB()
	if !ok {
		return nil, errors.Errorf("trace %s/%s has no storage on this node", t.group, t.name)
	}
	if opts.MaxTraces <= 0 {
		return nil, nil
	}
	budget := opts.budget
	if budget == nil {
		budget = newQueryBudget(ctx, t.pm, queue.MaxNodeAnswerBytes)
		defer budget.release()
	}
	segs := heldSegments(h.db.SelectSegments(opts.TimeRange))
	defer segs.releaseAll()
	if len(segs) == 0 {
		return nil, nil
	}
	// The time range picks the spans that may match, but a matching trace is returned whole: its
	// spans are read from every segment, including those outside the range. Reading them
	// releases each segment once it is read, so that a group with hundreds of segments is read
	// with few of them open at a time.
	all := heldSegments(h.db.Segments())
	defer all.releaseAll()
	lo, hi := timeRangeNanos(opts)
	var ranked []rankedTrace
	var loaded map[string][]tstable.StoredSpan
	if plan.traceIDs != nil {
		// Matching looks at each span's own timestamp, so reading every segment once serves both.
		segs.releaseAll()
		ranked, loaded, err = t.rankByIDs(ctx, all, is, plan, lo, hi, opts.MaxTraces, budget)
	} else {
		ranked, err = t.rankByIndex(ctx, segs, is, plan, lo, hi, opts.MaxTraces, budget)
		segs.releaseAll()
	}
	if err != nil {
		return nil, err
	}
	if loaded == nil {
		ids := make([]string, len(ranked))
		for i, r := range ranked {
			ids[i] = r.traceID
		}
		if loaded, err = t.loadSpans(ctx, all, ids, budget); err != nil {
			return nil, err
		}
	}
	proj := newProjection(is.tags, opts.TagProjection)
	result := make([]*tracev1.InternalTrace, 0, len(ranked))
	for _, r := range ranked {
		spans := loaded[r.traceID]
		if len(spans) == 0 {
			continue
		}
		tr := &tracev1.InternalTrace{TraceId: r.traceID, Key: r.key, Spans: make([]*tracev1.Span, 0, len(spans))}
		for i := range spans {
			tr.Spans = append(tr.Spans, proj.span(r.traceID, &spans[i]))
		}
		if err := budget.answer(proto.Size(tr)); err != nil {
			return nil, errors.Wrapf(err, "query %s/%s", t.group, t.name)
		}
		if err := budget.charge(ctx, answerOverhead(tr)); err != nil {
			return nil, errors.Wrapf(err, "query %s/%s", t.group, t.name)
		}
		result = append(result, tr)
	}
	return result, nil
}

// rankedTrace is a trace chosen by a query, with the key that ranked it.
type rankedTrace struct {
	traceID string
	key     int64
}

// storedTraceID is the id a trace is stored under: trace schemas of one group share the group's
// tables, so the schema's name qualifies the id.
func storedTraceID(name, traceID string) string {
	return name + "\x00" + traceID
}

// userTraceID strips the schema qualifier; ok is false for another schema's id.
func userTraceID(name, stored string) (string, bool) {
	if len(stored) <= len(name) || stored[:len(name)] != name || stored[len(name)] != 0 {
		return "", false
	}
	return stored[len(name)+1:], true
}

// heldSegments are referenced segments that a reader releases one by one as it is done with
// them, so that the storage may close the idle ones while the rest are read; releaseAll releases
// what is left.
type heldSegments []storage.Segment[*tstable.Table]

// release releases segment i unless it already was.
func (h heldSegments) release(i int) {
	if h[i] != nil {
		h[i].DecRef()
		h[i] = nil
	}
}

// releaseAll releases every segment not released yet.
func (h heldSegments) releaseAll() {
	for i := range h {
		h.release(i)
	}
}

func (t *trace) rankByIDs(ctx context.Context, segs heldSegments, is *indexSchema, plan *queryPlan, lo, hi int64,
	maxTraces int, budget *queryBudget,
) ([]rankedTrace, map[string][]tstable.StoredSpan, error) {
	ids := append([]string(nil), plan.traceIDs...)
	sort.Strings(ids)
	ids = dedupSorted(ids)
	loaded, err := t.loadSpans(ctx, segs, ids, budget)
	if err != nil {
		return nil, nil, err
	}
	var ranked []rankedTrace
	for _, id := range ids {
		spans := loaded[id]
		for i := range spans {
			if spans[i].Timestamp < lo || spans[i].Timestamp > hi {
				continue
			}
			m, _ := plan.filter.match(storedSpanView{span: &spans[i], tags: is.tags, traceID: id})
			if m {
				ranked = append(ranked, rankedTrace{traceID: id})
				break
			}
		}
		if len(ranked) >= maxTraces {
			break
		}
	}
	return ranked, loaded, nil
}

func dedupSorted(ids []string) []string {
	out := ids[:0]
	for i, id := range ids {
		if i > 0 && id == ids[i-1] {
			continue
		}
		out = append(out, id)
	}
	return out
}

// loadSpans reads every span of the traces from the segments, keyed by user trace id, and
// releases each segment once it is read. Each trace's spans are charged to the budget as soon as
// they are read, so that a query past the node's memory budget stops one trace past it.
func (t *trace) loadSpans(ctx context.Context, segs heldSegments, ids []string, budget *queryBudget) (map[string][]tstable.StoredSpan, error) {
	out := make(map[string][]tstable.StoredSpan, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	for si, seg := range segs {
		if seg == nil {
			continue
		}
		byShard := make(map[storage.ShardID][]string)
		for _, id := range ids {
			shard := storage.ShardID(shardOf(id, seg.ShardNum()))
			byShard[shard] = append(byShard[shard], storedTraceID(t.name, id))
		}
		for shard, stored := range byShard {
			table, ok, err := seg.OpenedTable(shard)
			if err != nil {
				return nil, errors.Wrapf(err, "open shard %d of segment %s", shard, filepath.Base(seg.Dir()))
			}
			if !ok {
				continue
			}
			err = table.EachTrace(stored, func(sid string, spans []tstable.StoredSpan) error {
				id, ok := userTraceID(t.name, sid)
				if !ok {
					return nil
				}
				if err := budget.charge(ctx, storedSpansSize(spans)); err != nil {
					return err
				}
				out[id] = append(out[id], spans...)
				return nil
			})
			if err != nil {
				return nil, errors.Wrapf(err, "read traces from shard %d of segment %s", shard, filepath.Base(seg.Dir()))
			}
		}
		segs.release(si)
	}
	return out, nil
}

// storedSpanView shows a stored span to a filter: every tag is known.
type storedSpanView struct {
	span    *tstable.StoredSpan
	traceID string
	tags    tagLocator
}

func (v storedSpanView) tagAt(pos int) (*modelv1.TagValue, bool) {
	switch pos {
	case v.tags.traceIDPos:
		return strValue(v.traceID), true
	case v.tags.spanIDPos:
		return strValue(v.span.SpanID), true
	case v.tags.tsPos:
		return timestampValue(v.span.Timestamp), true
	}
	if pos < len(v.span.Tags) {
		return v.span.Tags[pos], true
	}
	return nil, true
}

func strValue(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func timestampValue(nanos int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(unixNanoTime(nanos))}}
}

// projection builds the response tags of a span: the projected ordinary tags in request order,
// then the trace-id tag, then the span-id tag, each only if projected.
type projection struct {
	names      []string
	positions  []int
	traceIDTag string
	spanIDTag  string
	tags       tagLocator
}

func newProjection(tl tagLocator, names []string) *projection {
	p := &projection{tags: tl}
	for _, n := range names {
		pos, ok := tl.positions[n]
		switch {
		case ok && pos == tl.traceIDPos:
			p.traceIDTag = n
			continue
		case ok && pos == tl.spanIDPos:
			p.spanIDTag = n
			continue
		case !ok:
			pos = -1
		}
		p.names = append(p.names, n)
		p.positions = append(p.positions, pos)
	}
	return p
}

func (p *projection) span(traceID string, s *tstable.StoredSpan) *tracev1.Span {
	out := &tracev1.Span{SpanId: s.SpanID, Span: s.Payload}
	n := len(p.names)
	if p.traceIDTag != "" {
		n++
	}
	if p.spanIDTag != "" {
		n++
	}
	if n == 0 {
		return out
	}
	out.Tags = make([]*modelv1.Tag, 0, n)
	for i, name := range p.names {
		out.Tags = append(out.Tags, &modelv1.Tag{Key: name, Value: p.value(s, p.positions[i])})
	}
	if p.traceIDTag != "" {
		out.Tags = append(out.Tags, &modelv1.Tag{Key: p.traceIDTag, Value: strValue(traceID)})
	}
	if p.spanIDTag != "" {
		out.Tags = append(out.Tags, &modelv1.Tag{Key: p.spanIDTag, Value: strValue(s.SpanID)})
	}
	return out
}

var nullValue = &modelv1.TagValue{Value: &modelv1.TagValue_Null{}}

func (p *projection) value(s *tstable.StoredSpan, pos int) *modelv1.TagValue {
	if pos < 0 {
		return nullValue
	}
	if pos == p.tags.tsPos {
		return timestampValue(s.Timestamp)
	}
	if pos >= len(s.Tags) || isNull(s.Tags[pos]) {
		return nullValue
	}
	v := s.Tags[pos]
	// An empty string reads back as one (API 0.10); those stored by table format 1 read as null.
	// The stored type must still match the schema; a value of another type reads as null.
	if !valueMatchesType(v, p.tags.types[pos]) {
		return nullValue
	}
	return v
}

func valueMatchesType(v *modelv1.TagValue, t databasev1.TagType) bool {
	switch v.GetValue().(type) {
	case *modelv1.TagValue_Str:
		return t == databasev1.TagType_TAG_TYPE_STRING
	case *modelv1.TagValue_Int:
		return t == databasev1.TagType_TAG_TYPE_INT
	case *modelv1.TagValue_StrArray:
		return t == databasev1.TagType_TAG_TYPE_STRING_ARRAY
	case *modelv1.TagValue_IntArray:
		return t == databasev1.TagType_TAG_TYPE_INT_ARRAY
	case *modelv1.TagValue_BinaryData:
		return t == databasev1.TagType_TAG_TYPE_DATA_BINARY
	case *modelv1.TagValue_Timestamp:
		return t == databasev1.TagType_TAG_TYPE_TIMESTAMP
	}
	return false
}
