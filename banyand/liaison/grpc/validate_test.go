// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

func validGroup() *commonv1.Group {
	return &commonv1.Group{
		Metadata: &commonv1.Metadata{Name: "g"},
		Catalog:  commonv1.Catalog_CATALOG_TRACE,
		ResourceOpts: &commonv1.ResourceOpts{
			ShardNum:        2,
			SegmentInterval: &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 1},
			Ttl:             &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 3},
			Stages: []*commonv1.LifecycleStage{{
				Name:            "warm",
				ShardNum:        1,
				SegmentInterval: &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 3},
				Ttl:             &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 7},
				NodeSelector:    "type=warm",
			}},
		},
	}
}

func validTrace() *databasev1.Trace {
	return &databasev1.Trace{
		Metadata: &commonv1.Metadata{Group: "g", Name: "sw"},
		Tags: []*databasev1.TraceTagSpec{
			{Name: "trace_id", Type: databasev1.TagType_TAG_TYPE_STRING},
			{Name: "service_id", Type: databasev1.TagType_TAG_TYPE_STRING},
			{Name: "duration", Type: databasev1.TagType_TAG_TYPE_INT},
			{Name: "tags", Type: databasev1.TagType_TAG_TYPE_STRING_ARRAY},
			{Name: "span_id", Type: databasev1.TagType_TAG_TYPE_STRING},
			{Name: "timestamp", Type: databasev1.TagType_TAG_TYPE_TIMESTAMP},
		},
		TraceIdTagName:   "trace_id",
		SpanIdTagName:    "span_id",
		TimestampTagName: "timestamp",
	}
}

func validRule() *databasev1.IndexRule {
	return &databasev1.IndexRule{
		Metadata: &commonv1.Metadata{Group: "g", Name: "duration"},
		Tags:     []string{"service_id", "duration"},
		Type:     databasev1.IndexRule_TYPE_TREE,
	}
}

func validBinding() *databasev1.IndexRuleBinding {
	return &databasev1.IndexRuleBinding{
		Metadata: &commonv1.Metadata{Group: "g", Name: "b"},
		Rules:    []string{"duration", "timestamp"},
		Subject:  &databasev1.Subject{Catalog: commonv1.Catalog_CATALOG_TRACE, Name: "sw"},
		BeginAt:  timestamppb.New(time.Date(2021, 4, 15, 1, 30, 15, 0, time.UTC)),
		ExpireAt: timestamppb.New(time.Date(2121, 4, 15, 1, 30, 15, 0, time.UTC)),
	}
}

// validationCase is one input mutation and the field its error must name ("" means valid).
type validationCase[T any] struct {
	name   string
	mutate func(T) T
	field  string
	reason string // a substring of the reason, optional
}

func runValidationCases[T any](t *testing.T, fresh func() T, validate func(T) error, cases []validationCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validate(tc.mutate(fresh()))
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			assertFieldError(t, err, tc.field, tc.reason)
		})
	}
}

func assertFieldError(t *testing.T, err error, field, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error on %s, got nil", field)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("want a *FieldError, got %T: %v", err, err)
	}
	if fe.Field != field {
		t.Fatalf("want field %q, got %q (%v)", field, fe.Field, err)
	}
	if !strings.Contains(fe.Reason, reason) {
		t.Fatalf("want reason containing %q, got %q", reason, fe.Reason)
	}
	if got := status.Code(err); got != codes.InvalidArgument {
		t.Fatalf("want code InvalidArgument, got %s", got)
	}
	if !strings.HasPrefix(status.Convert(err).Message(), field+": ") {
		t.Fatalf("status message %q does not start with the field", status.Convert(err).Message())
	}
}

func TestFieldErrorStatusDetail(t *testing.T) {
	err := error(fieldErrorf("trace.tags", reasonEmpty))
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || st.Message() != "trace.tags: must not be empty" {
		t.Fatalf("unexpected status %v", st)
	}
	details := st.Details()
	if len(details) != 1 {
		t.Fatalf("want one detail, got %v", details)
	}
	br, ok := details[0].(*errdetails.BadRequest)
	if !ok || len(br.GetFieldViolations()) != 1 || br.GetFieldViolations()[0].GetField() != "trace.tags" {
		t.Fatalf("unexpected detail %v", details[0])
	}
}

