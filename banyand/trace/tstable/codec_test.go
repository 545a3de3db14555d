// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"errors"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// allTagValues has every TagValue variant, with the edge values that must
// stay distinct: nil vs unset vs null, empty vs missing strings, extreme
// numbers and timestamps.
func allTagValues() []*modelv1.TagValue {
	strArr := func(v ...string) *modelv1.TagValue {
		return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: v}}}
	}
	intArr := func(v ...int64) *modelv1.TagValue {
		return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: v}}}
	}
	bin := func(b []byte) *modelv1.TagValue {
		return &modelv1.TagValue{Value: &modelv1.TagValue_BinaryData{BinaryData: b}}
	}
	return []*modelv1.TagValue{
		nil,
		{},
		{Value: &modelv1.TagValue_Null{Null: structpb.NullValue_NULL_VALUE}},
		{Value: &modelv1.TagValue_Null{Null: structpb.NullValue(-3)}},
		strTag(""),
		strTag("a"),
		strTag("ünïcödé \x00 bytes\xff"),
		strTag(strings.Repeat("long", 1000)),
		strArr(),
		strArr(""),
		strArr("", "a", ""),
		intTag(0),
		intTag(-1),
		intTag(math.MinInt64),
		intTag(math.MaxInt64),
		intArr(),
		intArr(math.MinInt64, 0, math.MaxInt64, -7),
		bin([]byte{}),
		bin([]byte{0, 1, 2, 0xff}),
		tsTag(0, 0),
		tsTag(1_750_000_000, 123_456_789),
		tsTag(-1, 999_999_999),
		tsTag(math.MinInt64, math.MinInt32), // not a valid timestamp, stored as is
		tsTag(math.MaxInt64, math.MaxInt32),
		tsTag(253402300799, 999999999),
	}
}

func TestTagRoundTrip(t *testing.T) {
	for _, sc := range []*spanContext{nil, {traceID: "t", spanID: "s", ts: 42}} {
		for _, v := range allTagValues() {
			buf := appendTag(nil, v, sc)
			d := decoder{buf: buf}
			got := d.tag(sc)
			if d.err != nil || d.remaining() != 0 {
				t.Fatalf("decode %v: err %v, %d bytes left", v, d.err, d.remaining())
			}
			mustEqualTags(t, []*modelv1.TagValue{got}, []*modelv1.TagValue{v})
			d = decoder{buf: buf}
			d.skipTag()
			if d.err != nil || d.remaining() != 0 {
				t.Fatalf("skip %v: err %v, %d bytes left", v, d.err, d.remaining())
			}
		}
	}
}

// TestTagKinds pins the cases proto.Equal would blur.
func TestTagKinds(t *testing.T) {
	decode := func(v *modelv1.TagValue) *modelv1.TagValue {
		d := decoder{buf: appendTag(nil, v, nil)}
		return d.tag(nil)
	}
	if decode(nil) != nil {
		t.Fatal("nil must decode as nil")
	}
	if got := decode(&modelv1.TagValue{}); got == nil || got.Value != nil {
		t.Fatalf("unset decoded as %v", got)
	}
	if _, ok := decode(strTag("")).Value.(*modelv1.TagValue_Str); !ok {
		t.Fatal("empty string must stay a Str")
	}
	if _, ok := decode(&modelv1.TagValue{Value: &modelv1.TagValue_Null{}}).Value.(*modelv1.TagValue_Null); !ok {
		t.Fatal("null must stay null")
	}
	if got := decode(tsTag(5, 7)).GetTimestamp(); got.GetSeconds() != 5 || got.GetNanos() != 7 {
		t.Fatalf("timestamp: %v", got)
	}
}

// TestEmptyStrings: format 2 keeps empty strings (alone and in arrays) apart
// from null, in records (even where the span ID is empty) and in index values;
// the empty strings format 1 wrote read as null, as the server always showed
// them.
func TestEmptyStrings(t *testing.T) {
	arr := &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: []string{"", "a", ""}}}}
	for _, sc := range []*spanContext{nil, {traceID: "t", spanID: "", ts: 1}, {traceID: "t", spanID: "s", ts: 1}} {
		for _, v := range []*modelv1.TagValue{strTag(""), arr} {
			d := decoder{buf: appendTag(nil, v, sc)}
			if got := d.tag(sc); d.err != nil || !proto.Equal(got, v) {
				t.Fatalf("%v (context %v) read back as %v, err %v", v, sc, got, d.err)
			}
		}
	}
	if b := appendTag(nil, strTag(""), &spanContext{spanID: ""}); len(b) != 1 || b[0] != tagStrEmpty {
		t.Fatalf("empty string encoded as %x, want the one byte %x", b, tagStrEmpty)
	}
	null := legacyEmptyStr()
	for _, c := range []struct {
		name string
		buf  []byte
		sc   *spanContext
	}{
		{name: "tagStr of length 0", buf: []byte{tagStr, 0}},
		{name: "tagStr of length 0 in a record", buf: []byte{tagStr, 0}, sc: &spanContext{traceID: "t", spanID: "s"}},
		{name: "an empty span ID", buf: []byte{tagStrSpanID}, sc: &spanContext{traceID: "t", spanID: ""}},
	} {
		d := decoder{buf: c.buf}
		if got := d.tag(c.sc); d.err != nil || !proto.Equal(got, null) {
			t.Fatalf("format 1 %s read as %v, err %v; want null", c.name, got, d.err)
		}
	}
	// Format 1 string arrays kept their empty items, and still do.
	legacyArr := appendString(appendString(appendString([]byte{tagStrArray, 3}, ""), "a"), "")
	d := decoder{buf: legacyArr}
	if got := d.tag(nil); !proto.Equal(got, arr) {
		t.Fatalf("format 1 array read as %v", got)
	}
	sp := &Span{Timestamp: 7, Tags: []*modelv1.TagValue{strTag(""), arr}}
	_, tags, err := decodeIndexValue(appendIndexValue(nil, sp, 7, []int{0, 1}), 7)
	if err != nil || !proto.Equal(tags[0], strTag("")) || !proto.Equal(tags[1], arr) {
		t.Fatalf("index value: %v, err %v", tags, err)
	}
}

