// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package shell

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"sigs.k8s.io/yaml"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

func str(s string) *modelv1.TagValue { return strParam(s) }

func i64(n int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: n}}}
}

func TestParseParam(t *testing.T) {
	tests := []struct {
		want *modelv1.TagValue
		in   string
		err  string
	}{
		{in: "500", want: i64(500)},
		{in: "-3", want: i64(-3)},
		{in: "webapp_service", want: str("webapp_service")},
		{in: `"500"`, want: str("500")},
		{in: "-15m", want: str("-15m")},
		{in: "2026-12-03T08:00:00Z", want: str("2026-12-03T08:00:00Z")},
		{in: "' OR 1=1 --", want: str("' OR 1=1 --")},
		{in: "null", want: &modelv1.TagValue{Value: &modelv1.TagValue_Null{Null: structpb.NullValue_NULL_VALUE}}},
		{in: `["a","b"]`, want: &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: []string{"a", "b"}}}}},
		{in: "[1, 2]", want: &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: []int64{1, 2}}}}},
		{in: "[]", want: &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: []string{}}}}},
		{in: "1 2", want: str("1 2")},
		{in: "1.5", err: "1.5 is not an integer"},
		{in: "99999999999999999999", err: "out of the int64 range"},
		{in: "true", err: "only integers, strings, null and arrays"},
		{in: `{"a":1}`, err: "only integers"},
		{in: `[1, "a"]`, err: "not both"},
		{in: `[[1]]`, err: "an array holds strings or integers"},
	}
	for _, tt := range tests {
		got, err := ParseParam(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseParam(%q): error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseParam(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("ParseParam(%q) -want +got:\n%s", tt.in, diff)
		}
	}
}

func TestStatementEnd(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{in: "SELECT 1", ok: false},
		{in: "SELECT 1;", want: 9, ok: true},
		{in: "SELECT ';' x", ok: false},
		{in: `SELECT "a;\";" x;`, want: 17, ok: true},
		{in: "SELECT 'it''s;' ;", want: 17, ok: true},
		{in: "SELECT -- not here;\n x;", want: 23, ok: true},
		{in: "a; b;", want: 2, ok: true},
	}
	for _, tt := range tests {
		got, ok := statementEnd(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("statementEnd(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHistoryLine(t *testing.T) {
	in := "SELECT trace_id -- the id\n  FROM TRACE sw IN g\n\n  WHERE a = '--x' -- done\n;"
	if got, want := historyLine(in), "SELECT trace_id FROM TRACE sw IN g WHERE a = '--x' ;"; got != want {
		t.Errorf("historyLine = %q, want %q", got, want)
	}
}

func TestSplitArgs(t *testing.T) {
	got := splitArgs(`\p 500 'two words' '["a","b"]'  x`)
	want := []string{`\p`, "500", "two words", `["a","b"]`, "x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}

var t0 = time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)

func span(id, parent, service string, offset, dur time.Duration) *tracev1.Span {
	tags := []*modelv1.Tag{
		{Key: "timestamp", Value: &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(t0.Add(offset))}}},
		{Key: "duration", Value: i64(dur.Milliseconds())},
		{Key: "local_endpoint_service_name", Value: str(service)},
	}
	if parent != "" {
		tags = append(tags, &modelv1.Tag{Key: "parent_id", Value: str(parent)})
	}
	return &tracev1.Span{SpanId: id, Span: []byte(id + "_bytes"), Tags: tags}
}

func traceResponse(traces ...*tracev1.Trace) *bydbqlv1.QueryResponse {
	return &bydbqlv1.QueryResponse{Result: &bydbqlv1.QueryResponse_TraceResult{TraceResult: &tracev1.QueryResponse{Traces: traces}}}
}

func TestWaterfallNestsByParent(t *testing.T) {
	resp := traceResponse(&tracev1.Trace{TraceId: "t1", Spans: []*tracev1.Span{
		// Out of order, a child before its parent, and a grandchild.
		span("db", "api", "orders", 400*time.Millisecond, 200*time.Millisecond),
		span("root", "", "gateway", 0, time.Second),
		span("api", "root", "orders", 200*time.Millisecond, 600*time.Millisecond),
		span("cache", "root", "redis", 100*time.Millisecond, 50*time.Millisecond),
	}})
	var out bytes.Buffer
	opts := DefaultWaterfallOptions()
	opts.Width = 10
	if err := renderWaterfall(&out, resp, opts); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"trace t1  4 spans  1s  from 2026-12-03T08:00:00Z",
		"span                   start    duration  |0       1s|",
		"root     gateway          0s          1s  |██████████|",
		"  cache  redis         100ms        50ms  | █        |",
		"  api    orders        200ms       600ms  |  ██████  |",
		"    db   orders        400ms       200ms  |    ██    |",
		"",
	}, "\n")
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}