func TestValidateGroup(t *testing.T) {
	stage := func(g *commonv1.Group) *commonv1.LifecycleStage { return g.ResourceOpts.Stages[0] }
	runValidationCases(t, validGroup, ValidateGroup, []validationCase[*commonv1.Group]{
		{name: "valid", mutate: func(g *commonv1.Group) *commonv1.Group { return g }},
		{name: "valid without stages", mutate: func(g *commonv1.Group) *commonv1.Group { g.ResourceOpts.Stages = nil; return g }},
		{name: "valid hour unit", mutate: func(g *commonv1.Group) *commonv1.Group {
			g.ResourceOpts.SegmentInterval.Unit = commonv1.IntervalRule_UNIT_HOUR
			return g
		}},
		{name: "property group without resource opts", mutate: func(g *commonv1.Group) *commonv1.Group {
			g.Catalog = commonv1.Catalog_CATALOG_PROPERTY
			g.ResourceOpts = nil
			return g
		}},
		{name: "nil group", mutate: func(*commonv1.Group) *commonv1.Group { return nil }, field: "group"},
		{name: "nil metadata", mutate: func(g *commonv1.Group) *commonv1.Group { g.Metadata = nil; return g }, field: "group.metadata"},
		{name: "empty name", mutate: func(g *commonv1.Group) *commonv1.Group { g.Metadata.Name = ""; return g }, field: "group.metadata.name"},
		{name: "name with slash", mutate: func(g *commonv1.Group) *commonv1.Group { g.Metadata.Name = "a/b"; return g },
			field: "group.metadata.name", reason: "must not contain"},
		{name: "unspecified catalog", mutate: func(g *commonv1.Group) *commonv1.Group {
			g.Catalog = commonv1.Catalog_CATALOG_UNSPECIFIED
			return g
		}, field: "group.catalog"},
		{name: "undefined catalog", mutate: func(g *commonv1.Group) *commonv1.Group { g.Catalog = 42; return g }, field: "group.catalog"},
		{name: "nil resource opts", mutate: func(g *commonv1.Group) *commonv1.Group { g.ResourceOpts = nil; return g }, field: "group.resource_opts"},
		{name: "zero shard num", mutate: func(g *commonv1.Group) *commonv1.Group { g.ResourceOpts.ShardNum = 0; return g },
			field: "group.resource_opts.shard_num", reason: reasonPositive},
		{name: "shard num past the bound", mutate: func(g *commonv1.Group) *commonv1.Group { g.ResourceOpts.ShardNum = MaxShardNum + 1; return g },
			field: "group.resource_opts.shard_num", reason: "at most 256"},
		{name: "shard num at the bound", mutate: func(g *commonv1.Group) *commonv1.Group { g.ResourceOpts.ShardNum = MaxShardNum; return g }},
		{name: "nil segment interval", mutate: func(g *commonv1.Group) *commonv1.Group {
			g.ResourceOpts.SegmentInterval = nil
			return g
		}, field: "group.resource_opts.segment_interval", reason: reasonRequired},
		{name: "unspecified segment unit", mutate: func(g *commonv1.Group) *commonv1.Group {
			g.ResourceOpts.SegmentInterval.Unit = commonv1.IntervalRule_UNIT_UNSPECIFIED
			return g
		}, field: "group.resource_opts.segment_interval.unit"},
		{name: "undefined segment unit", mutate: func(g *commonv1.Group) *commonv1.Group {
			g.ResourceOpts.SegmentInterval.Unit = 9
			return g
		}, field: "group.resource_opts.segment_interval.unit"},
		{name: "zero segment num", mutate: func(g *commonv1.Group) *commonv1.Group {
			g.ResourceOpts.SegmentInterval.Num = 0
			return g
		}, field: "group.resource_opts.segment_interval.num"},
		{name: "nil ttl", mutate: func(g *commonv1.Group) *commonv1.Group { g.ResourceOpts.Ttl = nil; return g },
			field: "group.resource_opts.ttl"},
		{name: "unspecified ttl unit", mutate: func(g *commonv1.Group) *commonv1.Group {
			g.ResourceOpts.Ttl.Unit = commonv1.IntervalRule_UNIT_UNSPECIFIED
			return g
		}, field: "group.resource_opts.ttl.unit"},
		{name: "zero ttl num", mutate: func(g *commonv1.Group) *commonv1.Group { g.ResourceOpts.Ttl.Num = 0; return g },
			field: "group.resource_opts.ttl.num"},
		{name: "nil stage", mutate: func(g *commonv1.Group) *commonv1.Group { g.ResourceOpts.Stages[0] = nil; return g },
			field: "group.resource_opts.stages[0]"},
		{name: "empty stage name", mutate: func(g *commonv1.Group) *commonv1.Group { stage(g).Name = ""; return g },
			field: "group.resource_opts.stages[0].name"},
		{name: "duplicate stage name", mutate: func(g *commonv1.Group) *commonv1.Group {
			dup := proto.Clone(stage(g)).(*commonv1.LifecycleStage)
			g.ResourceOpts.Stages = append(g.ResourceOpts.Stages, dup)
			return g
		}, field: "group.resource_opts.stages[1].name", reason: "already defined"},
		{name: "zero stage shard num", mutate: func(g *commonv1.Group) *commonv1.Group { stage(g).ShardNum = 0; return g },
			field: "group.resource_opts.stages[0].shard_num"},
		{name: "stage shard num past the bound", mutate: func(g *commonv1.Group) *commonv1.Group { stage(g).ShardNum = 1 << 20; return g },
			field: "group.resource_opts.stages[0].shard_num", reason: "at most"},
		{name: "nil stage segment interval", mutate: func(g *commonv1.Group) *commonv1.Group {
			stage(g).SegmentInterval = nil
			return g
		}, field: "group.resource_opts.stages[0].segment_interval"},
		{name: "zero stage segment num", mutate: func(g *commonv1.Group) *commonv1.Group {
			stage(g).SegmentInterval.Num = 0
			return g
		}, field: "group.resource_opts.stages[0].segment_interval.num"},
		{name: "nil stage ttl", mutate: func(g *commonv1.Group) *commonv1.Group { stage(g).Ttl = nil; return g },
			field: "group.resource_opts.stages[0].ttl"},
		{name: "unspecified stage ttl unit", mutate: func(g *commonv1.Group) *commonv1.Group {
			stage(g).Ttl.Unit = commonv1.IntervalRule_UNIT_UNSPECIFIED
			return g
		}, field: "group.resource_opts.stages[0].ttl.unit"},
		{name: "stage ttl unit differs from group", mutate: func(g *commonv1.Group) *commonv1.Group {
			stage(g).Ttl.Unit = commonv1.IntervalRule_UNIT_HOUR
			return g
		}, field: "group.resource_opts.stages[0].ttl.unit", reason: "must equal"},
		{name: "empty node selector", mutate: func(g *commonv1.Group) *commonv1.Group { stage(g).NodeSelector = ""; return g },
			field: "group.resource_opts.stages[0].node_selector"},
	})
}

