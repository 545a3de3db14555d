// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package metarepo

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

// recorder is an EventHandler that writes down each event as "op kind group/name".
type recorder struct{ events []string }

func (r *recorder) record(op string, m schema.Metadata) {
	md := m.Spec.(hasMetadata).GetMetadata()
	r.events = append(r.events, fmt.Sprintf("%s %s %s", op, m.Kind, keyOf(md)))
}

func (r *recorder) OnAddOrUpdate(m schema.Metadata) { r.record("add", m) }
func (r *recorder) OnDelete(m schema.Metadata)      { r.record("del", m) }

func TestMemoryReplaysAndNotifies(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	group := testenv.LoadFixture(t, "schema/groups/test-trace-group.json", &commonv1.Group{})
	trace := testenv.LoadFixture(t, "schema/traces/sw.json", &databasev1.Trace{})
	rule := testenv.LoadFixture(t, "schema/index_rules/duration.json", &databasev1.IndexRule{})
	binding := testenv.LoadFixture(t, "schema/index_rule_bindings/sw.json", &databasev1.IndexRuleBinding{})
	for _, spec := range []func() (int64, error){
		func() (int64, error) { return m.CreateTrace(ctx, trace) },
		func() (int64, error) { return m.CreateIndexRule(ctx, rule) },
		func() (int64, error) { return m.CreateIndexRuleBinding(ctx, binding) },
		func() (int64, error) { return m.CreateGroup(ctx, group) },
	} {
		if _, err := spec(); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{}
	m.RegisterHandler("test", []schema.Kind{schema.KindGroup, schema.KindTrace, schema.KindIndexRule, schema.KindIndexRuleBinding}, rec)
	want := []string{
		"add groups /test-trace-group",
		"add index-rule-bindings test-trace-group/sw-index-rule-binding",
		"add index-rules test-trace-group/duration",
		"add traces test-trace-group/sw",
	}
	if !reflect.DeepEqual(rec.events, want) {
		t.Fatalf("replay %v, want %v", rec.events, want)
	}
	if m.HandlerCount() != 1 {
		t.Fatalf("HandlerCount = %d", m.HandlerCount())
	}

	if _, err := m.CreateTrace(ctx, trace); !errors.Is(err, schema.ErrAlreadyExists) {
		t.Fatalf("second CreateTrace: %v, want ErrAlreadyExists", err)
	}
	missing := &databasev1.Trace{Metadata: &commonv1.Metadata{Group: "test-trace-group", Name: "nope"}}
	if _, err := m.UpdateTrace(ctx, missing); !errors.Is(err, schema.ErrNotFound) {
		t.Fatalf("UpdateTrace of a missing trace: %v, want ErrNotFound", err)
	}
	before, err := m.GetTrace(ctx, trace.GetMetadata())
	if err != nil {
		t.Fatal(err)
	}
	before.Tags = nil // a copy: the stored trace keeps its tags
	rev, err := m.UpdateTrace(ctx, trace)
	if err != nil {
		t.Fatal(err)
	}
	after, err := m.GetTrace(ctx, trace.GetMetadata())
	if err != nil {
		t.Fatal(err)
	}
	if len(after.GetTags()) == 0 || after.GetMetadata().GetModRevision() != rev ||
		after.GetMetadata().GetCreateRevision() != before.GetMetadata().GetCreateRevision() || rev <= before.GetMetadata().GetModRevision() {
		t.Fatalf("after update: %v (update revision %d, before %v)", after.GetMetadata(), rev, before.GetMetadata())
	}
	gotRule, err := m.GetIndexRule(ctx, rule.GetMetadata())
	if err != nil || gotRule.GetMetadata().GetId() != schema.IndexRuleID("test-trace-group", "duration") {
		t.Fatalf("rule %v, %v: want the registry's id", gotRule.GetMetadata(), err)
	}

	rec.events = nil
	if ok, err := m.DeleteGroup(ctx, "test-trace-group"); !ok || err != nil {
		t.Fatalf("DeleteGroup = %v, %v", ok, err)
	}
	want = []string{
		"del traces test-trace-group/sw",
		"del index-rule-bindings test-trace-group/sw-index-rule-binding",
		"del index-rules test-trace-group/duration",
		"del groups /test-trace-group",
	}
	if !reflect.DeepEqual(rec.events, want) {
		t.Fatalf("delete events %v, want %v", rec.events, want)
	}
	if _, err = m.DeleteGroup(ctx, "test-trace-group"); !errors.Is(err, schema.ErrNotFound) {
		t.Fatalf("DeleteGroup of a missing group: %v, want ErrNotFound", err)
	}
	if ok, err := m.DeleteTrace(ctx, trace.GetMetadata()); ok || err != nil {
		t.Fatalf("DeleteTrace of a missing trace = %v, %v; want false, nil", ok, err)
	}
	if traces, _ := m.ListTrace(ctx, schema.ListOpt{}); len(traces) != 0 {
		t.Fatalf("traces left: %v", traces)
	}
}

func TestMemoryListsByGroupAndRole(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	for _, g := range []string{"b", "a"} {
		for _, n := range []string{"y", "x"} {
			m.Put(&databasev1.IndexRule{Metadata: &commonv1.Metadata{Group: g, Name: n}})
		}
	}
	rules, err := m.ListIndexRule(ctx, schema.ListOpt{Group: "b"})
	if err != nil || len(rules) != 2 || rules[0].GetMetadata().GetName() != "x" || rules[1].GetMetadata().GetName() != "y" {
		t.Fatalf("rules of b: %v, %v", rules, err)
	}
	if all, _ := m.ListIndexRule(ctx, schema.ListOpt{}); len(all) != 4 || all[0].GetMetadata().GetGroup() != "a" {
		t.Fatalf("all rules: %v", all)
	}
	for name, role := range map[string]databasev1.Role{"d1": databasev1.Role_ROLE_DATA, "l1": databasev1.Role_ROLE_LIAISON} {
		if err = m.RegisterNode(ctx, &databasev1.Node{Metadata: &commonv1.Metadata{Name: name}, Roles: []databasev1.Role{role}}, 0); err != nil {
			t.Fatal(err)
		}
	}
	data, err := m.ListNode(ctx, databasev1.Role_ROLE_DATA)
	if err != nil || len(data) != 1 || data[0].GetMetadata().GetName() != "d1" {
		t.Fatalf("data nodes: %v, %v", data, err)
	}
	if all, _ := m.ListNode(ctx, databasev1.Role_ROLE_UNSPECIFIED); len(all) != 2 {
		t.Fatalf("all nodes: %v", all)
	}
}

func TestMemorySendsEventsWithoutStoringThem(t *testing.T) {
	m := NewMemory()
	groups, traces := &recorder{}, &recorder{}
	m.RegisterHandler("groups", []schema.Kind{schema.KindGroup}, groups)
	m.RegisterHandler("traces", []schema.Kind{schema.KindTrace, schema.KindIndexRule}, traces)
	want := []Registration{
		{Name: "groups", Kinds: []schema.Kind{schema.KindGroup}},
		{Name: "traces", Kinds: []schema.Kind{schema.KindTrace, schema.KindIndexRule}},
	}
	if got := m.Registrations(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Registrations = %v, want %v", got, want)
	}
	tr := &databasev1.Trace{Metadata: &commonv1.Metadata{Group: "g", Name: "t", ModRevision: 7}}
	m.Send(schema.Metadata{Kind: schema.KindTrace, Spec: tr}, false)
	m.Send(schema.Metadata{Kind: schema.KindTrace, Spec: tr}, true)
	m.Send(schema.Metadata{Kind: schema.KindTrace, Spec: tr}, true)
	if wantEvents := []string{"add traces g/t", "del traces g/t", "del traces g/t"}; !reflect.DeepEqual(traces.events, wantEvents) {
		t.Fatalf("trace events %v, want %v", traces.events, wantEvents)
	}
	if len(groups.events) != 0 {
		t.Fatalf("a group handler got trace events: %v", groups.events)
	}
	if _, err := m.GetTrace(context.Background(), tr.GetMetadata()); !errors.Is(err, schema.ErrNotFound) {
		t.Fatalf("GetTrace after Send: %v, want ErrNotFound (Send stores nothing)", err)
	}
	if tr.GetMetadata().GetModRevision() != 7 {
		t.Fatalf("Send changed the spec's revision to %d", tr.GetMetadata().GetModRevision())
	}
}
