// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/apache/skywalking-banyandb/test/helpers"
)

// TestTranscriptionMatchesFixtures checks fixtureSpans, typed by hand, against the span files and
// the trace schemas they are written with, so that a typo cannot make a wanted output wrong.
func TestTranscriptionMatchesFixtures(t *testing.T) {
	schemas, err := helpers.ReadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	for _, f := range helpers.SpanFixtures {
		var tagNames []string
		for _, tr := range schemas.Traces {
			if tr.GetMetadata().GetGroup() == f.Group && tr.GetMetadata().GetName() == f.Trace {
				for _, tag := range tr.GetTags() {
					tagNames = append(tagNames, tag.GetName())
				}
			}
		}
		if len(tagNames) == 0 {
			t.Fatalf("no schema for %s/%s", f.Group, f.Trace)
		}
		entries, err := helpers.ReadSpanFile(f.File)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range entries {
			if next >= len(fixtureSpans) {
				t.Fatalf("%s[%d]: not transcribed", f.File, i)
			}
			got := fixtureSpans[next]
			next++
			if got.group != f.Group || got.span != e.Span || got.offset != at(f.Offset, i) {
				t.Fatalf("%s[%d]: transcribed group %s span %q offset %s; file says %s %q %s",
					f.File, i, got.group, got.span, got.offset, f.Group, e.Span, at(f.Offset, i))
			}
			if len(e.Tags) != len(tagNames)-1 {
				t.Fatalf("%s[%d]: %d tags for a schema of %d (timestamp excluded)", f.File, i, len(e.Tags), len(tagNames)-1)
			}
			if len(got.tags) != len(e.Tags)-2 {
				t.Fatalf("%s[%d]: transcribed %d ordinary tags, file has %d", f.File, i, len(got.tags), len(e.Tags)-2)
			}
			for j, v := range e.Tags {
				var want *string
				switch tagNames[j] {
				case "trace_id":
					want = &got.traceID
				case "span_id":
					want = &got.spanID
				}
				if want != nil {
					if v.GetStr().GetValue() != *want {
						t.Fatalf("%s[%d]: %s is %q, transcribed %q", f.File, i, tagNames[j], v.GetStr().GetValue(), *want)
					}
					continue
				}
				if !proto.Equal(v, got.tags[tagNames[j]]) {
					t.Fatalf("%s[%d]: %s is %v, transcribed %v", f.File, i, tagNames[j], v, got.tags[tagNames[j]])
				}
			}
		}
	}
	if next != len(fixtureSpans) {
		t.Fatalf("%d spans transcribed, the files have %d", len(fixtureSpans), next)
	}
}