func TestValidateGroupUpdate(t *testing.T) {
	stored := validGroup()
	updated := validGroup()
	updated.ResourceOpts.ShardNum = 4
	if err := validateGroupUpdate(stored, updated); err != nil {
		t.Fatalf("shard change must be allowed: %v", err)
	}
	updated.Catalog = commonv1.Catalog_CATALOG_STREAM
	assertFieldError(t, validateGroupUpdate(stored, updated), "group.catalog", "cannot change")
}

func TestValidateTraceGroup(t *testing.T) {
	if err := validateTraceGroup("trace.metadata.group", validGroup()); err != nil {
		t.Fatalf("trace group: %v", err)
	}
	g := validGroup()
	g.Catalog = commonv1.Catalog_CATALOG_MEASURE
	assertFieldError(t, validateTraceGroup("trace.metadata.group", g), "trace.metadata.group", "want CATALOG_TRACE")
}

func TestValidateTrace(t *testing.T) {
	tag := func(tr *databasev1.Trace, name string) *databasev1.TraceTagSpec {
		for _, s := range tr.Tags {
			if s.Name == name {
				return s
			}
		}
		panic("no tag " + name)
	}
	runValidationCases(t, validTrace, ValidateTrace, []validationCase[*databasev1.Trace]{
		{name: "valid", mutate: func(tr *databasev1.Trace) *databasev1.Trace { return tr }},
		{name: "valid with every tag type", mutate: func(tr *databasev1.Trace) *databasev1.Trace {
			tr.Tags = append(tr.Tags,
				&databasev1.TraceTagSpec{Name: "ints", Type: databasev1.TagType_TAG_TYPE_INT_ARRAY},
				&databasev1.TraceTagSpec{Name: "raw", Type: databasev1.TagType_TAG_TYPE_DATA_BINARY})
			return tr
		}},
		{name: "nil trace", mutate: func(*databasev1.Trace) *databasev1.Trace { return nil }, field: "trace"},
		{name: "nil metadata", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata = nil; return tr },
			field: "trace.metadata", reason: reasonRequired},
		{name: "empty group", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata.Group = ""; return tr },
			field: "trace.metadata.group"},
		{name: "empty name", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata.Name = ""; return tr },
			field: "trace.metadata.name"},
		{name: "group with slash", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata.Group = "a/"; return tr },
			field: "trace.metadata.group", reason: "must not contain"},
		{name: "name with slash", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata.Name = "/x"; return tr },
			field: "trace.metadata.name", reason: "must not contain"},
		{name: "no tags", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Tags = nil; return tr },
			field: "trace.tags", reason: reasonEmpty},
		{name: "nil tag", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Tags[1] = nil; return tr },
			field: "trace.tags[1]"},
		{name: "empty tag name", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Tags[1].Name = ""; return tr },
			field: "trace.tags[1].name", reason: reasonEmpty},
		{name: "tag name with hash", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Tags[1].Name = "a#b"; return tr },
			field: "trace.tags[1].name", reason: "must not contain"},
		{name: "duplicate tag name", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Tags[2].Name = "service_id"; return tr },
			field: "trace.tags[2].name", reason: "more than once"},
		{name: "unspecified tag type", mutate: func(tr *databasev1.Trace) *databasev1.Trace {
			tr.Tags[1].Type = databasev1.TagType_TAG_TYPE_UNSPECIFIED
			return tr
		}, field: "trace.tags[1].type"},
		{name: "undefined tag type", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.Tags[1].Type = 77; return tr },
			field: "trace.tags[1].type"},
		{name: "empty trace id tag name", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.TraceIdTagName = ""; return tr },
			field: "trace.trace_id_tag_name", reason: reasonEmpty},
		{name: "empty span id tag name", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.SpanIdTagName = ""; return tr },
			field: "trace.span_id_tag_name", reason: reasonEmpty},
		{name: "empty timestamp tag name", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.TimestampTagName = ""; return tr },
			field: "trace.timestamp_tag_name", reason: reasonEmpty},
		{name: "trace id tag name with hash", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.TraceIdTagName = "t#"; return tr },
			field: "trace.trace_id_tag_name", reason: "must not contain"},
		{name: "unknown trace id tag", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.TraceIdTagName = "x"; return tr },
			field: "trace.trace_id_tag_name", reason: `tag "x" is not in trace.tags`},
		{name: "unknown span id tag", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.SpanIdTagName = "x"; return tr },
			field: "trace.span_id_tag_name", reason: `tag "x" is not in trace.tags`},
		{name: "unknown timestamp tag", mutate: func(tr *databasev1.Trace) *databasev1.Trace { tr.TimestampTagName = "x"; return tr },
			field: "trace.timestamp_tag_name", reason: `tag "x" is not in trace.tags`},
		{name: "trace id tag not string", mutate: func(tr *databasev1.Trace) *databasev1.Trace {
			tag(tr, "trace_id").Type = databasev1.TagType_TAG_TYPE_DATA_BINARY
			return tr
		}, field: "trace.trace_id_tag_name", reason: "want TAG_TYPE_STRING"},
		{name: "span id tag not string", mutate: func(tr *databasev1.Trace) *databasev1.Trace {
			tag(tr, "span_id").Type = databasev1.TagType_TAG_TYPE_INT
			return tr
		}, field: "trace.span_id_tag_name", reason: "want TAG_TYPE_STRING"},
		{name: "timestamp tag not timestamp", mutate: func(tr *databasev1.Trace) *databasev1.Trace {
			tag(tr, "timestamp").Type = databasev1.TagType_TAG_TYPE_INT
			return tr
		}, field: "trace.timestamp_tag_name", reason: "want TAG_TYPE_TIMESTAMP"},
	})
}