// TestRecordOnlyTags checks the elided types: a tag equal to the trace ID,
// span ID or span timestamp costs one byte and reads back equal, and such
// bytes are rejected where no span context exists.
func TestRecordOnlyTags(t *testing.T) {
	sc := &spanContext{traceID: "trace-abc", spanID: "span-1", ts: -1}
	for _, c := range []struct {
		v   *modelv1.TagValue
		typ byte
	}{
		{strTag("trace-abc"), tagStrTraceID},
		{strTag("span-1"), tagStrSpanID},
		{tsTag(-1, 999_999_999), tagTimestampOfSpn},
		{tsTag(0, -1), tagTimestamp}, // same instant, non-canonical: kept as is
	} {
		buf := appendTag(nil, c.v, sc)
		if buf[0] != c.typ {
			t.Fatalf("%v encoded as type %d, want %d", c.v, buf[0], c.typ)
		}
		d := decoder{buf: buf}
		if got := d.tag(sc); !proto.Equal(got, c.v) {
			t.Fatalf("%v read back as %v", c.v, got)
		}
		if c.typ == tagTimestamp {
			continue
		}
		d = decoder{buf: buf}
		if d.tag(nil); !errors.Is(d.err, ErrCorrupted) {
			t.Fatalf("type %d accepted without span context", c.typ)
		}
	}
}

func TestUnixNanos(t *testing.T) {
	for _, c := range []struct {
		sec   int64
		nanos int32
		ok    bool
	}{
		{0, 0, true},
		{-1, 999_999_999, true},
		{math.MaxInt64 / nsPerSec, 854_775_807, true},
		{math.MaxInt64 / nsPerSec, 854_775_808, false},
		{math.MinInt64/nsPerSec - 1, 145_224_192, true},
		{math.MinInt64/nsPerSec - 1, 145_224_191, false},
		{math.MaxInt64, 0, false},
		{math.MinInt64, 0, false},
	} {
		ns, ok := unixNanos(c.sec, c.nanos)
		if ok != c.ok {
			t.Fatalf("unixNanos(%d, %d): ok %v, want %v", c.sec, c.nanos, ok, c.ok)
		}
		if ok {
			if sec, nanos := splitUnixNanos(ns); sec != c.sec || nanos != c.nanos {
				t.Fatalf("split(%d) = (%d, %d), want (%d, %d)", ns, sec, nanos, c.sec, c.nanos)
			}
		}
	}
}

func TestSortKeyOf(t *testing.T) {
	for _, c := range []struct {
		v  *modelv1.TagValue
		k  int64
		ok bool
	}{
		{intTag(-5), -5, true},
		{intTag(math.MinInt64), math.MinInt64, true},
		{tsTag(1, 2), 1_000_000_002, true},
		{tsTag(math.MaxInt64, 0), 0, false},
		{nil, 0, false},
		{&modelv1.TagValue{}, 0, false},
		{&modelv1.TagValue{Value: &modelv1.TagValue_Null{}}, 0, false},
		{strTag("1"), 0, false},
		{&modelv1.TagValue{Value: &modelv1.TagValue_Int{}}, 0, false},
		{&modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{}}, 0, false},
	} {
		k, ok := sortKeyOf(c.v)
		if k != c.k || ok != c.ok {
			t.Fatalf("sortKeyOf(%v) = (%d, %v), want (%d, %v)", c.v, k, ok, c.k, c.ok)
		}
	}
}

