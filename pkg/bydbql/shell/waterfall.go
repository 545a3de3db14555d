// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package shell

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pkg/errors"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// WaterfallOptions name the tags a trace view reads.
type WaterfallOptions struct {
	// TimestampTag is the span start, the schema's timestamp tag.
	TimestampTag string
	// DurationTag is an INT tag holding the span's duration in DurationUnit.
	DurationTag  string
	DurationUnit time.Duration
	// ParentTag holds the span id of the span's parent; spans without one are roots.
	ParentTag string
	// LabelTags are tried in order for the name shown beside each span.
	LabelTags []string
	// Width is the number of columns of the time axis.
	Width int
}

// DefaultWaterfallOptions fit the trace fixtures: sw and zipkin spans.
func DefaultWaterfallOptions() WaterfallOptions {
	return WaterfallOptions{
		TimestampTag: "timestamp", DurationTag: "duration", DurationUnit: time.Millisecond, ParentTag: "parent_id",
		LabelTags: []string{"service_id", "local_endpoint_service_name", "operation_name"}, Width: 48,
	}
}

// waterfallSpan is one bar.
type waterfallSpan struct {
	start    time.Time
	id       string
	parent   string
	label    string
	children []*waterfallSpan
	dur      time.Duration
}

// renderWaterfall draws every trace of the answer as bars on a time axis: a span starts at its
// timestamp tag and lasts its duration tag; a span sits under its parent when the spans carry
// one, and spans of one level are ordered by start.
func renderWaterfall(w io.Writer, resp *bydbqlv1.QueryResponse, opts WaterfallOptions) error {
	traces := resp.GetTraceResult().GetTraces()
	if len(traces) == 0 {
		_, err := fmt.Fprintln(w, "no traces")
		return errors.Wrap(err, "write the trace view")
	}
	var b strings.Builder
	for i, tr := range traces {
		if i > 0 {
			b.WriteString("\n")
		}
		if err := drawTrace(&b, tr, opts); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return errors.Wrap(err, "write the trace view")
}

func drawTrace(b *strings.Builder, tr *tracev1.Trace, opts WaterfallOptions) error {
	spans := make([]*waterfallSpan, 0, len(tr.GetSpans()))
	for _, s := range tr.GetSpans() {
		ws := &waterfallSpan{id: s.GetSpanId()}
		var hasStart, hasDur bool
		for _, tag := range s.GetTags() {
			switch tag.GetKey() {
			case opts.TimestampTag:
				if ts := tag.GetValue().GetTimestamp(); ts != nil {
					ws.start, hasStart = ts.AsTime(), true
				}
			case opts.DurationTag:
				if d := tag.GetValue().GetInt(); d != nil {
					ws.dur, hasDur = time.Duration(d.GetValue())*opts.DurationUnit, true
				}
			case opts.ParentTag:
				ws.parent = tag.GetValue().GetStr().GetValue()
			}
		}
		ws.label = spanLabel(s, opts.LabelTags)
		if !hasStart || !hasDur {
			return errors.Errorf("trace %s: span %s lacks the tag %s (start) or %s (duration): select both (or *) to draw traces",
				tr.GetTraceId(), s.GetSpanId(), opts.TimestampTag, opts.DurationTag)
		}
		spans = append(spans, ws)
	}
	if len(spans) == 0 {
		fmt.Fprintf(b, "trace %s: no spans\n", tr.GetTraceId())
		return nil
	}
	first, last := spans[0].start, spans[0].start.Add(spans[0].dur)
	byID := make(map[string]*waterfallSpan, len(spans))
	for _, s := range spans {
		if s.start.Before(first) {
			first = s.start
		}
		if end := s.start.Add(s.dur); end.After(last) {
			last = end
		}
		byID[s.id] = s
	}
	var roots []*waterfallSpan
	for _, s := range spans {
		if p, ok := byID[s.parent]; ok && s.parent != "" && p != s {
			p.children = append(p.children, s)
		} else {
			roots = append(roots, s)
		}
	}
	// rows lists the spans depth first; a cycle of parents cannot loop, each span is drawn once.
	type row struct {
		s     *waterfallSpan
		depth int
	}
	var rows []row
	drawn := make(map[*waterfallSpan]bool, len(spans))
	var walk func(level []*waterfallSpan, depth int)
	walk = func(level []*waterfallSpan, depth int) {
		sortByStart(level)
		for _, s := range level {
			if drawn[s] {
				continue
			}
			drawn[s] = true
			rows = append(rows, row{s: s, depth: depth})
			walk(s.children, depth+1)
		}
	}
	walk(roots, 0)
	for _, s := range spans {
		if !drawn[s] {
			walk([]*waterfallSpan{s}, 0)
		}
	}
	total := last.Sub(first)
	idWidth, labelWidth := len("span"), 0
	for _, r := range rows {
		idWidth = max(idWidth, 2*r.depth+utf8.RuneCountInString(r.s.id))
		labelWidth = max(labelWidth, utf8.RuneCountInString(r.s.label))
	}
	fmt.Fprintf(b, "trace %s  %d spans  %s  from %s\n", tr.GetTraceId(), len(spans), total, first.UTC().Format(time.RFC3339Nano))
	axis := fmt.Sprintf("0%*s", opts.Width-1, total.String())
	fmt.Fprintf(b, "%-*s  %-*s  %10s  %10s  |%s|\n", idWidth, "span", labelWidth, "", "start", "duration", axis)
	for _, r := range rows {
		id := strings.Repeat("  ", r.depth) + r.s.id
		fmt.Fprintf(b, "%s  %s  %10s  %10s  |%s|\n", pad(id, idWidth), pad(r.s.label, labelWidth),
			r.s.start.Sub(first), r.s.dur, bar(r.s.start.Sub(first), r.s.dur, total, opts.Width))
	}
	return nil
}

func pad(s string, width int) string {
	return s + strings.Repeat(" ", max(0, width-utf8.RuneCountInString(s)))
}

func sortByStart(spans []*waterfallSpan) {
	sort.SliceStable(spans, func(i, j int) bool {
		if !spans[i].start.Equal(spans[j].start) {
			return spans[i].start.Before(spans[j].start)
		}
		return spans[i].id < spans[j].id
	})
}

// bar draws a span from offset for dur on an axis of width columns spanning total; every span
// gets at least one column.
func bar(offset, dur, total time.Duration, width int) string {
	from, to := 0, width
	if total > 0 {
		from = int(int64(offset) * int64(width) / int64(total))
		to = int((int64(offset+dur)*int64(width) + int64(total) - 1) / int64(total))
	}
	from = min(max(from, 0), width-1)
	to = min(max(to, from+1), width)
	return strings.Repeat(" ", from) + strings.Repeat("█", to-from) + strings.Repeat(" ", width-to)
}

// spanLabel is the value of the first label tag the span carries.
func spanLabel(s *tracev1.Span, labels []string) string {
	for _, name := range labels {
		for _, tag := range s.GetTags() {
			if tag.GetKey() == name {
				if v := FormatValue(tag.GetValue()); v != "NULL" {
					return v
				}
			}
		}
	}
	return ""
}