func TestValidateIndexRule(t *testing.T) {
	runValidationCases(t, validRule, ValidateIndexRule, []validationCase[*databasev1.IndexRule]{
		{name: "valid", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule { return r }},
		{name: "valid single tag inverted", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule {
			r.Tags = []string{"duration"}
			r.Type = databasev1.IndexRule_TYPE_INVERTED
			return r
		}},
		{name: "nil rule", mutate: func(*databasev1.IndexRule) *databasev1.IndexRule { return nil }, field: "index_rule"},
		{name: "nil metadata", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Metadata = nil; return r },
			field: "index_rule.metadata"},
		{name: "empty group", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Metadata.Group = ""; return r },
			field: "index_rule.metadata.group"},
		{name: "empty name", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Metadata.Name = ""; return r },
			field: "index_rule.metadata.name"},
		{name: "name with slash", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Metadata.Name = "a/b"; return r },
			field: "index_rule.metadata.name", reason: "must not contain"},
		{name: "no tags", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Tags = nil; return r },
			field: "index_rule.tags", reason: reasonEmpty},
		{name: "empty tag", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Tags[0] = ""; return r },
			field: "index_rule.tags[0]", reason: reasonEmpty},
		{name: "tag with hash", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Tags[1] = "a#"; return r },
			field: "index_rule.tags[1]", reason: "must not contain"},
		{name: "duplicate tag", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule {
			r.Tags = []string{"service_id", "duration", "service_id"}
			return r
		}, field: "index_rule.tags[2]", reason: "already listed at tags[0]"},
		{name: "unspecified type", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule {
			r.Type = databasev1.IndexRule_TYPE_UNSPECIFIED
			return r
		}, field: "index_rule.type"},
		{name: "undefined type", mutate: func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Type = 12; return r },
			field: "index_rule.type"},
	})
}

