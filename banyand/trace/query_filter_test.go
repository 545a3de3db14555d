// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"errors"
	"hash/fnv"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
)

// Builders of criteria trees.

func cond(name string, op modelv1.Condition_BinaryOp, v *modelv1.TagValue) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{Name: name, Op: op, Value: v}}}
}

func and(l, r *modelv1.Criteria) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
		Op: modelv1.LogicalExpression_LOGICAL_OP_AND, Left: l, Right: r,
	}}}
}

func or(l, r *modelv1.Criteria) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
		Op: modelv1.LogicalExpression_LOGICAL_OP_OR, Left: l, Right: r,
	}}}
}

func str(s string) *modelv1.TagValue { return strValue(s) }

func i64(v int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: v}}}
}

func strs(v ...string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: v}}}
}

func ints(v ...int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: v}}}
}

func ts(t time.Time) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(t)}}
}

func null() *modelv1.TagValue { return &modelv1.TagValue{Value: &modelv1.TagValue_Null{}} }

const (
	opEQ         = modelv1.Condition_BINARY_OP_EQ
	opNE         = modelv1.Condition_BINARY_OP_NE
	opLT         = modelv1.Condition_BINARY_OP_LT
	opLE         = modelv1.Condition_BINARY_OP_LE
	opGT         = modelv1.Condition_BINARY_OP_GT
	opGE         = modelv1.Condition_BINARY_OP_GE
	opIN         = modelv1.Condition_BINARY_OP_IN
	opNotIN      = modelv1.Condition_BINARY_OP_NOT_IN
	opHaving     = modelv1.Condition_BINARY_OP_HAVING
	opNotHaving  = modelv1.Condition_BINARY_OP_NOT_HAVING
	opMatch      = modelv1.Condition_BINARY_OP_MATCH
	unknownTagOp = modelv1.Condition_BinaryOp(99)
)

// filterSchema is a trace schema with a tag of every type; trace_id, span_id and timestamp are
// where the sw fixture has them.
func filterSchema() *databasev1.Trace {
	tag := func(name string, t databasev1.TagType) *databasev1.TraceTagSpec {
		return &databasev1.TraceTagSpec{Name: name, Type: t}
	}
	return &databasev1.Trace{
		Metadata: &commonv1.Metadata{Group: "g", Name: "sw"},
		Tags: []*databasev1.TraceTagSpec{
			tag("trace_id", databasev1.TagType_TAG_TYPE_STRING),   // 0
			tag("state", databasev1.TagType_TAG_TYPE_INT),         // 1
			tag("service_id", databasev1.TagType_TAG_TYPE_STRING), // 2
			tag("duration", databasev1.TagType_TAG_TYPE_INT),      // 3
			tag("span_id", databasev1.TagType_TAG_TYPE_STRING),    // 4
			tag("labels", databasev1.TagType_TAG_TYPE_STRING_ARRAY),
			tag("codes", databasev1.TagType_TAG_TYPE_INT_ARRAY),
			tag("blob", databasev1.TagType_TAG_TYPE_DATA_BINARY),
			tag("timestamp", databasev1.TagType_TAG_TYPE_TIMESTAMP), // 8
		},
		TraceIdTagName:   "trace_id",
		SpanIdTagName:    "span_id",
		TimestampTagName: "timestamp",
	}
}

// fullSpan is a span with a value for every tag of filterSchema.
func fullSpan(at time.Time) tstable.StoredSpan {
	return tstable.StoredSpan{
		SpanID:    "span-1",
		Timestamp: at.UnixNano(),
		Tags: []*modelv1.TagValue{
			nil, i64(1), str("svc-a"), i64(250), nil, strs("x", "y"), ints(200, 404),
			{Value: &modelv1.TagValue_BinaryData{BinaryData: []byte("raw")}}, ts(at),
		},
		Payload: []byte("payload"),
	}
}

