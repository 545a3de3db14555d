// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// Tag value type bytes. A tag value is encoded as one type byte followed by a
// body that depends on the type. The numbers are part of the on-disk format:
// never renumber, only add.
const (
	tagAbsent    byte = 0 // a nil *TagValue; no body
	tagUnset     byte = 1 // a TagValue whose oneof is not set; no body
	tagNull      byte = 2 // uvarint NullValue enum number
	tagStr       byte = 3 // uvarint len | bytes
	tagStrArray  byte = 4 // uvarint count | count × (uvarint len | bytes)
	tagInt       byte = 5 // zigzag varint
	tagIntArray  byte = 6 // uvarint count | count × zigzag varint
	tagBinary    byte = 7 // uvarint len | bytes
	tagTimestamp byte = 8 // zigzag varint seconds | zigzag varint nanos

	// Types valid only inside a record, where the span's trace ID, span ID and
	// timestamp are known. The schema usually repeats them as tags; storing
	// them once saves their bytes on every span.
	tagStrTraceID     byte = 9  // a Str equal to the record's trace ID; no body
	tagStrSpanID      byte = 10 // a Str equal to the span's ID; no body
	tagTimestampOfSpn byte = 11 // a Timestamp equal to the span's timestamp; no body

	// tagStrEmpty is a Str whose value is empty; no body. Format 2 writes every empty string so.
	// Format 1 wrote them as tagStr of length 0 (or tagStrSpanID for an empty span ID), and the
	// server read those back as null (as upstream v0.9 did): they still decode as null, so data
	// written before an upgrade reads as it did.
	tagStrEmpty byte = 12
)

// Record codec bytes: the first byte of a record value.
const (
	codecRaw  byte = 0 // the record body follows as is
	codecZstd byte = 1 // a zstd frame of the record body follows
)

// maxTagPos bounds tag positions read from disk, so that a corrupt index value
// cannot make the reader allocate a huge tag slice.
const maxTagPos = 1 << 14

// spanContext is what a record knows about the span whose tags it encodes.
// A nil *spanContext (index values) disables the record-only tag types.
type spanContext struct {
	traceID string
	spanID  string
	ts      int64
}

