// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package tagspec holds the per-stream state of a trace write stream (API 0.10) and turns the
// tag values of a request into the schema's order.
//
// A stream's first request names the group and trace (metadata); later requests may omit it and
// use the stream's latest. A request may carry a tag spec, the names of the positions of its tag
// values; the spec stays in force for the later requests of the stream until one carries another.
// A request that carries metadata but no spec clears the spec: that request and the next ones are
// in schema order again (upstream's front door and data side disagree there; this is the
// front door's reading, the one that locates the trace id and timestamp).
//
// Usage, per stream:
//
//	sc := tagspec.NewSchema(schemaTagNames, traceIDTag, timestampTag) // once per schema
//	var st tagspec.Stream
//	for each request {
//		w, status := st.Next(req) // metadata and spec in force for req, or STATUS_METADATA_REQUIRED
//		... resolve the schema named by w.Metadata ...
//		tags, status, reason := w.Spec.Normalize(sc, req.GetTags()) // schema order, or a refusal
//	}
package tagspec

import (
	"fmt"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// Refused is the status of a request whose tags the spec (or the schema) cannot place. It is the
// status this server gives every malformed span (upstream answers a span whose timestamp it
// cannot locate with it too), so a client sees one status for "the span does not fit the schema".
const Refused = modelv1.Status_STATUS_INVALID_TIMESTAMP

// Spec is the tag spec in force for a request: the tag names of the positions of its tag values.
// The zero Spec means schema order. The copies of one spec share what it resolved against a
// schema, so a sticky spec is checked once per schema, not once per request; a spec is used by
// one goroutine at a time (its stream's).
type Spec struct {
	names []string
	// placed is the spec resolved against the last schema it placed tags into.
	placed *placement
}

// placement is a spec resolved against one schema: where each named value goes, or why the spec
// cannot place values into that schema.
type placement struct {
	schema *Schema
	// pos[i] is the schema position of the spec's i-th name.
	pos    []int
	status modelv1.Status
	reason string
}

// NewSpec returns the spec naming positions with names; no names means schema order.
func NewSpec(names []string) Spec {
	if len(names) == 0 {
		return Spec{}
	}
	return Spec{names: append([]string(nil), names...), placed: &placement{}}
}

// place returns the spec resolved against sc, resolving it when sc is not the schema it last
// placed tags into.
func (s Spec) place(sc *Schema) *placement {
	p := s.placed
	if p.schema == sc {
		return p
	}
	*p = placement{schema: sc, pos: make([]int, len(s.names)), status: modelv1.Status_STATUS_SUCCEED}
	refuse := func(format string, args ...any) *placement {
		p.pos, p.status, p.reason = nil, Refused, fmt.Sprintf(format, args...)
		return p
	}
	seen := make([]bool, len(sc.Names))
	var hasTraceID, hasTimestamp bool
	for i, name := range s.names {
		pos, ok := sc.positions[name]
		if !ok {
			return refuse("the tag spec names %q, which the schema lacks", name)
		}
		if seen[pos] {
			return refuse("the tag spec names %q twice", name)
		}
		seen[pos] = true
		p.pos[i] = pos
		hasTraceID = hasTraceID || name == sc.TraceIDTag
		hasTimestamp = hasTimestamp || name == sc.TimestampTag
	}
	if !hasTraceID {
		return refuse("the tag spec lacks the trace id tag %q", sc.TraceIDTag)
	}
	if !hasTimestamp {
		return refuse("the tag spec lacks the timestamp tag %q", sc.TimestampTag)
	}
	return p
}

// IsSchemaOrder reports whether the spec is the schema's own order (no spec).
func (s Spec) IsSchemaOrder() bool { return len(s.names) == 0 }

// Names returns the spec's tag names; nil in schema order.
func (s Spec) Names() []string { return s.names }

// Write is what a request means once the stream's state is applied: the metadata and spec in force.
type Write struct {
	// Metadata names the group and trace of the request (the request's own or the stream's latest).
	Metadata *commonv1.Metadata
	// Spec places the request's tag values.
	Spec Spec
}

// Stream is the state of one write stream: the latest metadata and the spec in force. The zero
// value is a new stream. It is not safe for concurrent use; a stream's requests are applied in
// the order they were received.
type Stream struct {
	metadata *commonv1.Metadata
	spec     Spec
}

// Next applies a request to the stream and returns the metadata and spec in force for it. A
// request without metadata on a stream that has none yet gets STATUS_METADATA_REQUIRED and leaves
// the stream as it was; otherwise the status is STATUS_SUCCEED.
func (st *Stream) Next(req *tracev1.WriteRequest) (Write, modelv1.Status) {
	md := req.GetMetadata()
	hasMetadata := md != nil && (md.GetGroup() != "" || md.GetName() != "")
	switch {
	case hasMetadata:
		if md.GetGroup() == "" || md.GetName() == "" {
			return Write{}, modelv1.Status_STATUS_METADATA_REQUIRED
		}
		st.metadata = md
		// New metadata without a spec puts the stream back in schema order.
		st.spec = NewSpec(req.GetTagSpec().GetTagNames())
	case st.metadata == nil:
		return Write{}, modelv1.Status_STATUS_METADATA_REQUIRED
	case req.GetTagSpec() != nil:
		st.spec = NewSpec(req.GetTagSpec().GetTagNames())
	}
	return Write{Metadata: st.metadata, Spec: st.spec}, modelv1.Status_STATUS_SUCCEED
}

// Schema is the shape of a trace schema the spec places tags into.
type Schema struct {
	// Names are the schema's tag names in schema order.
	Names []string
	// TraceIDTag and TimestampTag name the schema's trace-id and timestamp tags.
	TraceIDTag, TimestampTag string
	positions                map[string]int
}

// NewSchema returns the shape of a schema with the tag names in schema order and the names of its
// trace-id and timestamp tags.
func NewSchema(names []string, traceIDTag, timestampTag string) *Schema {
	s := &Schema{Names: names, TraceIDTag: traceIDTag, TimestampTag: timestampTag, positions: make(map[string]int, len(names))}
	for i, n := range names {
		s.positions[n] = i
	}
	return s
}

// Normalize returns the request's tag values in schema order. In schema order (no spec) the
// values are returned as given: fewer than the schema has are fine (the missing trailing tags are
// null), more are refused. With a spec, the value of schema tag n is tags[i] where the spec's
// i-th name is n; a schema tag the spec does not name, or whose position is past the end of tags,
// is null. A spec is refused when it names a tag the schema lacks or a tag twice, when it lacks the
// trace-id or the timestamp tag, or when the request has more values than it has names.
//
// A refusal returns Refused and a reason for the log; the tags are then nil.
func (s Spec) Normalize(sc *Schema, tags []*modelv1.TagValue) ([]*modelv1.TagValue, modelv1.Status, string) {
	if s.IsSchemaOrder() {
		if len(tags) > len(sc.Names) {
			return nil, Refused, fmt.Sprintf("%d tag values for a schema of %d tags", len(tags), len(sc.Names))
		}
		return tags, modelv1.Status_STATUS_SUCCEED, ""
	}
	p := s.place(sc)
	if p.status != modelv1.Status_STATUS_SUCCEED {
		return nil, p.status, p.reason
	}
	if len(tags) > len(s.names) {
		return nil, Refused, fmt.Sprintf("%d tag values for a tag spec of %d names", len(tags), len(s.names))
	}
	// Trailing absent tags need no slot: a shorter list reads the same (null). Absent tags before
	// the last present one are explicit nulls, which survive a trip over the wire.
	n := 0
	for i, v := range tags {
		if v != nil && p.pos[i] >= n {
			n = p.pos[i] + 1
		}
	}
	out := make([]*modelv1.TagValue, n)
	for i, v := range tags {
		if p.pos[i] < n {
			out[p.pos[i]] = v
		}
	}
	for i, v := range out {
		if v == nil {
			out[i] = &modelv1.TagValue{Value: &modelv1.TagValue_Null{}}
		}
	}
	return out, modelv1.Status_STATUS_SUCCEED, ""
}