func TestMatchRuleToTrace(t *testing.T) {
	cases := []struct {
		name   string
		tags   []string
		bad    int // -1: fits
		reason string
	}{
		{name: "int sort key", tags: []string{"service_id", "duration"}, bad: -1},
		{name: "timestamp sort key", tags: []string{"service_id", "timestamp"}, bad: -1},
		{name: "sort key only", tags: []string{"duration"}, bad: -1},
		{name: "unknown entity tag", tags: []string{"nope", "duration"}, bad: 0, reason: `tag "nope" is not in trace "sw"`},
		{name: "unknown sort tag", tags: []string{"service_id", "nope"}, bad: 1, reason: `tag "nope" is not in trace "sw"`},
		{name: "string sort key", tags: []string{"duration", "service_id"}, bad: 1, reason: "want TAG_TYPE_INT or TAG_TYPE_TIMESTAMP"},
		{name: "array sort key", tags: []string{"tags"}, bad: 0, reason: "TAG_TYPE_STRING_ARRAY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := validRule()
			r.Tags = tc.tags
			m := matchRuleToTrace(r, validTrace())
			if tc.bad < 0 {
				if m != nil {
					t.Fatalf("want a fit, got %+v", m)
				}
				return
			}
			if m == nil || m.tag != tc.bad || !strings.Contains(m.reason, tc.reason) {
				t.Fatalf("want mismatch at %d containing %q, got %+v", tc.bad, tc.reason, m)
			}
		})
	}
}