// appendTag appends the encoding of v.
func appendTag(dst []byte, v *modelv1.TagValue, sc *spanContext) []byte {
	if v == nil {
		return append(dst, tagAbsent)
	}
	switch x := v.Value.(type) {
	case nil:
		return append(dst, tagUnset)
	case *modelv1.TagValue_Null:
		dst = append(dst, tagNull)
		return binary.AppendUvarint(dst, uint64(int64(x.Null)))
	case *modelv1.TagValue_Str:
		s := x.Str.GetValue()
		if s == "" {
			return append(dst, tagStrEmpty)
		}
		if sc != nil && x.Str != nil {
			if s == sc.traceID {
				return append(dst, tagStrTraceID)
			}
			if s == sc.spanID {
				return append(dst, tagStrSpanID)
			}
		}
		dst = append(dst, tagStr)
		return appendString(dst, s)
	case *modelv1.TagValue_StrArray:
		ss := x.StrArray.GetValue()
		dst = append(dst, tagStrArray)
		dst = binary.AppendUvarint(dst, uint64(len(ss)))
		for _, s := range ss {
			dst = appendString(dst, s)
		}
		return dst
	case *modelv1.TagValue_Int:
		dst = append(dst, tagInt)
		return binary.AppendVarint(dst, x.Int.GetValue())
	case *modelv1.TagValue_IntArray:
		is := x.IntArray.GetValue()
		dst = append(dst, tagIntArray)
		dst = binary.AppendUvarint(dst, uint64(len(is)))
		for _, i := range is {
			dst = binary.AppendVarint(dst, i)
		}
		return dst
	case *modelv1.TagValue_BinaryData:
		dst = append(dst, tagBinary)
		dst = binary.AppendUvarint(dst, uint64(len(x.BinaryData)))
		return append(dst, x.BinaryData...)
	case *modelv1.TagValue_Timestamp:
		sec, nanos := x.Timestamp.GetSeconds(), x.Timestamp.GetNanos()
		if sc != nil && x.Timestamp != nil && nanos >= 0 && nanos < nsPerSec {
			if ns, ok := unixNanos(sec, nanos); ok && ns == sc.ts {
				return append(dst, tagTimestampOfSpn)
			}
		}
		dst = append(dst, tagTimestamp)
		dst = binary.AppendVarint(dst, sec)
		return binary.AppendVarint(dst, int64(nanos))
	default:
		// The oneof is closed: only a new proto version can get here. Failing
		// loudly beats losing the value silently.
		panic(fmt.Sprintf("BUG: tstable: unknown TagValue type %T", x))
	}
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

const nsPerSec = 1_000_000_000

// unixNanos returns sec*1e9+nanos and whether it fits in an int64.
func unixNanos(sec int64, nanos int32) (int64, bool) {
	const maxSec, minSec = math.MaxInt64 / nsPerSec, math.MinInt64 / nsPerSec
	if sec > maxSec+2 || sec < minSec-2 {
		return 0, false
	}
	// Move whole seconds into sec and give both parts the same sign, so that
	// sec*1e9 is not farther from zero than the result: then it overflows
	// only if the result does.
	s, n := sec+int64(nanos)/nsPerSec, int64(nanos)%nsPerSec
	switch {
	case s < 0 && n > 0:
		s, n = s+1, n-nsPerSec
	case s > 0 && n < 0:
		s, n = s-1, n+nsPerSec
	}
	base := s * nsPerSec
	if base/nsPerSec != s {
		return 0, false
	}
	ns := base + n
	if (n > 0 && ns < base) || (n < 0 && ns > base) {
		return 0, false
	}
	return ns, true
}

// splitUnixNanos inverts unixNanos for a timestamp in canonical form
// (0 <= nanos < 1e9).
func splitUnixNanos(ns int64) (sec int64, nanos int32) {
	sec, rem := ns/nsPerSec, ns%nsPerSec
	if rem < 0 {
		sec--
		rem += nsPerSec
	}
	return sec, int32(rem)
}

// sortKeyOf returns the index sort key of a tag: an Int's value or a
// Timestamp in unix nanoseconds. ok is false for every other value, and for a
// timestamp outside the int64 nanosecond range.
func sortKeyOf(v *modelv1.TagValue) (int64, bool) {
	switch x := v.GetValue().(type) {
	case *modelv1.TagValue_Int:
		if x.Int == nil {
			return 0, false
		}
		return x.Int.Value, true
	case *modelv1.TagValue_Timestamp:
		if x.Timestamp == nil {
			return 0, false
		}
		return unixNanos(x.Timestamp.Seconds, x.Timestamp.Nanos)
	}
	return 0, false
}

// decoder reads the encodings of this file from buf. With share set, strings
// and byte slices alias buf instead of being copied: the caller then owns buf
// and must never modify it again (strings are built with unsafe.String).
type decoder struct {
	buf   []byte
	off   int
	share bool
	err   error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s at offset %d", ErrCorrupted, what, d.off)
	}
}

func (d *decoder) remaining() int { return len(d.buf) - d.off }

func (d *decoder) byte1(what string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.buf) {
		d.fail(what)
		return 0
	}
	b := d.buf[d.off]
	d.off++
	return b
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.off:])
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.off += n
	return v
}

// count reads a uvarint element count and checks it against the bytes left,
// given that each element takes at least minSize bytes.
func (d *decoder) count(what string, minSize int) int {
	n := d.uvarint(what)
	if d.err == nil && n > uint64(d.remaining()/minSize) {
		d.fail(what)
		return 0
	}
	return int(n)
}