func TestWaterfallWithoutParentsOrdersByStart(t *testing.T) {
	resp := traceResponse(&tracev1.Trace{TraceId: "t2", Spans: []*tracev1.Span{
		span("b", "", "svc", 500*time.Millisecond, 500*time.Millisecond),
		span("a", "", "svc", 0, 250*time.Millisecond),
		// A parent that is not in the answer leaves the span a root.
		span("c", "missing", "svc", 250*time.Millisecond, 250*time.Millisecond),
	}})
	var out bytes.Buffer
	opts := DefaultWaterfallOptions()
	opts.Width = 4
	if err := renderWaterfall(&out, resp, opts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	for i, want := range []string{"a     svc", "c     svc", "b     svc"} {
		if !strings.HasPrefix(lines[2+i], want) {
			t.Errorf("row %d = %q, want it to start with %q", i, lines[2+i], want)
		}
	}
	for i, bar := range []string{"|█   |", "| █  |", "|  ██|"} {
		if !strings.HasSuffix(lines[2+i], bar) {
			t.Errorf("row %d = %q, want bar %q", i, lines[2+i], bar)
		}
	}
}

func TestWaterfallNeedsTimestampAndDuration(t *testing.T) {
	resp := traceResponse(&tracev1.Trace{TraceId: "t3", Spans: []*tracev1.Span{{SpanId: "s", Tags: []*modelv1.Tag{{Key: "duration", Value: i64(1)}}}}})
	err := renderWaterfall(&bytes.Buffer{}, resp, DefaultWaterfallOptions())
	if err == nil || !strings.Contains(err.Error(), "select both (or *) to draw traces") {
		t.Fatalf("got %v", err)
	}
}

func TestRenderTable(t *testing.T) {
	resp := traceResponse(
		&tracev1.Trace{TraceId: "t1", Spans: []*tracev1.Span{
			{SpanId: "s1", Span: []byte("hello"), Tags: []*modelv1.Tag{{Key: "duration", Value: i64(5)}, {Key: "query", Value: &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: []string{"a", "b"}}}}}}},
			{SpanId: "s2", Span: []byte{0xff, 0x00}, Tags: []*modelv1.Tag{{Key: "duration", Value: &modelv1.TagValue{Value: &modelv1.TagValue_Null{}}}}},
		}},
	)
	var out bytes.Buffer
	if err := renderTable(&out, resp); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"┌───────┬─────────┬──────────┬────────┬─────────────┐",
		"│ trace │ span_id │ duration │ query  │ span        │",
		"├───────┼─────────┼──────────┼────────┼─────────────┤",
		"│ t1    │ s1      │ 5        │ [a, b] │ hello       │",
		"│       │ s2      │ NULL     │        │ base64:/wA= │",
		"└───────┴─────────┴──────────┴────────┴─────────────┘",
		"1 traces, 2 spans",
		"",
	}, "\n")
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}

func TestJSONAndYAMLRoundTrip(t *testing.T) {
	resp := traceResponse(&tracev1.Trace{TraceId: "t1", Spans: []*tracev1.Span{span("s1", "", "svc", 0, time.Second)}})
	var js, ym bytes.Buffer
	if err := renderJSON(&js, resp); err != nil {
		t.Fatal(err)
	}
	if err := renderYAML(&ym, resp); err != nil {
		t.Fatal(err)
	}
	fromYAML, err := yaml.YAMLToJSON(ym.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"json": js.Bytes(), "yaml": fromYAML} {
		got := &bydbqlv1.QueryResponse{}
		if err := protojson.Unmarshal(data, got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(resp, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s -want +got:\n%s", name, diff)
		}
	}
	if !strings.Contains(ym.String(), "traceId: t1") {
		t.Errorf("YAML:\n%s", ym.String())
	}
}

func TestFlagErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"-o", "xml", "-e", "SELECT"}, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `unknown output format "xml"`) {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := Main([]string{"SELECT"}, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unexpected arguments") {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := Main([]string{"-p", "1.5"}, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "not an integer") {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := Main([]string{"-h"}, strings.NewReader(""), &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "--addr") {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
}
