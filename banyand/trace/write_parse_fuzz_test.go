// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/tagspec"
)

// FuzzParseWrite runs the front door's parsing of a write over two encoded requests of one stream:
// the stream's metadata and tag spec (tagspec.Stream), the tags put in schema order
// (Spec.Normalize) and the validation that yields the span (parseStoredSpan), against a schema
// with a tag of every type. Nothing may panic; a refusal is a status, never a panic; a request that
// is accepted has a trace id, a span id, a millisecond timestamp and no more values than the schema
// has tags, and placing tags a spec normalized again by the schema's own names changes nothing. The seed corpus
// is in testdata/fuzz/FuzzParseWrite.
func FuzzParseWrite(f *testing.F) {
	now := timestamppb.New(time.Unix(1700000000, 0))
	md := &commonv1.Metadata{Group: "g", Name: "sw"}
	full := []*modelv1.TagValue{
		str("trace-1"), i64(1), str("svc"), i64(500), str("span-1"), {Value: &modelv1.TagValue_Timestamp{Timestamp: now}},
		strs("a=1"), ints(80), {Value: &modelv1.TagValue_BinaryData{BinaryData: []byte{1}}},
	}
	seeds := [][2]*tracev1.WriteRequest{
		{{Metadata: md, Tags: full, Span: []byte("s"), Version: 1}, {Tags: full[:6], Version: 2}},
		{{Metadata: md, Tags: []*modelv1.TagValue{str("t"), {Value: &modelv1.TagValue_Timestamp{Timestamp: now}}, str("s")},
			TagSpec: &tracev1.TagSpec{TagNames: []string{"trace_id", "timestamp", "span_id"}}}, {Tags: full}},
		{{Tags: full}, {Metadata: &commonv1.Metadata{Group: "g"}, Tags: full}},
		{{Metadata: md, Tags: append(append([]*modelv1.TagValue{}, full...), str("extra"))}, {Metadata: md, TagSpec: &tracev1.TagSpec{TagNames: []string{"trace_id", "trace_id"}}}},
	}
	for _, pair := range seeds {
		a, err := proto.Marshal(pair[0])
		if err != nil {
			f.Fatal(err)
		}
		b, err := proto.Marshal(pair[1])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(a, b)
	}
	tl := newTagLocator(fuzzSchema)
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var st tagspec.Stream
		for _, data := range [][]byte{first, second} {
			req := &tracev1.WriteRequest{}
			if proto.Unmarshal(data, req) != nil {
				continue // the front door answers an undecodable request without touching the stream
			}
			w, status := st.Next(req)
			if status != modelv1.Status_STATUS_SUCCEED {
				if status != modelv1.Status_STATUS_METADATA_REQUIRED {
					t.Fatalf("Next gave %s", status)
				}
				continue
			}
			if w.Metadata.GetGroup() == "" || w.Metadata.GetName() == "" {
				t.Fatalf("a request was let through without a group and a name: %v", w.Metadata)
			}
			tags, status, reason := w.Spec.Normalize(tl.spec, req.GetTags())
			if status != modelv1.Status_STATUS_SUCCEED {
				if reason == "" {
					t.Fatalf("a refusal (%s) without a reason", status)
				}
				continue
			}
			if len(tags) > len(tl.names) {
				t.Fatalf("normalized %d values for %d tags", len(tags), len(tl.names))
			}
			if !w.Spec.IsSchemaOrder() {
				// Tags a spec placed are in schema order: placing them again by the schema's
				// own names changes nothing.
				again, status, _ := tagspec.NewSpec(tl.names[:len(tags)]).Normalize(tl.spec, tags)
				if status == modelv1.Status_STATUS_SUCCEED && !sameValues(again, tags) {
					t.Fatalf("re-placing normalized tags by the schema's names changed them")
				}
			}
			parsed := &tracev1.WriteRequest{Metadata: w.Metadata, Tags: tags, Span: req.GetSpan(), Version: req.GetVersion()}
			ps, status, reason := parseStoredSpan(w.Metadata.GetName(), &tl, parsed)
			if status != modelv1.Status_STATUS_SUCCEED {
				if status != modelv1.Status_STATUS_INVALID_TIMESTAMP || reason == "" {
					t.Fatalf("refused with %s (%q)", status, reason)
				}
				continue
			}
			if ps.traceID == "" || ps.ts.IsZero() || ps.ts.Nanosecond()%int(time.Millisecond) != 0 {
				t.Fatalf("accepted a span without a trace id or a millisecond timestamp: %+v", ps)
			}
			if shard := shardOf(ps.traceID, 3); shard >= 3 {
				t.Fatalf("shard %d of 3", shard)
			}
		}
	})
}

// sameValues reports whether two tag value lists are equal value by value.
func sameValues(a, b []*modelv1.TagValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