func TestCompileCriteriaAndMatch(t *testing.T) {
	tl := newTagLocator(filterSchema())
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	span := fullSpan(at)
	view := storedSpanView{span: &span, tags: tl, traceID: "trace-1"}
	// A span written under an older schema: no value for labels and the tags after it.
	short := tstable.StoredSpan{SpanID: "span-2", Timestamp: at.UnixNano(), Tags: []*modelv1.TagValue{nil, i64(1), str("svc-a")}}
	shortView := storedSpanView{span: &short, tags: tl, traceID: "trace-1"}

	tests := []struct {
		name      string
		criteria  *modelv1.Criteria
		want      bool
		wantShort bool
	}{
		{name: "no criteria", criteria: nil, want: true, wantShort: true},
		{name: "empty logical expression", criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{}}},
			want: true, wantShort: true},
		{name: "EQ str", criteria: cond("service_id", opEQ, str("svc-a")), want: true, wantShort: true},
		{name: "EQ str miss", criteria: cond("service_id", opEQ, str("svc-b")), want: false},
		{name: "EQ int", criteria: cond("duration", opEQ, i64(250)), want: true},
		{name: "EQ wrong kind", criteria: cond("duration", opEQ, str("250")), want: false},
		{name: "NE", criteria: cond("service_id", opNE, str("svc-b")), want: true, wantShort: true},
		{name: "NE same", criteria: cond("service_id", opNE, str("svc-a")), want: false},
		{name: "NE on a missing tag matches", criteria: cond("duration", opNE, i64(1)), want: true, wantShort: true},
		{name: "LT", criteria: cond("duration", opLT, i64(251)), want: true},
		{name: "LT equal", criteria: cond("duration", opLT, i64(250)), want: false},
		{name: "LE", criteria: cond("duration", opLE, i64(250)), want: true},
		{name: "GT", criteria: cond("duration", opGT, i64(249)), want: true},
		{name: "GT equal", criteria: cond("duration", opGT, i64(250)), want: false},
		{name: "GE", criteria: cond("duration", opGE, i64(250)), want: true},
		{name: "range on a missing tag", criteria: cond("duration", opGE, i64(0)), want: true, wantShort: false},
		{name: "range on str", criteria: cond("service_id", opGT, str("svc-")), want: true, wantShort: true},
		{name: "timestamp GE", criteria: cond("timestamp", opGE, ts(at)), want: true, wantShort: true},
		{name: "timestamp GT", criteria: cond("timestamp", opGT, ts(at)), want: false},
		{name: "IN str", criteria: cond("service_id", opIN, strs("svc-b", "svc-a")), want: true, wantShort: true},
		{name: "IN str miss", criteria: cond("service_id", opIN, strs("svc-b")), want: false},
		{name: "IN empty list", criteria: cond("service_id", opIN, strs()), want: false},
		{name: "IN int", criteria: cond("duration", opIN, ints(1, 250)), want: true},
		{name: "NOT_IN", criteria: cond("service_id", opNotIN, strs("svc-b")), want: true, wantShort: true},
		{name: "NOT_IN miss", criteria: cond("service_id", opNotIN, strs("svc-a")), want: false},
		{name: "NOT_IN on a missing tag matches", criteria: cond("duration", opNotIN, ints(250)), want: false, wantShort: true},
		{name: "HAVING one", criteria: cond("labels", opHaving, strs("y")), want: true},
		{name: "HAVING all", criteria: cond("labels", opHaving, strs("x", "y")), want: true},
		{name: "HAVING some missing", criteria: cond("labels", opHaving, strs("x", "z")), want: false},
		{name: "HAVING a single str", criteria: cond("labels", opHaving, str("x")), want: true},
		{name: "HAVING ints", criteria: cond("codes", opHaving, ints(404)), want: true},
		{name: "HAVING ints miss", criteria: cond("codes", opHaving, ints(500)), want: false},
		{name: "NOT_HAVING", criteria: cond("labels", opNotHaving, strs("z")), want: true, wantShort: true},
		{name: "NOT_HAVING present", criteria: cond("labels", opNotHaving, strs("x")), want: false, wantShort: true},
		{name: "EQ array", criteria: cond("labels", opEQ, strs("x", "y")), want: true},
		{name: "EQ array other order", criteria: cond("labels", opEQ, strs("y", "x")), want: false},
		{name: "EQ binary", criteria: cond("blob", opEQ, &modelv1.TagValue{Value: &modelv1.TagValue_BinaryData{BinaryData: []byte("raw")}}),
			want: true},
		{name: "trace id EQ", criteria: cond("trace_id", opEQ, str("trace-1")), want: true, wantShort: true},
		{name: "trace id EQ list", criteria: cond("trace_id", opEQ, strs("trace-0", "trace-1")), want: true, wantShort: true},
		{name: "trace id NE list", criteria: cond("trace_id", opNE, strs("trace-0", "trace-1")), want: false},
		{name: "span id EQ", criteria: cond("span_id", opEQ, str("span-1")), want: true},
		{name: "span id IN", criteria: cond("span_id", opIN, strs("span-2")), want: false, wantShort: true},
		{name: "AND", criteria: and(cond("service_id", opEQ, str("svc-a")), cond("duration", opGT, i64(100))), want: true},
		{name: "AND one side false", criteria: and(cond("service_id", opEQ, str("svc-a")), cond("duration", opGT, i64(300))), want: false},
		{name: "OR", criteria: or(cond("service_id", opEQ, str("svc-b")), cond("duration", opGT, i64(100))), want: true},
		{name: "OR both false", criteria: or(cond("service_id", opEQ, str("svc-b")), cond("state", opEQ, i64(2))), want: false},
		{name: "nested", criteria: and(or(cond("state", opEQ, i64(2)), cond("state", opEQ, i64(1))),
			or(cond("labels", opHaving, strs("y")), cond("service_id", opEQ, str("svc-a")))), want: true, wantShort: true},
		{name: "AND with only a left side", criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
			Op: modelv1.LogicalExpression_LOGICAL_OP_AND, Left: cond("state", opEQ, i64(2)),
		}}}, want: false},
		{name: "OR with only a right side", criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
			Op: modelv1.LogicalExpression_LOGICAL_OP_OR, Right: cond("state", opEQ, i64(1)),
		}}}, want: true, wantShort: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := compileCriteria(tt.criteria, tl)
			if err != nil {
				t.Fatalf("compileCriteria: %v", err)
			}
			got, ok := f.match(view)
			if !ok {
				t.Fatal("a stored span view left a tag unknown")
			}
			if got != tt.want {
				t.Fatalf("match = %v, want %v", got, tt.want)
			}
			if got, _ := f.match(shortView); got != tt.wantShort {
				t.Fatalf("match on a span of an older schema = %v, want %v", got, tt.wantShort)
			}
		})
	}
}