// raw reads a uvarint length and that many bytes, aliasing buf.
func (d *decoder) raw(what string) []byte {
	n := d.uvarint(what)
	if d.err != nil {
		return nil
	}
	if n > uint64(d.remaining()) {
		d.fail(what)
		return nil
	}
	b := d.buf[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return b
}

func (d *decoder) str(what string) string {
	b := d.raw(what)
	if len(b) == 0 {
		return ""
	}
	if d.share {
		return unsafe.String(&b[0], len(b))
	}
	return string(b)
}

func (d *decoder) bytes(what string) []byte {
	b := d.raw(what)
	if d.err != nil {
		return nil
	}
	if d.share {
		return b
	}
	return append([]byte(nil), b...)
}

// tag reads one tag value. sc must be non-nil for record-only types to be
// accepted.
func (d *decoder) tag(sc *spanContext) *modelv1.TagValue {
	typ := d.byte1("tag type")
	if d.err != nil {
		return nil
	}
	switch typ {
	case tagAbsent:
		return nil
	case tagUnset:
		return &modelv1.TagValue{}
	case tagNull:
		n := d.uvarint("null")
		return &modelv1.TagValue{Value: &modelv1.TagValue_Null{Null: structpb.NullValue(int32(int64(n)))}}
	case tagStr:
		if s := d.str("str"); s != "" || d.err != nil {
			return strTag(s)
		}
		// Format 1's empty string, which read back as null.
		return legacyEmptyStr()
	case tagStrEmpty:
		return strTag("")
	case tagStrArray:
		n := d.count("str array", 1)
		ss := make([]string, n)
		for i := range ss {
			ss[i] = d.str("str array item")
		}
		return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: ss}}}
	case tagInt:
		return intTag(d.varint("int"))
	case tagIntArray:
		n := d.count("int array", 1)
		is := make([]int64, n)
		for i := range is {
			is[i] = d.varint("int array item")
		}
		return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: is}}}
	case tagBinary:
		b := d.bytes("binary")
		if b == nil {
			b = []byte{}
		}
		return &modelv1.TagValue{Value: &modelv1.TagValue_BinaryData{BinaryData: b}}
	case tagTimestamp:
		sec := d.varint("timestamp seconds")
		nanos := d.varint("timestamp nanos")
		if int64(int32(nanos)) != nanos {
			d.fail("timestamp nanos")
		}
		return tsTag(sec, int32(nanos))
	case tagStrTraceID:
		if sc != nil {
			return strTag(sc.traceID)
		}
	case tagStrSpanID:
		if sc != nil && sc.spanID == "" {
			// Only format 1 elided an empty string as the (empty) span ID.
			return legacyEmptyStr()
		}
		if sc != nil {
			return strTag(sc.spanID)
		}
	case tagTimestampOfSpn:
		if sc != nil {
			return tsTag(splitUnixNanos(sc.ts))
		}
	}
	d.off--
	d.fail("tag type")
	return nil
}

// skipTag advances over one tag value without materializing it.
func (d *decoder) skipTag() {
	typ := d.byte1("tag type")
	if d.err != nil {
		return
	}
	switch typ {
	case tagAbsent, tagUnset, tagStrTraceID, tagStrSpanID, tagTimestampOfSpn, tagStrEmpty:
	case tagNull:
		d.uvarint("null")
	case tagStr, tagBinary:
		d.raw("str")
	case tagStrArray:
		for n := d.count("str array", 1); n > 0 && d.err == nil; n-- {
			d.raw("str array item")
		}
	case tagInt:
		d.varint("int")
	case tagIntArray:
		for n := d.count("int array", 1); n > 0 && d.err == nil; n-- {
			d.varint("int array item")
		}
	case tagTimestamp:
		d.varint("timestamp seconds")
		d.varint("timestamp nanos")
	default:
		d.off--
		d.fail("tag type")
	}
}

// legacyEmptyStr is what an empty string written by format 1 reads as.
func legacyEmptyStr() *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Null{}}
}

func strTag(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func intTag(i int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: i}}}
}

func tsTag(sec int64, nanos int32) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: &timestamppb.Timestamp{Seconds: sec, Nanos: nanos}}}
}

// Record body (before the codec):
//
//	uvarint spanCount
//	spanCount × span:
//	    uvarint len(spanID) | spanID
//	    zigzag varint timestamp - previous span's timestamp (the first: - 0)
//	    uvarint tagCount | tagCount × tag value
//	    uvarint len(payload) | payload

// appendRecordBody appends the body of a record holding spans[idx] for idx in
// order, all of trace traceID.
func appendRecordBody(dst []byte, traceID string, spans []Span, order []int32) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(order)))
	var prevTS int64
	sc := spanContext{traceID: traceID}
	for _, i := range order {
		sp := &spans[i]
		dst = appendString(dst, sp.SpanID)
		dst = binary.AppendVarint(dst, sp.Timestamp-prevTS)
		prevTS = sp.Timestamp
		sc.spanID, sc.ts = sp.SpanID, sp.Timestamp
		dst = binary.AppendUvarint(dst, uint64(len(sp.Tags)))
		for _, v := range sp.Tags {
			dst = appendTag(dst, v, &sc)
		}
		dst = binary.AppendUvarint(dst, uint64(len(sp.Payload)))
		dst = append(dst, sp.Payload...)
	}
	return dst
}

