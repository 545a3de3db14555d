// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// ValidateTrace checks a trace schema sent to Create or Update, on its own (the group and the
// bindings that refer to it are checked by the service). It reports the first problem as a
// *FieldError whose field starts with "trace":
//   - metadata present with a group and a name that pass ValidateName;
//   - at least one tag; every tag with a non-empty name without '#', unique in the schema, and a
//     defined, non-UNSPECIFIED type;
//   - trace_id_tag_name, span_id_tag_name and timestamp_tag_name non-empty and without '#';
//   - trace_id_tag_name and span_id_tag_name name TAG_TYPE_STRING tags of the schema, and
//     timestamp_tag_name names a TAG_TYPE_TIMESTAMP tag.
func ValidateTrace(t *databasev1.Trace) error {
	const field = "trace"
	if t == nil {
		return fieldErrorf(field, reasonRequired)
	}
	if err := validateMetadata(field+".metadata", t.GetMetadata()); err != nil {
		return err
	}
	if len(t.GetTags()) == 0 {
		return fieldErrorf(field+".tags", reasonEmpty)
	}
	types := make(map[string]databasev1.TagType, len(t.GetTags()))
	for i, tag := range t.GetTags() {
		tagField := fmt.Sprintf("%s.tags[%d]", field, i)
		if tag == nil {
			return fieldErrorf(tagField, reasonRequired)
		}
		if err := validateTagName(tagField+".name", tag.GetName()); err != nil {
			return err
		}
		if _, dup := types[tag.GetName()]; dup {
			return fieldErrorf(tagField+".name", "tag %q is defined more than once", tag.GetName())
		}
		if !tagTypeDefined(tag.GetType()) {
			return fieldErrorf(tagField+".type", "must be a defined tag type, got %s", tag.GetType())
		}
		types[tag.GetName()] = tag.GetType()
	}
	special := []struct {
		field string
		name  string
		want  databasev1.TagType
	}{
		{field + ".trace_id_tag_name", t.GetTraceIdTagName(), databasev1.TagType_TAG_TYPE_STRING},
		{field + ".span_id_tag_name", t.GetSpanIdTagName(), databasev1.TagType_TAG_TYPE_STRING},
		{field + ".timestamp_tag_name", t.GetTimestampTagName(), databasev1.TagType_TAG_TYPE_TIMESTAMP},
	}
	for _, s := range special {
		if err := validateTagName(s.field, s.name); err != nil {
			return err
		}
		got, ok := types[s.name]
		if !ok {
			return fieldErrorf(s.field, "tag %q is not in %s.tags", s.name, field)
		}
		if got != s.want {
			return fieldErrorf(s.field, "tag %q has type %s, want %s", s.name, got, s.want)
		}
	}
	return nil
}

func tagTypeDefined(t databasev1.TagType) bool {
	_, ok := databasev1.TagType_name[int32(t)]
	return ok && t != databasev1.TagType_TAG_TYPE_UNSPECIFIED
}

// tagTypes maps the tag names of a trace schema to their types.
func tagTypes(t *databasev1.Trace) map[string]databasev1.TagType {
	m := make(map[string]databasev1.TagType, len(t.GetTags()))
	for _, tag := range t.GetTags() {
		m[tag.GetName()] = tag.GetType()
	}
	return m
}

// validateTraceUpdate checks that an update keeps the layout of the spans already stored under
// the schema: every stored tag keeps its name, type and position, and the trace id, span id and
// timestamp tag names stay the same. Tags may only be added after the stored ones; spans written
// before read them as null. A violation is FailedPrecondition naming the tag, because the update
// is valid on its own and only conflicts with the data the stored schema describes.
func validateTraceUpdate(stored, updated *databasev1.Trace) error {
	oldTags, newTags := stored.GetTags(), updated.GetTags()
	for i, old := range oldTags {
		if i >= len(newTags) {
			return status.Errorf(codes.FailedPrecondition,
				"trace.tags[%d]: tag %q (%s) cannot be removed: spans already written carry it; tags may only be added at the end",
				i, old.GetName(), old.GetType())
		}
		cur := newTags[i]
		if cur.GetName() != old.GetName() {
			return status.Errorf(codes.FailedPrecondition,
				"trace.tags[%d]: tag %q cannot be renamed, moved or replaced (got %q): spans already written store their tags by position; tags may only be added at the end",
				i, old.GetName(), cur.GetName())
		}
		if cur.GetType() != old.GetType() {
			return status.Errorf(codes.FailedPrecondition,
				"trace.tags[%d]: tag %q cannot change its type from %s to %s: spans already written hold %s values",
				i, old.GetName(), old.GetType(), cur.GetType(), old.GetType())
		}
	}
	special := []struct {
		field    string
		old, cur string
	}{
		{"trace.trace_id_tag_name", stored.GetTraceIdTagName(), updated.GetTraceIdTagName()},
		{"trace.span_id_tag_name", stored.GetSpanIdTagName(), updated.GetSpanIdTagName()},
		{"trace.timestamp_tag_name", stored.GetTimestampTagName(), updated.GetTimestampTagName()},
	}
	for _, sp := range special {
		if sp.old != sp.cur {
			return status.Errorf(codes.FailedPrecondition,
				"%s: cannot change from tag %q to tag %q: spans already written are keyed by %q",
				sp.field, sp.old, sp.cur, sp.old)
		}
	}
	return nil
}