func TestCompileCriteriaRejects(t *testing.T) {
	tl := newTagLocator(filterSchema())
	tests := []struct {
		name     string
		criteria *modelv1.Criteria
		want     string
	}{
		{name: "unknown tag", criteria: cond("nope", opEQ, str("x")), want: "tag name 'nope' not found"},
		{name: "unknown tag deep in a tree",
			criteria: and(cond("state", opEQ, i64(1)), or(cond("service_id", opEQ, str("a")), cond("ghost", opNE, str("x")))),
			want:     "'ghost'"},
		{name: "IN on a string array tag", criteria: cond("labels", opIN, strs("x")), want: "in condition is not supported for array"},
		{name: "NOT_IN on an int array tag", criteria: cond("codes", opNotIN, ints(1)), want: "in condition is not supported for array"},
		{name: "IN with a scalar", criteria: cond("service_id", opIN, str("x")), want: "needs an array value"},
		{name: "range on an array tag", criteria: cond("codes", opGT, i64(1)), want: "range condition is not supported"},
		{name: "HAVING on a scalar tag", criteria: cond("service_id", opHaving, strs("x")), want: "having condition needs an array tag"},
		{name: "no value", criteria: cond("service_id", opEQ, nil), want: "has no value"},
		{name: "null value", criteria: cond("service_id", opEQ, null()), want: "has no value"},
		{name: "MATCH", criteria: cond("service_id", opMatch, str("x")), want: "not supported"},
		{name: "unknown operator", criteria: cond("service_id", unknownTagOp, str("x")), want: "not supported"},
		{name: "unknown logical operator", criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
			Left: cond("state", opEQ, i64(1)), Right: cond("state", opEQ, i64(2)),
		}}}, want: "logical operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileCriteria(tt.criteria, tl)
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("error = %v, want ErrInvalidQuery", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// indexOnlyView is an index entry view that knows only the tags an entry carries.
func TestFilterAsksForTheSpanWhenAnEntryLacksATag(t *testing.T) {
	tl := newTagLocator(filterSchema())
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	entry := tstable.IndexEntry{SortKey: 250, TraceID: "sw\x00t", Timestamp: at.UnixNano(),
		Tags: []*modelv1.TagValue{nil, i64(1), str("svc-a"), i64(250)}}
	view := newEntryView(tl)
	view.reset(&entry, "t")
	tests := []struct {
		name      string
		criteria  *modelv1.Criteria
		wantKnown bool
		want      bool
	}{
		{name: "indexed tag", criteria: cond("service_id", opEQ, str("svc-a")), wantKnown: true, want: true},
		{name: "trace id", criteria: cond("trace_id", opEQ, str("t")), wantKnown: true, want: true},
		{name: "timestamp", criteria: cond("timestamp", opGE, ts(at)), wantKnown: true, want: true},
		{name: "tag the entry lacks", criteria: cond("labels", opHaving, strs("x")), wantKnown: false},
		{name: "span id is never in an entry", criteria: cond("span_id", opEQ, str("s")), wantKnown: false},
		// AND settles without the unknown side when the known side is false ...
		{name: "AND decided by a known false", criteria: and(cond("state", opEQ, i64(2)), cond("labels", opHaving, strs("x"))),
			wantKnown: true, want: false},
		// ... but must read the span when the known side is true.
		{name: "AND needing the unknown side", criteria: and(cond("state", opEQ, i64(1)), cond("labels", opHaving, strs("x"))),
			wantKnown: false},
		{name: "OR decided by a known true", criteria: or(cond("state", opEQ, i64(1)), cond("labels", opHaving, strs("x"))),
			wantKnown: true, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := compileCriteria(tt.criteria, tl)
			if err != nil {
				t.Fatal(err)
			}
			got, known := f.match(view)
			if known != tt.wantKnown {
				t.Fatalf("known = %v, want %v", known, tt.wantKnown)
			}
			if known && got != tt.want {
				t.Fatalf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEntryViewDecodesEachTagOncePerEntry checks that the view's cache answers the
// entry it points at: a reset to another entry forgets the tags of the previous one.
func TestEntryViewDecodesEachTagOncePerEntry(t *testing.T) {
	tl := newTagLocator(filterSchema())
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := tstable.IndexEntry{SortKey: 1, TraceID: "sw\x00a", Timestamp: at.UnixNano(), Tags: []*modelv1.TagValue{nil, i64(1), str("svc-a")}}
	b := tstable.IndexEntry{SortKey: 2, TraceID: "sw\x00b", Timestamp: at.Add(time.Second).UnixNano(), Tags: []*modelv1.TagValue{nil, i64(2)}}
	f, err := compileCriteria(or(cond("service_id", opEQ, str("svc-x")), or(cond("service_id", opEQ, str("svc-a")), cond("trace_id", opEQ, str("b")))), tl)
	if err != nil {
		t.Fatal(err)
	}
	view := newEntryView(tl)
	for _, step := range []struct {
		entry     *tstable.IndexEntry
		traceID   string
		want      bool
		wantKnown bool
	}{
		{&a, "a", true, true},
		// b does not carry service_id: unknown, although a did.
		{&b, "b", false, false},
		{&a, "a", true, true},
	} {
		view.reset(step.entry, step.traceID)
		got, known := f.match(view)
		if got != step.want || known != step.wantKnown {
			t.Fatalf("entry %s: match = %v, known = %v; want %v, %v", step.traceID, got, known, step.want, step.wantKnown)
		}
		if v, ok := view.tagAt(tl.positions["state"]); !ok || v.GetInt().GetValue() != step.entry.Tags[1].GetInt().GetValue() {
			t.Fatalf("entry %s: state = %v, %v", step.traceID, v, ok)
		}
	}
}

func TestCollectTraceIDs(t *testing.T) {
	tl := newTagLocator(filterSchema())
	tests := []struct {
		name     string
		criteria *modelv1.Criteria
		want     []string // nil: the query does not name trace ids
	}{
		{name: "no criteria", criteria: nil, want: nil},
		{name: "other tags only", criteria: cond("service_id", opEQ, str("x")), want: nil},
		{name: "EQ", criteria: cond("trace_id", opEQ, str("a")), want: []string{"a"}},
		{name: "EQ with a list", criteria: cond("trace_id", opEQ, strs("a", "b")), want: []string{"a", "b"}},
		{name: "IN", criteria: cond("trace_id", opIN, strs("b", "a", "b")), want: []string{"b", "a", "b"}},
		{name: "IN empty", criteria: cond("trace_id", opIN, strs()), want: []string{}},
		{name: "NE names no ids", criteria: cond("trace_id", opNE, str("a")), want: nil},
		{name: "NOT_IN names no ids", criteria: cond("trace_id", opNotIN, strs("a")), want: nil},
		{name: "AND with another tag", criteria: and(cond("service_id", opEQ, str("x")), cond("trace_id", opEQ, str("a"))),
			want: []string{"a"}},
		{name: "AND of two id sets intersects", criteria: and(cond("trace_id", opIN, strs("a", "b", "c")), cond("trace_id", opIN, strs("c", "a"))),
			want: []string{"a", "c"}},
		{name: "AND of disjoint ids", criteria: and(cond("trace_id", opEQ, str("a")), cond("trace_id", opEQ, str("b"))),
			want: []string{}},
		{name: "OR of ids unites", criteria: or(cond("trace_id", opEQ, str("a")), cond("trace_id", opEQ, str("b"))),
			want: []string{"a", "b"}},
		{name: "OR of id lists", criteria: or(cond("trace_id", opIN, strs("a", "b")), cond("trace_id", opEQ, strs("c"))),
			want: []string{"a", "b", "c"}},
		{name: "OR with another tag cannot narrow", criteria: or(cond("trace_id", opEQ, str("a")), cond("service_id", opEQ, str("x"))),
			want: nil},
		{name: "nested AND of OR", criteria: and(cond("state", opEQ, i64(1)),
			or(cond("trace_id", opEQ, str("a")), cond("trace_id", opEQ, str("b")))), want: []string{"a", "b"}},
		{name: "OR with a left side only", criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
			Op: modelv1.LogicalExpression_LOGICAL_OP_OR, Left: cond("trace_id", opEQ, str("a")),
		}}}, want: []string{"a"}},
		{name: "AND with a right side only", criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
			Op: modelv1.LogicalExpression_LOGICAL_OP_AND, Right: cond("trace_id", opIN, strs("b", "c")),
		}}}, want: []string{"b", "c"}},
		{name: "OR with a right side only", criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
			Op: modelv1.LogicalExpression_LOGICAL_OP_OR, Right: cond("trace_id", opEQ, str("b")),
		}}}, want: []string{"b"}},
		{name: "an empty logical expression", criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{}}},
			want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collectTraceIDs(tt.criteria, tl)
			if (got == nil) != (tt.want == nil) {
				t.Fatalf("collectTraceIDs = %#v, want %#v", got, tt.want)
			}
			g := append([]string(nil), got...)
			w := append([]string(nil), tt.want...)
			sort.Strings(g)
			sort.Strings(w)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("collectTraceIDs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKeyBounds(t *testing.T) {
	tl := newTagLocator(filterSchema())
	const (
		minI = math.MinInt64
		maxI = math.MaxInt64
	)
	durationPos := tl.positions["duration"]
	tsPos := tl.positions["timestamp"]
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		criteria *modelv1.Criteria
		sortPos  int
		lo, hi   int64
		wantLo   int64
		wantHi   int64
		empty    bool
	}{
		{name: "no criteria", sortPos: durationPos, lo: minI, hi: maxI, wantLo: minI, wantHi: maxI},
		{name: "GT", criteria: cond("duration", opGT, i64(10)), sortPos: durationPos, lo: minI, hi: maxI, wantLo: 11, wantHi: maxI},
		{name: "GE", criteria: cond("duration", opGE, i64(10)), sortPos: durationPos, lo: minI, hi: maxI, wantLo: 10, wantHi: maxI},
		{name: "LT", criteria: cond("duration", opLT, i64(10)), sortPos: durationPos, lo: minI, hi: maxI, wantLo: minI, wantHi: 9},
		{name: "LE", criteria: cond("duration", opLE, i64(10)), sortPos: durationPos, lo: minI, hi: maxI, wantLo: minI, wantHi: 10},
		{name: "EQ", criteria: cond("duration", opEQ, i64(10)), sortPos: durationPos, lo: minI, hi: maxI, wantLo: 10, wantHi: 10},
		{name: "NE does not narrow", criteria: cond("duration", opNE, i64(10)), sortPos: durationPos, lo: minI, hi: maxI,
			wantLo: minI, wantHi: maxI},
		{name: "AND intersects", criteria: and(cond("duration", opGT, i64(10)), cond("duration", opLE, i64(20))),
			sortPos: durationPos, lo: minI, hi: maxI, wantLo: 11, wantHi: 20},
		{name: "AND keeps the tighter bound", criteria: and(cond("duration", opGE, i64(5)), cond("duration", opGT, i64(10))),
			sortPos: durationPos, lo: 0, hi: 100, wantLo: 11, wantHi: 100},
		{name: "OR does not narrow", criteria: or(cond("duration", opGT, i64(10)), cond("duration", opLT, i64(5))),
			sortPos: durationPos, lo: minI, hi: maxI, wantLo: minI, wantHi: maxI},
		{name: "other tags do not narrow", criteria: and(cond("state", opGT, i64(10)), cond("service_id", opEQ, str("x"))),
			sortPos: durationPos, lo: minI, hi: maxI, wantLo: minI, wantHi: maxI},
		{name: "a non-numeric value does not narrow", criteria: cond("duration", opGT, str("10")),
			sortPos: durationPos, lo: minI, hi: maxI, wantLo: minI, wantHi: maxI},
		{name: "bounds within the given range", criteria: cond("duration", opLE, i64(1000)), sortPos: durationPos,
			lo: 0, hi: 50, wantLo: 0, wantHi: 50},
		{name: "timestamp sort tag", criteria: and(cond("timestamp", opGE, ts(at)), cond("timestamp", opLT, ts(at.Add(time.Second)))),
			sortPos: tsPos, lo: minI, hi: maxI, wantLo: at.UnixNano(), wantHi: at.Add(time.Second).UnixNano() - 1},
		// Edges: x+1 and x-1 must not wrap around.
		{name: "GT MaxInt64 selects nothing", criteria: cond("duration", opGT, i64(maxI)), sortPos: durationPos,
			lo: minI, hi: maxI, empty: true},
		{name: "LT MinInt64 selects nothing", criteria: cond("duration", opLT, i64(minI)), sortPos: durationPos,
			lo: minI, hi: maxI, empty: true},
		{name: "GT MaxInt64-1", criteria: cond("duration", opGT, i64(maxI-1)), sortPos: durationPos,
			lo: minI, hi: maxI, wantLo: maxI, wantHi: maxI},
		{name: "LT MinInt64+1", criteria: cond("duration", opLT, i64(minI+1)), sortPos: durationPos,
			lo: minI, hi: maxI, wantLo: minI, wantHi: minI},
		{name: "GE MinInt64 keeps everything", criteria: cond("duration", opGE, i64(minI)), sortPos: durationPos,
			lo: minI, hi: maxI, wantLo: minI, wantHi: maxI},
		{name: "LE MaxInt64 keeps everything", criteria: cond("duration", opLE, i64(maxI)), sortPos: durationPos,
			lo: minI, hi: maxI, wantLo: minI, wantHi: maxI},
		{name: "GT at the upper bound", criteria: cond("duration", opGT, i64(50)), sortPos: durationPos,
			lo: 0, hi: 50, empty: true},
		{name: "LT at the lower bound", criteria: cond("duration", opLT, i64(0)), sortPos: durationPos,
			lo: 0, hi: 50, empty: true},
		{name: "empty stays empty", criteria: and(and(cond("duration", opGT, i64(maxI)), cond("duration", opLT, i64(minI))),
			and(cond("duration", opGE, i64(minI)), cond("duration", opLE, i64(maxI)))),
			sortPos: durationPos, lo: minI, hi: maxI, empty: true},
		{name: "empty then GT stays empty", criteria: and(cond("duration", opLT, i64(minI)), cond("duration", opGT, i64(5))),
			sortPos: durationPos, lo: minI, hi: maxI, empty: true},
		{name: "contradiction", criteria: and(cond("duration", opGT, i64(20)), cond("duration", opLT, i64(10))),
			sortPos: durationPos, lo: minI, hi: maxI, empty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := keyBounds(tt.criteria, tl, tt.sortPos, tt.lo, tt.hi)
			if tt.empty {
				if lo <= hi {
					t.Fatalf("keyBounds = [%d, %d], want an empty range", lo, hi)
				}
				return
			}
			if lo != tt.wantLo || hi != tt.wantHi {
				t.Fatalf("keyBounds = [%d, %d], want [%d, %d]", lo, hi, tt.wantLo, tt.wantHi)
			}
		})
	}
}

