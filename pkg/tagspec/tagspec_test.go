// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tagspec

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

func str(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func md(group, name string) *commonv1.Metadata { return &commonv1.Metadata{Group: group, Name: name} }

func spec(names ...string) *tracev1.TagSpec { return &tracev1.TagSpec{TagNames: names} }

// render shows a tag list as "a,b,_" where _ is null, so that cases read like the lists they check.
func render(tags []*modelv1.TagValue) string {
	parts := make([]string, len(tags))
	for i, v := range tags {
		if s := v.GetStr(); s != nil {
			parts[i] = s.GetValue()
		} else {
			parts[i] = "_"
		}
	}
	return strings.Join(parts, ",")
}

func vals(ss ...string) []*modelv1.TagValue {
	out := make([]*modelv1.TagValue, len(ss))
	for i, s := range ss {
		out[i] = str(s)
	}
	return out
}

// schema is sw's shape: trace_id, state, service_id, duration, span_id, timestamp.
var schema = NewSchema([]string{"trace_id", "state", "service_id", "duration", "span_id", "timestamp"}, "trace_id", "timestamp")

func TestNormalize(t *testing.T) {
	cases := []struct {
		name   string
		spec   []string
		tags   []string
		want   string
		reason string // a part of the refusal reason; empty when the request is accepted
	}{
		{name: "schema order, all tags", tags: []string{"t", "1", "svc", "5", "s", "ts"}, want: "t,1,svc,5,s,ts"},
		{name: "schema order, fewer tags", tags: []string{"t", "1"}, want: "t,1"},
		{name: "schema order, more tags", tags: []string{"t", "1", "svc", "5", "s", "ts", "x"}, reason: "7 tag values for a schema of 6"},
		{name: "spec in schema order", spec: schema.Names, tags: []string{"t", "1", "svc", "5", "s", "ts"}, want: "t,1,svc,5,s,ts"},
		{
			name: "spec in another order", spec: []string{"timestamp", "span_id", "duration", "service_id", "state", "trace_id"},
			tags: []string{"ts", "s", "5", "svc", "1", "t"}, want: "t,1,svc,5,s,ts",
		},
		{name: "partial spec: absent tags are null", spec: []string{"span_id", "trace_id", "timestamp"}, tags: []string{"s", "t", "ts"}, want: "t,_,_,_,s,ts"},
		{name: "partial spec: trailing absent tags are cut", spec: []string{"trace_id", "state", "timestamp"}, tags: []string{"t", "1", "ts"}, want: "t,1,_,_,_,ts"},
		{name: "fewer tags than names: the rest is null", spec: []string{"trace_id", "timestamp", "state"}, tags: []string{"t", "ts"}, want: "t,_,_,_,_,ts"},
		{name: "more tags than names", spec: []string{"trace_id", "timestamp"}, tags: []string{"t", "ts", "x"}, reason: "3 tag values for a tag spec of 2"},
		{name: "name the schema lacks", spec: []string{"trace_id", "timestamp", "nope"}, tags: []string{"t", "ts", "x"}, reason: `names "nope"`},
		{name: "name twice", spec: []string{"trace_id", "timestamp", "trace_id"}, tags: []string{"t", "ts", "x"}, reason: "twice"},
		{name: "no trace id", spec: []string{"span_id", "timestamp"}, tags: []string{"s", "ts"}, reason: "lacks the trace id"},
		{name: "no timestamp", spec: []string{"span_id", "trace_id"}, tags: []string{"s", "t"}, reason: "lacks the timestamp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st, reason := NewSpec(c.spec).Normalize(schema, vals(c.tags...))
			if c.reason != "" {
				if st != Refused || got != nil || !strings.Contains(reason, c.reason) {
					t.Fatalf("got %v %q %q, want a refusal containing %q", st, render(got), reason, c.reason)
				}
				return
			}
			if st != modelv1.Status_STATUS_SUCCEED || reason != "" {
				t.Fatalf("refused: %v %s", st, reason)
			}
			if r := render(got); r != c.want {
				t.Fatalf("got %s, want %s", r, c.want)
			}
		})
	}
}

// Normalized tags go over the wire to data nodes: absent tags must be explicit nulls, not nil.
func TestNormalizeMarshals(t *testing.T) {
	got, st, _ := NewSpec([]string{"span_id", "trace_id", "timestamp"}).Normalize(schema, vals("s", "t", "ts"))
	if st != modelv1.Status_STATUS_SUCCEED {
		t.Fatal(st)
	}
	req := &tracev1.WriteRequest{Tags: got}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var back tracev1.WriteRequest
	if err := proto.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(req, &back) {
		t.Fatalf("round trip changed the tags: %v", back.GetTags())
	}
	if _, ok := back.GetTags()[1].GetValue().(*modelv1.TagValue_Null); !ok {
		t.Fatalf("tag 1 is %v, want null", back.GetTags()[1])
	}
}