// recordReader walks the spans of a record body.
type recordReader struct {
	d      decoder
	sc     spanContext
	left   int
	prevTS int64
}

// minSpanSize is the smallest encoding of a span: empty ID, one-byte
// timestamp delta, no tags, empty payload.
const minSpanSize = 4

func newRecordReader(body []byte, traceID string, share bool) recordReader {
	r := recordReader{d: decoder{buf: body, share: share}}
	r.sc.traceID = traceID
	r.left = r.d.count("span count", minSpanSize)
	return r
}

// next decodes the next span into sp, or skips it when sp is nil. It returns
// false at the end of the record or on error (see err).
func (r *recordReader) next(sp *StoredSpan) bool {
	if r.left == 0 || r.d.err != nil {
		return false
	}
	r.left--
	d := &r.d
	if sp == nil {
		d.raw("span id")
		r.prevTS += d.varint("timestamp")
		for n := d.count("tag count", 1); n > 0 && d.err == nil; n-- {
			d.skipTag()
		}
		d.raw("payload")
		return d.err == nil
	}
	sp.TraceID = r.sc.traceID
	sp.SpanID = d.str("span id")
	r.prevTS += d.varint("timestamp")
	sp.Timestamp = r.prevTS
	r.sc.spanID, r.sc.ts = sp.SpanID, sp.Timestamp
	n := d.count("tag count", 1)
	sp.Tags = nil
	if n > 0 {
		sp.Tags = make([]*modelv1.TagValue, n)
		for i := range sp.Tags {
			sp.Tags[i] = d.tag(&r.sc)
		}
	}
	sp.Payload = d.bytes("payload")
	return d.err == nil
}

func (r *recordReader) err() error {
	if r.d.err == nil && r.left == 0 && r.d.remaining() != 0 {
		r.d.fail("record trailer")
	}
	return r.d.err
}

// Index value:
//
//	zigzag varint timestamp - sortKey
//	repeated until the end: uvarint tag position | tag value

// appendIndexValue appends the value of an index entry for sp.
func appendIndexValue(dst []byte, sp *Span, sortKey int64, indexedTags []int) []byte {
	// Wrapping subtraction; the reader adds it back the same way. For a rule
	// sorted by the span's timestamp this is 0: one byte.
	dst = binary.AppendVarint(dst, sp.Timestamp-sortKey)
	for _, pos := range indexedTags {
		if pos >= len(sp.Tags) {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(pos))
		dst = appendTag(dst, sp.Tags[pos], nil)
	}
	return dst
}

// splitIndexValue returns the timestamp of an index value and the encoded
// (position, tag) pairs that follow it, which alias v.
func splitIndexValue(v []byte, sortKey int64) (ts int64, tags []byte, err error) {
	d := decoder{buf: v}
	ts = d.varint("index timestamp") + sortKey
	if d.err != nil {
		return 0, nil, d.err
	}
	return ts, v[d.off:], nil
}

// indexTagAt decodes the tag at position pos from encoded (position, tag)
// pairs, skipping the others without allocating; ok is false if pos is absent.
func indexTagAt(enc []byte, pos int) (*modelv1.TagValue, bool, error) {
	d := decoder{buf: enc}
	for d.err == nil && d.remaining() > 0 {
		p := d.uvarint("tag position")
		if d.err != nil {
			break
		}
		if p == uint64(pos) {
			t := d.tag(nil)
			if d.err != nil {
				break
			}
			return t, true, nil
		}
		d.skipTag()
	}
	return nil, false, d.err
}

// decodeIndexValue decodes an index value. Tags are copied out of v.
func decodeIndexValue(v []byte, sortKey int64) (ts int64, tags []*modelv1.TagValue, err error) {
	d := decoder{buf: v}
	ts = d.varint("index timestamp") + sortKey
	for d.err == nil && d.remaining() > 0 {
		pos := d.uvarint("tag position")
		if d.err == nil && pos >= maxTagPos {
			d.fail("tag position")
		}
		t := d.tag(nil)
		if d.err != nil {
			break
		}
		if int(pos) >= len(tags) {
			tags = append(tags, make([]*modelv1.TagValue, int(pos)+1-len(tags))...)
		}
		tags[pos] = t
	}
	return ts, tags, d.err
}