func TestShardOf(t *testing.T) {
	// FNV-1a 32-bit reference vectors.
	vectors := []struct {
		in   string
		hash uint32
	}{
		{"", 0x811c9dc5},
		{"a", 0xe40c292c},
		{"foobar", 0xbf9cf968},
	}
	for _, v := range vectors {
		h := fnv.New32a()
		_, _ = h.Write([]byte(v.in))
		if h.Sum32() != v.hash {
			t.Fatalf("the FNV-1a vector of %q is wrong in the test", v.in)
		}
		for _, n := range []uint32{1, 2, 3, 7, 1 << 31} {
			if got, want := shardOf(v.in, n), v.hash%n; got != want {
				t.Fatalf("shardOf(%q, %d) = %d, want %d", v.in, n, got, want)
			}
		}
	}
	ids := []string{"1", "trace-1", "0123456789abcdef", "交易-42", strings.Repeat("z", 300), "\x00"}
	for _, id := range ids {
		h := fnv.New32a()
		_, _ = h.Write([]byte(id))
		for _, n := range []uint32{1, 2, 5, 16} {
			if got, want := shardOf(id, n), h.Sum32()%n; got != want {
				t.Fatalf("shardOf(%q, %d) = %d, want %d", id, n, got, want)
			}
		}
	}
	if got := shardOf("anything", 0); got != 0 {
		t.Fatalf("shardOf with no shards = %d, want 0", got)
	}
	// Both shards of a two-shard group get traces.
	seen := map[uint32]int{}
	for i := 0; i < 100; i++ {
		seen[shardOf("trace-"+string(rune('a'+i%26))+strings.Repeat("x", i/26), 2)]++
	}
	if len(seen) != 2 || seen[0] < 20 || seen[1] < 20 {
		t.Fatalf("100 trace ids over 2 shards: %v", seen)
	}
}

func TestStoredTraceIDRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, id string }{
		{"sw", "trace-1"},
		{"sw", ""},
		{"sw", "with\x00nul"},
		{"zipkin", "sw\x00trace-1"},
		{"", "x"},
	} {
		stored := storedTraceID(tc.name, tc.id)
		got, ok := userTraceID(tc.name, stored)
		if !ok || got != tc.id {
			t.Fatalf("userTraceID(%q, storedTraceID(%q, %q)) = %q, %v", tc.name, tc.name, tc.id, got, ok)
		}
	}
	// Ids of other schemas of the group are not this schema's.
	for _, tc := range []struct{ name, stored string }{
		{"sw", storedTraceID("zipkin", "t")},
		{"sw", storedTraceID("sw2", "t")},
		{"sw2", storedTraceID("sw", "t")},
		{"sw", "sw"},
		{"sw", "swt"},
		{"sw", ""},
	} {
		if id, ok := userTraceID(tc.name, tc.stored); ok {
			t.Fatalf("userTraceID(%q, %q) = %q, true; want it refused", tc.name, tc.stored, id)
		}
	}
	// Stored ids of one schema sort like the user ids, so index ties keep trace-id order.
	a, b := storedTraceID("sw", "a"), storedTraceID("sw", "b")
	if !(a < b) {
		t.Fatal("stored ids do not keep the user ids' order")
	}
}