func TestStream(t *testing.T) {
	type step struct {
		req      *tracev1.WriteRequest
		status   modelv1.Status
		metadata string // group/name in force
		spec     string // names of the spec in force, joined by ","; empty for schema order
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{name: "metadata once", steps: []step{
			{req: &tracev1.WriteRequest{Metadata: md("g", "sw")}, metadata: "g/sw"},
			{req: &tracev1.WriteRequest{}, metadata: "g/sw"},
			{req: &tracev1.WriteRequest{}, metadata: "g/sw"},
		}},
		{name: "no metadata first", steps: []step{
			{req: &tracev1.WriteRequest{}, status: modelv1.Status_STATUS_METADATA_REQUIRED},
			{req: &tracev1.WriteRequest{TagSpec: spec("a")}, status: modelv1.Status_STATUS_METADATA_REQUIRED},
			{req: &tracev1.WriteRequest{Metadata: md("g", "sw")}, metadata: "g/sw"},
		}},
		{name: "half metadata", steps: []step{
			{req: &tracev1.WriteRequest{Metadata: md("g", "")}, status: modelv1.Status_STATUS_METADATA_REQUIRED},
			{req: &tracev1.WriteRequest{Metadata: md("g", "sw")}, metadata: "g/sw"},
			{req: &tracev1.WriteRequest{Metadata: md("", "sw")}, status: modelv1.Status_STATUS_METADATA_REQUIRED},
			{req: &tracev1.WriteRequest{}, metadata: "g/sw"},
		}},
		{name: "spec sticks", steps: []step{
			{req: &tracev1.WriteRequest{Metadata: md("g", "sw"), TagSpec: spec("a", "b")}, metadata: "g/sw", spec: "a,b"},
			{req: &tracev1.WriteRequest{}, metadata: "g/sw", spec: "a,b"},
			{req: &tracev1.WriteRequest{}, metadata: "g/sw", spec: "a,b"},
		}},
		{name: "spec replaced mid-stream", steps: []step{
			{req: &tracev1.WriteRequest{Metadata: md("g", "sw"), TagSpec: spec("a", "b")}, metadata: "g/sw", spec: "a,b"},
			{req: &tracev1.WriteRequest{TagSpec: spec("b", "a")}, metadata: "g/sw", spec: "b,a"},
			{req: &tracev1.WriteRequest{}, metadata: "g/sw", spec: "b,a"},
		}},
		{name: "empty spec is schema order", steps: []step{
			{req: &tracev1.WriteRequest{Metadata: md("g", "sw"), TagSpec: spec("a")}, metadata: "g/sw", spec: "a"},
			{req: &tracev1.WriteRequest{TagSpec: spec()}, metadata: "g/sw"},
		}},
		{name: "new metadata without a spec clears it", steps: []step{
			{req: &tracev1.WriteRequest{Metadata: md("g", "sw"), TagSpec: spec("a")}, metadata: "g/sw", spec: "a"},
			{req: &tracev1.WriteRequest{Metadata: md("g", "zipkin")}, metadata: "g/zipkin"},
			{req: &tracev1.WriteRequest{}, metadata: "g/zipkin"},
		}},
		{name: "new metadata with a spec", steps: []step{
			{req: &tracev1.WriteRequest{Metadata: md("g", "sw")}, metadata: "g/sw"},
			{req: &tracev1.WriteRequest{Metadata: md("h", "sw"), TagSpec: spec("c")}, metadata: "h/sw", spec: "c"},
			{req: &tracev1.WriteRequest{}, metadata: "h/sw", spec: "c"},
		}},
		{name: "refused request keeps the state", steps: []step{
			{req: &tracev1.WriteRequest{Metadata: md("g", "sw"), TagSpec: spec("a")}, metadata: "g/sw", spec: "a"},
			{req: &tracev1.WriteRequest{Metadata: md("", "x"), TagSpec: spec("b")}, status: modelv1.Status_STATUS_METADATA_REQUIRED},
			{req: &tracev1.WriteRequest{}, metadata: "g/sw", spec: "a"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var st Stream
			for i, s := range c.steps {
				want := s.status
				if want == modelv1.Status_STATUS_UNSPECIFIED {
					want = modelv1.Status_STATUS_SUCCEED
				}
				w, got := st.Next(s.req)
				if got != want {
					t.Fatalf("step %d: status %v, want %v", i, got, want)
				}
				if got != modelv1.Status_STATUS_SUCCEED {
					continue
				}
				if m := w.Metadata.GetGroup() + "/" + w.Metadata.GetName(); m != s.metadata {
					t.Fatalf("step %d: metadata %s, want %s", i, m, s.metadata)
				}
				if sp := strings.Join(w.Spec.Names(), ","); sp != s.spec || w.Spec.IsSchemaOrder() != (s.spec == "") {
					t.Fatalf("step %d: spec %q, want %q", i, sp, s.spec)
				}
			}
		})
	}
}

// A sticky spec is resolved once per schema: applied to another schema (the trace was updated, or
// the stream names another trace) it is resolved again, and back again.
func TestSpecFollowsTheSchemaItPlacesInto(t *testing.T) {
	other := NewSchema([]string{"trace_id", "timestamp", "duration"}, "trace_id", "timestamp")
	sp := NewSpec([]string{"timestamp", "trace_id", "state"})
	for round := range 2 {
		got, st, _ := sp.Normalize(schema, vals("ts", "t", "1"))
		if st != modelv1.Status_STATUS_SUCCEED || render(got) != "t,1,_,_,_,ts" {
			t.Fatalf("round %d, sw: %q, %s", round, render(got), st)
		}
		// The other schema has no state tag: the same spec is refused there.
		if _, st, reason := sp.Normalize(other, vals("ts", "t", "1")); st != Refused || !strings.Contains(reason, `"state"`) {
			t.Fatalf("round %d, other schema: %s, %q", round, st, reason)
		}
	}
	// A copy of the spec (the stream hands one to every request) shares the resolution.
	copied := sp
	if got, st, _ := copied.Normalize(schema, vals("ts", "t")); st != modelv1.Status_STATUS_SUCCEED || render(got) != "t,_,_,_,_,ts" {
		t.Fatalf("copy: %q, %s", render(got), st)
	}
}
