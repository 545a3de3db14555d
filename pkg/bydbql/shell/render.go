// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package shell

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"github.com/pkg/errors"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// Format is how answers are printed.
type Format string

// The output formats.
const (
	FormatTable     Format = "table"
	FormatJSON      Format = "json"
	FormatYAML      Format = "yaml"
	FormatWaterfall Format = "waterfall"
)

// ParseFormat accepts the name of a format.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatTable, FormatJSON, FormatYAML, FormatWaterfall:
		return f, nil
	}
	return "", errors.Errorf("unknown output format %q: table, json, yaml or waterfall", s)
}

// maxSpanText is how much of a span's bytes the table shows.
const maxSpanText = 32

// renderTable prints one row per span: the trace id (on the trace's first row), the span id,
// every tag of the answer in order of first appearance, and the span bytes.
func renderTable(w io.Writer, resp *bydbqlv1.QueryResponse) error {
	res := resp.GetTraceResult()
	var keys []string
	seen := make(map[string]bool)
	spans := 0
	for _, tr := range res.GetTraces() {
		for _, s := range tr.GetSpans() {
			spans++
			for _, tag := range s.GetTags() {
				if !seen[tag.GetKey()] {
					seen[tag.GetKey()] = true
					keys = append(keys, tag.GetKey())
				}
			}
		}
	}
	t := table.NewWriter()
	t.SetStyle(table.StyleLight)
	// Tag names are case-sensitive: show them as they are.
	t.Style().Format.Header = text.FormatDefault
	header := table.Row{"trace", "span_id"}
	for _, k := range keys {
		header = append(header, k)
	}
	t.AppendHeader(append(header, "span"))
	for _, tr := range res.GetTraces() {
		for i, s := range tr.GetSpans() {
			id := ""
			if i == 0 {
				id = tr.GetTraceId()
			}
			row := table.Row{id, s.GetSpanId()}
			values := make(map[string]string, len(s.GetTags()))
			for _, tag := range s.GetTags() {
				values[tag.GetKey()] = FormatValue(tag.GetValue())
			}
			for _, k := range keys {
				row = append(row, values[k])
			}
			t.AppendRow(append(row, spanText(s.GetSpan())))
		}
		if len(tr.GetSpans()) == 0 {
			t.AppendRow(table.Row{tr.GetTraceId()})
		}
	}
	if _, err := fmt.Fprintln(w, t.Render()); err != nil {
		return errors.Wrap(err, "write the table")
	}
	if _, err := fmt.Fprintf(w, "%d traces, %d spans\n", len(res.GetTraces()), spans); err != nil {
		return errors.Wrap(err, "write the summary")
	}
	return renderExecution(w, resp)
}

// renderExecution prints the execution trace of WITH QUERY_TRACE, when there is one.
func renderExecution(w io.Writer, resp *bydbqlv1.QueryResponse) error {
	et := resp.GetTraceResult().GetTraceQueryResult()
	if et == nil {
		return nil
	}
	var b strings.Builder
	b.WriteString("execution trace " + et.GetTraceId() + ":\n")
	for _, s := range et.GetSpans() {
		fmt.Fprintf(&b, "  %s  %s", s.GetMessage(), time.Duration(s.GetDuration()))
		for _, tag := range s.GetTags() {
			fmt.Fprintf(&b, "  %s=%s", tag.GetKey(), tag.GetValue())
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return errors.Wrap(err, "write the execution trace")
}

// FormatValue renders a tag value for a table cell.
func FormatValue(v *modelv1.TagValue) string {
	switch x := v.GetValue().(type) {
	case *modelv1.TagValue_Str:
		return x.Str.GetValue()
	case *modelv1.TagValue_Int:
		return strconv.FormatInt(x.Int.GetValue(), 10)
	case *modelv1.TagValue_StrArray:
		return "[" + strings.Join(x.StrArray.GetValue(), ", ") + "]"
	case *modelv1.TagValue_IntArray:
		parts := make([]string, len(x.IntArray.GetValue()))
		for i, n := range x.IntArray.GetValue() {
			parts[i] = strconv.FormatInt(n, 10)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *modelv1.TagValue_Timestamp:
		return x.Timestamp.AsTime().UTC().Format(time.RFC3339Nano)
	case *modelv1.TagValue_BinaryData:
		return base64.StdEncoding.EncodeToString(x.BinaryData)
	}
	return "NULL"
}

// spanText shows span bytes as text when they are printable, else as base64, cut to maxSpanText.
func spanText(b []byte) string {
	s := string(b)
	printable := utf8.ValidString(s)
	for _, r := range s {
		if !unicode.IsPrint(r) {
			printable = false
			break
		}
	}
	if !printable {
		s = "base64:" + base64.StdEncoding.EncodeToString(b)
	}
	if utf8.RuneCountInString(s) > maxSpanText {
		s = string([]rune(s)[:maxSpanText-1]) + "…"
	}
	return s
}

// renderJSON prints the whole response as protojson.
func renderJSON(w io.Writer, resp *bydbqlv1.QueryResponse) error {
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(resp)
	if err != nil {
		return errors.Wrap(err, "encode the answer as JSON")
	}
	_, err = fmt.Fprintln(w, string(data))
	return errors.Wrap(err, "write the answer")
}

// renderYAML prints the protojson of the response as YAML.
func renderYAML(w io.Writer, resp *bydbqlv1.QueryResponse) error {
	data, err := protojson.Marshal(resp)
	if err != nil {
		return errors.Wrap(err, "encode the answer")
	}
	out, err := yaml.JSONToYAML(data)
	if err != nil {
		return errors.Wrap(err, "convert the answer to YAML")
	}
	_, err = w.Write(out)
	return errors.Wrap(err, "write the answer")
}