func writeRequest(tags ...*modelv1.TagValue) *tracev1.WriteRequest {
	return &tracev1.WriteRequest{Metadata: &commonv1.Metadata{Group: "g", Name: "sw"}, Tags: tags, Span: []byte("s"), Version: 1}
}

func TestParseSpan(t *testing.T) {
	tl := newTagLocator(filterSchema())
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ok := modelv1.Status_STATUS_SUCCEED
	bad := modelv1.Status_STATUS_INVALID_TIMESTAMP
	full := func() []*modelv1.TagValue {
		return []*modelv1.TagValue{str("t1"), i64(1), str("svc"), i64(5), str("s1"), strs("a"), ints(1),
			{Value: &modelv1.TagValue_BinaryData{BinaryData: []byte{1}}}, ts(at)}
	}
	with := func(pos int, v *modelv1.TagValue) []*modelv1.TagValue {
		tags := full()
		tags[pos] = v
		return tags
	}
	tests := []struct {
		name   string
		tags   []*modelv1.TagValue
		status modelv1.Status
	}{
		{name: "every tag", tags: full(), status: ok},
		{name: "nulls in ordinary tags", tags: with(1, null()), status: ok},
		{name: "nil ordinary tag", tags: with(2, nil), status: ok},
		{name: "more values than tags", tags: append(full(), str("extra")), status: bad},
		{name: "a value of the wrong type", tags: with(1, str("1")), status: bad},
		{name: "an int where a timestamp goes", tags: with(8, i64(1)), status: bad},
		{name: "no trace id", tags: with(0, null()), status: bad},
		{name: "empty trace id", tags: with(0, str("")), status: bad},
		{name: "binary trace id", tags: with(0, &modelv1.TagValue{Value: &modelv1.TagValue_BinaryData{BinaryData: []byte("t")}}), status: bad},
		{name: "no span id", tags: with(4, null()), status: bad},
		{name: "empty span id is a span id", tags: with(4, str("")), status: ok},
		{name: "no timestamp", tags: with(8, null()), status: bad},
		{name: "too few values for the timestamp", tags: full()[:8], status: bad},
		{name: "too few values for the span id", tags: full()[:3], status: bad},
		{name: "no values", tags: nil, status: bad},
		{name: "invalid timestamp", tags: with(8, &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{
			Timestamp: &timestamppb.Timestamp{Seconds: 1, Nanos: -1}}}), status: bad},
		{name: "timestamp beyond int64 nanos", tags: with(8, ts(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))), status: bad},
		{name: "timestamp before 1677", tags: with(8, ts(time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC))), status: bad},
		{name: "sub-millisecond timestamp", tags: with(8, ts(at.Add(time.Microsecond))), status: bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, status, reason := parseSpan(&tl, writeRequest(tt.tags...))
			if status != tt.status {
				t.Fatalf("status = %s (%s), want %s", status, reason, tt.status)
			}
			if status != ok {
				if reason == "" {
					t.Fatal("a refused span has no reason")
				}
				return
			}
			if ps.traceID != tt.tags[0].GetStr().GetValue() || ps.spanID != tt.tags[4].GetStr().GetValue() || !ps.ts.Equal(at) {
				t.Fatalf("parsed %+v", ps)
			}
		})
	}
	// A schema that does not name its trace id among its tags cannot take spans.
	broken := filterSchema()
	broken.TraceIdTagName = "missing"
	btl := newTagLocator(broken)
	if _, status, _ := parseSpan(&btl, writeRequest(full()...)); status != bad {
		t.Fatalf("a schema without its trace id tag accepted a span: %s", status)
	}
}

