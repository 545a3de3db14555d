// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"math"
	"testing"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// fuzzSchema has a tag of every type, for compiling fuzzed criteria.
var fuzzSchema = &databasev1.Trace{
	Metadata: &commonv1.Metadata{Group: "g", Name: "sw"},
	Tags: []*databasev1.TraceTagSpec{
		{Name: "trace_id", Type: databasev1.TagType_TAG_TYPE_STRING},
		{Name: "state", Type: databasev1.TagType_TAG_TYPE_INT},
		{Name: "service_id", Type: databasev1.TagType_TAG_TYPE_STRING},
		{Name: "duration", Type: databasev1.TagType_TAG_TYPE_INT},
		{Name: "span_id", Type: databasev1.TagType_TAG_TYPE_STRING},
		{Name: "timestamp", Type: databasev1.TagType_TAG_TYPE_TIMESTAMP},
		{Name: "query", Type: databasev1.TagType_TAG_TYPE_STRING_ARRAY},
		{Name: "ports", Type: databasev1.TagType_TAG_TYPE_INT_ARRAY},
		{Name: "blob", Type: databasev1.TagType_TAG_TYPE_DATA_BINARY},
	},
	TraceIdTagName:   "trace_id",
	SpanIdTagName:    "span_id",
	TimestampTagName: "timestamp",
}

// fuzzView is a span whose tags are the given values; positions past them are unknown.
type fuzzView []*modelv1.TagValue

func (v fuzzView) tagAt(pos int) (*modelv1.TagValue, bool) {
	if pos >= len(v) {
		return nil, false
	}
	return v[pos], true
}

// FuzzCompileCriteria compiles arbitrary encoded criteria against a schema with a tag of every
// type and runs what the planner derives from them (trace ids, key bounds, prefixes) and the
// compiled filter over a few spans. Nothing may panic; a refusal must be an invalid query; a
// compiled filter must decide a span whose tags are all known, and give the same answer twice.
// The seed corpus is in testdata/fuzz/FuzzCompileCriteria.
func FuzzCompileCriteria(f *testing.F) {
	for _, c := range []*modelv1.Criteria{
		cond("service_id", modelv1.Condition_BINARY_OP_EQ, str("svc")),
		and(cond("duration", modelv1.Condition_BINARY_OP_GE, i64(1)), cond("trace_id", modelv1.Condition_BINARY_OP_IN, strs("a", "b"))),
		or(cond("query", modelv1.Condition_BINARY_OP_HAVING, strs("a=1")), cond("ports", modelv1.Condition_BINARY_OP_NOT_HAVING, ints(80))),
		cond("duration", modelv1.Condition_BINARY_OP_GT, i64(math.MaxInt64)),
		{},
	} {
		b, err := proto.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	tl := newTagLocator(fuzzSchema)
	now := time.Unix(1700000000, 0)
	full := fuzzView{
		str("trace-1"), i64(1), str("svc"), i64(500), str("span-1"), ts(now),
		strs("a=1", "b=2"), ints(80, 443), {Value: &modelv1.TagValue_BinaryData{BinaryData: []byte{1}}},
	}
	nulls := make(fuzzView, len(fuzzSchema.GetTags()))
	// Every tag holds a value of the wrong kind: the filter must still decide without panicking.
	misfits := fuzzView{i64(1), str("x"), ints(1), strs("y"), i64(2), str("z"), str("w"), strs("v"), i64(3)}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &modelv1.Criteria{}
		if err := proto.Unmarshal(data, c); err != nil {
			return
		}
		_ = collectTraceIDs(c, tl)
		_ = collectStrValues(c, tl.positions["service_id"], tl)
		lo, hi := keyBounds(c, tl, tl.positions["duration"], math.MinInt64, math.MaxInt64)
		if lo > hi && (lo != 1 || hi != 0) {
			t.Fatalf("key bounds [%d, %d] are neither a range nor the empty range", lo, hi)
		}
		flt, err := compileCriteria(c, tl)
		if err != nil {
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("compileCriteria refused with %v, not an invalid query", err)
			}
			return
		}
		for _, view := range []fuzzView{full, nulls, misfits} {
			m1, ok1 := flt.match(view)
			m2, ok2 := flt.match(view)
			if !ok1 {
				t.Fatalf("a span with every tag known left the filter undecided")
			}
			if m1 != m2 || ok1 != ok2 {
				t.Fatal("the filter answered the same span differently")
			}
		}
		// A span whose tags are unknown is either undecided or decided without reading them.
		_, _ = flt.match(fuzzView{})
	})
}
