// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"bytes"
	"cmp"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// The seed corpora live in testdata/fuzz/<FuzzName>. Run a fuzzer with, e.g.,
// go test -run '^$' -fuzz '^FuzzIndexKeyOrder$' -fuzztime 30s ./banyand/trace/tstable/

// FuzzSortKeyOrder: the sort-key encoding round-trips and its byte order is
// the numeric order.
func FuzzSortKeyOrder(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b int64) {
		if sortKeyFromBits(sortKeyBits(a)) != a {
			t.Fatalf("round trip of %d", a)
		}
		ka, kb := appendIndexHead(nil, 0, a), appendIndexHead(nil, 0, b)
		if got, want := bytes.Compare(ka, kb), cmp.Compare(a, b); got != want {
			t.Fatalf("compare(%d, %d): keys %d, values %d", a, b, got, want)
		}
	})
}

// FuzzIndexKeyOrder: index keys round-trip, and their byte order is the
// order of (rule, sort key, trace ID length, trace ID, seq, span).
func FuzzIndexKeyOrder(f *testing.F) {
	f.Fuzz(func(t *testing.T, r1 uint32, k1 int64, t1 string, s1 uint64, p1 uint16,
		r2 uint32, k2 int64, t2 string, s2 uint64, p2 uint16,
	) {
		if len(t1) > MaxTraceIDLen || len(t2) > MaxTraceIDLen {
			t.Skip()
		}
		checkIndexKeys(t, indexTuple{r1, k1, t1, s1, p1}, indexTuple{r2, k2, t2, s2, p2})
	})
}

// fuzzTag builds a TagValue of one of the variants from fuzz input.
func fuzzTag(kind uint8, s1, s2 string, i int64, b []byte, sec int64, nanos int32) *modelv1.TagValue {
	switch kind % 10 {
	case 0:
		return nil
	case 1:
		return &modelv1.TagValue{}
	case 2:
		return &modelv1.TagValue{Value: &modelv1.TagValue_Null{Null: structpb.NullValue(nanos)}}
	case 3:
		return strTag(s1)
	case 4:
		return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: []string{s1, s2}}}}
	case 5:
		return intTag(i)
	case 6:
		return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: []int64{i, sec, int64(nanos)}}}}
	case 7:
		if b == nil {
			b = []byte{}
		}
		return &modelv1.TagValue{Value: &modelv1.TagValue_BinaryData{BinaryData: b}}
	case 8:
		return tsTag(sec, nanos)
	default:
		return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: []string{}}}}
	}
}

// FuzzTagRoundTrip: every variant reads back equal, in a record (where the
// span context may elide it) and in an index value.
func FuzzTagRoundTrip(f *testing.F) {
	f.Fuzz(func(t *testing.T, kind uint8, s1, s2 string, i int64, b []byte, sec int64, nanos int32, spanTS int64) {
		v := fuzzTag(kind, s1, s2, i, b, sec, nanos)
		for _, sc := range []*spanContext{nil, {traceID: s2, spanID: s1, ts: spanTS}} {
			buf := appendTag(nil, v, sc)
			d := decoder{buf: buf}
			got := d.tag(sc)
			if d.err != nil || d.remaining() != 0 {
				t.Fatalf("decode %v: %v, %d left", v, d.err, d.remaining())
			}
			if (got == nil) != (v == nil) || !proto.Equal(got, v) {
				t.Fatalf("got %v, want %v", got, v)
			}
		}
		sp := &Span{Timestamp: spanTS, Tags: []*modelv1.TagValue{v}}
		ts, tags, err := decodeIndexValue(appendIndexValue(nil, sp, i, []int{0}), i)
		if err != nil || ts != spanTS || len(tags) != 1 || !proto.Equal(tags[0], v) {
			t.Fatalf("index value: ts %d, tags %v, err %v", ts, tags, err)
		}
		// Format 1 wrote every string as tagStr: it reads back as written, except the empty
		// string, which reads as null as it always did.
		legacy := appendString([]byte{tagStr}, s1)
		d := decoder{buf: legacy}
		got := d.tag(nil)
		want := strTag(s1)
		if s1 == "" {
			want = legacyEmptyStr()
		}
		if d.err != nil || d.remaining() != 0 || !proto.Equal(got, want) {
			t.Fatalf("format 1 string %q: got %v, err %v", s1, got, d.err)
		}
	})
}

// FuzzDecodeRecord: arbitrary bytes never panic the record reader; they
// decode or fail with ErrCorrupted. What decodes re-encodes to spans that
// decode the same.
func FuzzDecodeRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, traceID string) {
		r := newRecordReader(body, traceID, false)
		var spans []StoredSpan
		for {
			var sp StoredSpan
			if !r.next(&sp) {
				break
			}
			spans = append(spans, sp)
		}
		if err := r.err(); err != nil {
			if !errors.Is(err, ErrCorrupted) {
				t.Fatalf("error %v does not wrap ErrCorrupted", err)
			}
			return
		}
		in := make([]Span, len(spans))
		order := make([]int32, len(spans))
		for i, sp := range spans {
			in[i] = Span{TraceID: traceID, SpanID: sp.SpanID, Timestamp: sp.Timestamp, Tags: sp.Tags, Payload: sp.Payload}
			order[i] = int32(i)
		}
		again := newRecordReader(appendRecordBody(nil, traceID, in, order), traceID, true)
		for i := range in {
			var sp StoredSpan
			if !again.next(&sp) {
				t.Fatalf("re-encoded span %d: %v", i, again.err())
			}
			mustEqualSpan(t, sp, in[i])
		}
		if again.next(&StoredSpan{}) || again.err() != nil {
			t.Fatalf("re-encoded record: extra span or error %v", again.err())
		}
	})
}

// FuzzDecodeIndexValue: arbitrary bytes never panic the index value reader.
func FuzzDecodeIndexValue(f *testing.F) {
	f.Fuzz(func(t *testing.T, v []byte, sortKey int64) {
		_, tags, err := decodeIndexValue(v, sortKey)
		if err != nil && !errors.Is(err, ErrCorrupted) {
			t.Fatalf("error %v does not wrap ErrCorrupted", err)
		}
		if len(tags) > maxTagPos {
			t.Fatalf("%d tag slots", len(tags))
		}
	})
}