func TestCheckRevision(t *testing.T) {
	schema := filterSchema()
	schema.Metadata.ModRevision = 10
	tests := []struct {
		name string
		rev  int64
		want modelv1.Status
	}{
		{name: "no revision named", rev: 0, want: modelv1.Status_STATUS_SUCCEED},
		{name: "negative revision is none", rev: -1, want: modelv1.Status_STATUS_SUCCEED},
		{name: "current", rev: 10, want: modelv1.Status_STATUS_SUCCEED},
		{name: "older", rev: 9, want: modelv1.Status_STATUS_EXPIRED_SCHEMA},
		{name: "newer than loaded", rev: 11, want: modelv1.Status_STATUS_SCHEMA_NOT_APPLIED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := writeRequest()
			req.Metadata.ModRevision = tt.rev
			if got := checkRevision(req, schema); got != tt.want {
				t.Fatalf("checkRevision = %s, want %s", got, tt.want)
			}
		})
	}
	if got := checkRevision(&tracev1.WriteRequest{}, schema); got != modelv1.Status_STATUS_SUCCEED {
		t.Fatalf("a request without metadata: %s", got)
	}
}

func TestNewIndexSchema(t *testing.T) {
	s := filterSchema()
	rule := func(name string, id uint32, tags ...string) *databasev1.IndexRule {
		return &databasev1.IndexRule{Metadata: &commonv1.Metadata{Group: "g", Name: name, Id: id}, Tags: tags}
	}
	is := newIndexSchema(s, []*databasev1.IndexRule{
		rule("duration", 1, "service_id", "state", "duration"),
		rule("timestamp", 2, "service_id", "timestamp"),
		rule("by-str", 3, "service_id"),
		rule("missing-tag", 4, "service_id", "ghost"),
		rule("empty", 5),
	})
	wantUsable := map[string]bool{"duration": true, "timestamp": true, "by-str": false, "missing-tag": false, "empty": false}
	for name, usable := range wantUsable {
		ir, ok := is.byName[name]
		if !ok {
			t.Fatalf("rule %s missing from byName", name)
		}
		if ir.usable != usable {
			t.Fatalf("rule %s usable = %v, want %v", name, ir.usable, usable)
		}
	}
	if !is.byName["timestamp"].sortIsTime || is.byName["duration"].sortIsTime {
		t.Fatal("sortIsTime is wrong")
	}
	if got := is.byName["duration"].sortPos; got != 3 {
		t.Fatalf("duration sort position = %d, want 3", got)
	}
	// Both rules start with service_id (2), a STRING tag: their entries are also kept per service.
	wantRules := []tstable.IndexRule{{ID: 1, SortTagPos: 3, Prefixed: true, PrefixTagPos: 2}, {ID: 2, SortTagPos: 8, Prefixed: true, PrefixTagPos: 2}}
	if !reflect.DeepEqual(is.write.Rules, wantRules) {
		t.Fatalf("write rules = %+v, want %+v", is.write.Rules, wantRules)
	}
	// The timestamp tag (8) is not copied: every entry carries the span's timestamp.
	if want := []int{1, 2, 3}; !reflect.DeepEqual(is.write.IndexedTags, want) {
		t.Fatalf("indexed tags = %v, want %v", is.write.IndexedTags, want)
	}
	if len(is.rules) != 5 {
		t.Fatalf("rules = %d, want all 5 as bound", len(is.rules))
	}
}