func TestValidateIndexRuleBinding(t *testing.T) {
	runValidationCases(t, validBinding, ValidateIndexRuleBinding, []validationCase[*databasev1.IndexRuleBinding]{
		{name: "valid", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { return b }},
		{name: "nil binding", mutate: func(*databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { return nil },
			field: "index_rule_binding"},
		{name: "nil metadata", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Metadata = nil; return b },
			field: "index_rule_binding.metadata"},
		{name: "empty group", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Metadata.Group = ""; return b },
			field: "index_rule_binding.metadata.group"},
		{name: "empty name", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Metadata.Name = ""; return b },
			field: "index_rule_binding.metadata.name"},
		{name: "group with slash", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Metadata.Group = "g/h"
			return b
		}, field: "index_rule_binding.metadata.group", reason: "must not contain"},
		{name: "no rules", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Rules = nil; return b },
			field: "index_rule_binding.rules", reason: reasonEmpty},
		{name: "empty rule name", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Rules[1] = ""; return b },
			field: "index_rule_binding.rules[1]", reason: reasonEmpty},
		{name: "duplicate rule", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Rules[1] = b.Rules[0]
			return b
		}, field: "index_rule_binding.rules[1]", reason: "already listed"},
		{name: "nil subject", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Subject = nil; return b },
			field: "index_rule_binding.subject", reason: reasonRequired},
		{name: "unspecified subject catalog", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Subject.Catalog = commonv1.Catalog_CATALOG_UNSPECIFIED
			return b
		}, field: "index_rule_binding.subject.catalog", reason: "must be specified"},
		{name: "stream subject catalog", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Subject.Catalog = commonv1.Catalog_CATALOG_STREAM
			return b
		}, field: "index_rule_binding.subject.catalog", reason: "must be CATALOG_TRACE"},
		{name: "empty subject name", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Subject.Name = ""
			return b
		}, field: "index_rule_binding.subject.name"},
		{name: "nil begin at", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.BeginAt = nil; return b },
			field: "index_rule_binding.begin_at", reason: reasonRequired},
		{name: "invalid begin at", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.BeginAt = &timestamppb.Timestamp{Seconds: 1, Nanos: -5}
			return b
		}, field: "index_rule_binding.begin_at", reason: "invalid timestamp"},
		{name: "nil expire at", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.ExpireAt = nil; return b },
			field: "index_rule_binding.expire_at", reason: reasonRequired},
		{name: "invalid expire at", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.ExpireAt = &timestamppb.Timestamp{Seconds: 1 << 40}
			return b
		}, field: "index_rule_binding.expire_at", reason: "invalid timestamp"},
		{name: "expire equals begin", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.ExpireAt = b.BeginAt
			return b
		}, field: "index_rule_binding.expire_at", reason: "must be after begin_at"},
		{name: "expire before begin", mutate: func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.BeginAt, b.ExpireAt = b.ExpireAt, b.BeginAt
			return b
		}, field: "index_rule_binding.expire_at", reason: "must be after begin_at"},
	})
}

func TestValidateBindingReferences(t *testing.T) {
	durationRule := validRule()
	timestampRule := validRule()
	timestampRule.Metadata.Name = "timestamp"
	timestampRule.Tags = []string{"service_id", "timestamp"}
	badRule := validRule()
	badRule.Metadata.Name = "timestamp"
	badRule.Tags = []string{"service_id", "missing"}

	if err := validateBindingReferences(validBinding(), validTrace(), []*databasev1.IndexRule{durationRule, timestampRule}); err != nil {
		t.Fatalf("want valid, got %v", err)
	}
	err := validateBindingReferences(validBinding(), validTrace(), []*databasev1.IndexRule{durationRule, badRule})
	assertFieldError(t, err, "index_rule_binding.rules[1]", `index rule "timestamp": tag "missing" is not in trace "sw"`)
}