func TestRecordBodyRoundTrip(t *testing.T) {
	tags := allTagValues()
	spans := []Span{
		{TraceID: "t1", SpanID: "s1", Timestamp: math.MaxInt64, Tags: tags, Payload: []byte("payload-1")},
		{TraceID: "t1", SpanID: "", Timestamp: math.MinInt64, Tags: nil, Payload: nil},
		{TraceID: "t1", SpanID: "s3", Timestamp: 0, Tags: tags[:3], Payload: []byte{}},
		{TraceID: "t1", SpanID: "t1", Timestamp: 1, Tags: []*modelv1.TagValue{strTag("t1"), strTag("s3"), tsTag(0, 1)}, Payload: []byte{0}},
	}
	order := []int32{0, 1, 2, 3}
	for _, share := range []bool{false, true} {
		body := appendRecordBody(nil, "t1", spans, order)
		value := appendRecordValue(nil, body)
		got, err := recordBody(value)
		if err != nil {
			t.Fatal(err)
		}
		r := newRecordReader(got, "t1", share)
		for i := range spans {
			var sp StoredSpan
			if !r.next(&sp) {
				t.Fatalf("span %d: %v", i, r.err())
			}
			mustEqualSpan(t, sp, spans[i])
		}
		if r.next(&StoredSpan{}) || r.err() != nil {
			t.Fatalf("after the last span: err %v", r.err())
		}
		// Skipping walks the same bytes.
		r = newRecordReader(got, "t1", share)
		for range 3 {
			if !r.next(nil) {
				t.Fatalf("skip: %v", r.err())
			}
		}
		var last StoredSpan
		if !r.next(&last) {
			t.Fatal(r.err())
		}
		mustEqualSpan(t, last, spans[3])
	}
}

func TestRecordValueCodecs(t *testing.T) {
	for _, body := range [][]byte{{}, {1}, []byte(strings.Repeat("compressible ", 100))} {
		v := appendRecordValue([]byte("junk"), body)[4:]
		wantCodec := codecZstd
		if len(body) < 16 {
			wantCodec = codecRaw
		}
		if v[0] != wantCodec {
			t.Fatalf("body of %d bytes: codec %d, want %d", len(body), v[0], wantCodec)
		}
		got, err := recordBody(v)
		if err != nil || string(got) != string(body) {
			t.Fatalf("round trip: %q, %v", got, err)
		}
	}
	for _, bad := range [][]byte{nil, {9}, {codecZstd, 1, 2, 3}} {
		if _, err := recordBody(bad); !errors.Is(err, ErrCorrupted) {
			t.Fatalf("recordBody(%x): %v", bad, err)
		}
	}
}

// TestCorruptRecordsFail feeds every truncation of a valid record body to
// the reader: it must fail cleanly, never panic or read past the end.
func TestCorruptRecordsFail(t *testing.T) {
	spans := []Span{{TraceID: "t", SpanID: "s", Timestamp: 5, Tags: allTagValues(), Payload: []byte("p")}}
	body := appendRecordBody(nil, "t", spans, []int32{0})
	for n := range len(body) {
		r := newRecordReader(body[:n], "t", false)
		for r.next(&StoredSpan{}) {
		}
		if r.err() == nil {
			t.Fatalf("truncation to %d of %d bytes read without error", n, len(body))
		}
	}
	// A span count far beyond the bytes is refused before allocating.
	r := newRecordReader([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, "t", false)
	if r.next(&StoredSpan{}) || !errors.Is(r.err(), ErrCorrupted) {
		t.Fatalf("huge span count: %v", r.err())
	}
}

func TestIndexValueRoundTrip(t *testing.T) {
	tags := allTagValues()
	sp := &Span{Timestamp: 1_750_000_000_123_456_789, Tags: tags}
	positions := []int{0, 2, 4, len(tags) - 1, len(tags), len(tags) + 5}
	for _, sortKey := range edgeInt64s {
		v := appendIndexValue(nil, sp, sortKey, positions)
		ts, got, err := decodeIndexValue(v, sortKey)
		if err != nil {
			t.Fatal(err)
		}
		if ts != sp.Timestamp {
			t.Fatalf("timestamp %d, want %d", ts, sp.Timestamp)
		}
		if len(got) != len(tags) {
			t.Fatalf("tags sized %d, want %d", len(got), len(tags))
		}
		for i := range got {
			indexed := i == 0 || i == 2 || i == 4 || i == len(tags)-1
			if !indexed && got[i] != nil {
				t.Fatalf("tag %d not indexed but read as %v", i, got[i])
			}
			if indexed && !proto.Equal(got[i], tags[i]) {
				t.Fatalf("tag %d: %v, want %v", i, got[i], tags[i])
			}
		}
	}
	// A rule sorted by the span's timestamp stores it in one byte.
	if v := appendIndexValue(nil, sp, sp.Timestamp, nil); len(v) != 1 {
		t.Fatalf("timestamp-sorted entry value of %d bytes", len(v))
	}
	for _, bad := range [][]byte{{}, {0, 0xff, 0xff, 0xff, 0xff, 0x7f, tagAbsent}, {0, 1, 99}, {0, 1}} {
		if _, _, err := decodeIndexValue(bad, 0); !errors.Is(err, ErrCorrupted) {
			t.Fatalf("decodeIndexValue(%x): %v", bad, err)
		}
	}
}
