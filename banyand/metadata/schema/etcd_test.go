// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

func TestGroupCRUD(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)

	rev := must(reg.CreateGroup(ctx, traceGroup("g1")))(t)
	if rev <= 0 {
		t.Fatalf("create revision %d", rev)
	}
	if _, err := reg.CreateGroup(ctx, traceGroup("g1")); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
	got := must(reg.GetGroup(ctx, "g1"))(t)
	if got.Metadata.CreateRevision != rev || got.Metadata.ModRevision != rev {
		t.Fatalf("revisions %d/%d, want %d", got.Metadata.CreateRevision, got.Metadata.ModRevision, rev)
	}
	if got.CreatedAt == nil || got.UpdatedAt == nil {
		t.Fatalf("timestamps not set: %v", got)
	}
	if got.ResourceOpts.GetShardNum() != 2 || got.Catalog != commonv1.Catalog_CATALOG_TRACE {
		t.Fatalf("stored group differs: %v", got)
	}

	// A stale mod_revision is refused, the current one accepted.
	upd := traceGroup("g1")
	upd.ResourceOpts.ShardNum = 4
	upd.Metadata.ModRevision = rev - 1
	if _, err := reg.UpdateGroup(ctx, upd); !errors.Is(err, ErrConcurrentModification) {
		t.Fatalf("stale update: %v, want ErrConcurrentModification", err)
	}
	upd.Metadata.ModRevision = rev
	time.Sleep(5 * time.Millisecond) // so that updated_at moves
	rev2 := must(reg.UpdateGroup(ctx, upd))(t)
	if rev2 <= rev {
		t.Fatalf("update revision %d after %d", rev2, rev)
	}
	got2 := must(reg.GetGroup(ctx, "g1"))(t)
	if got2.Metadata.CreateRevision != rev || got2.Metadata.ModRevision != rev2 {
		t.Fatalf("revisions after update %d/%d, want %d/%d", got2.Metadata.CreateRevision, got2.Metadata.ModRevision, rev, rev2)
	}
	if !proto.Equal(got2.CreatedAt, got.CreatedAt) {
		t.Fatalf("created_at changed: %v -> %v", got.CreatedAt, got2.CreatedAt)
	}
	if !got2.UpdatedAt.AsTime().After(got.UpdatedAt.AsTime()) {
		t.Fatalf("updated_at did not move: %v -> %v", got.UpdatedAt, got2.UpdatedAt)
	}
	if got2.ResourceOpts.ShardNum != 4 {
		t.Fatalf("update not stored: %v", got2)
	}
	// Update without a revision succeeds on whatever is stored.
	upd.Metadata.ModRevision = 0
	must(reg.UpdateGroup(ctx, upd))(t)

	if _, err := reg.UpdateGroup(ctx, traceGroup("missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v, want ErrNotFound", err)
	}
	if _, err := reg.GetGroup(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}
	if _, err := reg.DeleteGroup(ctx, "missing"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("delete missing: %v, want ErrNotFound naming the group", err)
	}

	must(reg.CreateGroup(ctx, traceGroup("g0")))(t)
	list := must(reg.ListGroup(ctx))(t)
	if len(list) != 2 || list[0].Metadata.Name != "g0" || list[1].Metadata.Name != "g1" {
		t.Fatalf("list: %v", list)
	}
	for _, g := range list {
		if g.Metadata.ModRevision == 0 || g.Metadata.CreateRevision == 0 {
			t.Fatalf("list without revisions: %v", g)
		}
	}
	if ok := must(reg.DeleteGroup(ctx, "g1"))(t); !ok {
		t.Fatal("delete returned false")
	}
	if _, err := reg.GetGroup(ctx, "g1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestBadRequests(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	cases := map[string]error{}
	_, cases["nil group"] = reg.CreateGroup(ctx, nil)
	_, cases["no metadata"] = reg.CreateGroup(ctx, &commonv1.Group{})
	_, cases["empty name"] = reg.CreateGroup(ctx, traceGroup(""))
	_, cases["slash in name"] = reg.CreateGroup(ctx, traceGroup("a/b"))
	_, cases["trace without group"] = reg.CreateTrace(ctx, traceSchema("", "t"))
	_, cases["list rules without group"] = reg.ListIndexRule(ctx, ListOpt{})
	_, cases["list bindings without group"] = reg.ListIndexRuleBinding(ctx, ListOpt{})
	cases["node ttl"] = reg.RegisterNode(ctx, &databasev1.Node{Metadata: &commonv1.Metadata{Name: "n"}}, 0)
	for name, err := range cases {
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", name, err)
		}
	}
	if _, err := reg.ListIndexRule(ctx, ListOpt{}); !strings.Contains(err.Error(), "group should not be empty") {
		t.Errorf("list rules without group: %v", err)
	}
}

func TestTraceCRUD(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)

	_, err := reg.CreateTrace(ctx, traceSchema("nogroup", "sw"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nogroup"`) {
		t.Fatalf("create in missing group: %v, want ErrNotFound naming the group", err)
	}
	if _, err = reg.UpdateTrace(ctx, traceSchema("nogroup", "sw")); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nogroup"`) {
		t.Fatalf("update in missing group: %v, want ErrNotFound naming the group", err)
	}
	must(reg.CreateGroup(ctx, traceGroup("g1")))(t)
	must(reg.CreateGroup(ctx, traceGroup("g2")))(t)

	rev := must(reg.CreateTrace(ctx, traceSchema("g1", "sw")))(t)
	if _, err = reg.CreateTrace(ctx, traceSchema("g1", "sw")); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	got := must(reg.GetTrace(ctx, &commonv1.Metadata{Group: "g1", Name: "sw"}))(t)
	if got.Metadata.ModRevision != rev || got.Metadata.CreateRevision != rev || len(got.Tags) != 3 {
		t.Fatalf("get: %v", got)
	}

	// Sending back what Get returned (timestamps and revisions included) changes nothing.
	if r := must(reg.UpdateTrace(ctx, got))(t); r != 0 {
		t.Fatalf("no-op update returned %d", r)
	}
	same := traceSchema("g1", "sw")
	same.Metadata.Id = 7
	if r := must(reg.UpdateTrace(ctx, same))(t); r != 0 {
		t.Fatalf("no-op update (other id) returned %d", r)
	}
	if after := must(reg.GetTrace(ctx, got.Metadata))(t); after.Metadata.ModRevision != rev {
		t.Fatalf("no-op update wrote: mod revision %d, want %d", after.Metadata.ModRevision, rev)
	}

	changed := traceSchema("g1", "sw")
	changed.Tags = append(changed.Tags, &databasev1.TraceTagSpec{Name: "duration", Type: databasev1.TagType_TAG_TYPE_INT})
	changed.Metadata.ModRevision = rev
	rev2 := must(reg.UpdateTrace(ctx, changed))(t)
	if rev2 <= rev {
		t.Fatalf("update revision %d", rev2)
	}
	if _, err = reg.UpdateTrace(ctx, changed); !errors.Is(err, ErrConcurrentModification) {
		t.Fatalf("update with stale revision: %v", err)
	}
	if _, err = reg.UpdateTrace(ctx, traceSchema("g1", "missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}

	must(reg.CreateTrace(ctx, traceSchema("g2", "zipkin")))(t)
	must(reg.CreateTrace(ctx, traceSchema("g1", "a")))(t)
	if l := must(reg.ListTrace(ctx, ListOpt{Group: "g1"}))(t); len(l) != 2 || l[0].Metadata.Name != "a" || l[1].Metadata.Name != "sw" {
		t.Fatalf("list g1: %v", l)
	}
	all := must(reg.ListTrace(ctx, ListOpt{}))(t)
	if len(all) != 3 {
		t.Fatalf("list all: %v", all)
	}
	if l := must(reg.ListTrace(ctx, ListOpt{Group: "none"}))(t); len(l) != 0 {
		t.Fatalf("list of a missing group: %v", l)
	}

	if ok := must(reg.DeleteTrace(ctx, &commonv1.Metadata{Group: "g1", Name: "sw"}))(t); !ok {
		t.Fatal("delete returned false")
	}
	if ok := must(reg.DeleteTrace(ctx, &commonv1.Metadata{Group: "g1", Name: "sw"}))(t); ok {
		t.Fatal("second delete returned true")
	}
	if _, err = reg.GetTrace(ctx, &commonv1.Metadata{Group: "g1", Name: "sw"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestIndexRuleID(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	must(reg.CreateGroup(ctx, traceGroup("g")))(t)

	if _, err := reg.CreateIndexRule(ctx, indexRule("nogroup", "r")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("create in missing group: %v", err)
	}
	rule := indexRule("g", "duration")
	must(reg.CreateIndexRule(ctx, rule))(t)
	if rule.Metadata.Id != 0 {
		t.Fatal("create modified the caller's message")
	}
	want := crc32.ChecksumIEEE([]byte("gduration"))
	if want != IndexRuleID("g", "duration") {
		t.Fatal("IndexRuleID is not CRC32-IEEE of group ++ name")
	}
	got := must(reg.GetIndexRule(ctx, rule.Metadata))(t)
	if got.Metadata.Id != want {
		t.Fatalf("id %d, want %d", got.Metadata.Id, want)
	}
	if _, err := reg.CreateIndexRule(ctx, indexRule("g", "duration")); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}

	upd := indexRule("g", "duration")
	upd.Tags = []string{"service_id", "duration"}
	rev := must(reg.UpdateIndexRule(ctx, upd))(t)
	got = must(reg.GetIndexRule(ctx, upd.Metadata))(t)
	if got.Metadata.Id != want || got.Metadata.ModRevision != rev || len(got.Tags) != 2 {
		t.Fatalf("after update with id 0: %v", got)
	}
	if _, err := reg.UpdateIndexRule(ctx, indexRule("g", "missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}

	explicit := indexRule("g", "explicit")
	explicit.Metadata.Id = 42
	must(reg.CreateIndexRule(ctx, explicit))(t)
	if got = must(reg.GetIndexRule(ctx, explicit.Metadata))(t); got.Metadata.Id != 42 {
		t.Fatalf("explicit id %d", got.Metadata.Id)
	}
	if l := must(reg.ListIndexRule(ctx, ListOpt{Group: "g"}))(t); len(l) != 2 {
		t.Fatalf("list: %v", l)
	}
	if ok := must(reg.DeleteIndexRule(ctx, explicit.Metadata))(t); !ok {
		t.Fatal("delete returned false")
	}
	if ok := must(reg.DeleteIndexRule(ctx, explicit.Metadata))(t); ok {
		t.Fatal("second delete returned true")
	}
}

func TestIndexRuleBindingCRUD(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	if _, err := reg.CreateIndexRuleBinding(ctx, binding("g", "b", "sw")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("create in missing group: %v", err)
	}
	must(reg.CreateGroup(ctx, traceGroup("g")))(t)
	rev := must(reg.CreateIndexRuleBinding(ctx, binding("g", "b", "sw")))(t)
	if _, err := reg.CreateIndexRuleBinding(ctx, binding("g", "b", "sw")); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	upd := binding("g", "b", "sw")
	upd.Rules = []string{"duration", "timestamp"}
	upd.Metadata.ModRevision = rev
	rev2 := must(reg.UpdateIndexRuleBinding(ctx, upd))(t)
	if _, err := reg.UpdateIndexRuleBinding(ctx, upd); !errors.Is(err, ErrConcurrentModification) {
		t.Fatalf("stale update: %v", err)
	}
	got := must(reg.GetIndexRuleBinding(ctx, upd.Metadata))(t)
	if got.Metadata.ModRevision != rev2 || got.Metadata.CreateRevision != rev || len(got.Rules) != 2 {
		t.Fatalf("get: %v", got)
	}
	if l := must(reg.ListIndexRuleBinding(ctx, ListOpt{Group: "g"}))(t); len(l) != 1 {
		t.Fatalf("list: %v", l)
	}
	if ok := must(reg.DeleteIndexRuleBinding(ctx, upd.Metadata))(t); !ok {
		t.Fatal("delete returned false")
	}
	if ok := must(reg.DeleteIndexRuleBinding(ctx, upd.Metadata))(t); ok {
		t.Fatal("second delete returned true")
	}
	if _, err := reg.UpdateIndexRuleBinding(ctx, binding("g", "b", "sw")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update deleted: %v", err)
	}
}

func TestDeleteGroupCascades(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	for _, g := range []string{"g1", "g10", "g2"} {
		must(reg.CreateGroup(ctx, traceGroup(g)))(t)
		must(reg.CreateTrace(ctx, traceSchema(g, "sw")))(t)
		must(reg.CreateIndexRule(ctx, indexRule(g, "timestamp")))(t)
		must(reg.CreateIndexRuleBinding(ctx, binding(g, "b", "sw")))(t)
	}
	rec := &recorder{}
	reg.RegisterHandler("cascade", []Kind{KindGroup, KindTrace, KindIndexRule, KindIndexRuleBinding}, rec)
	replayed := len(rec.waitFor(t, 12))

	if ok := must(reg.DeleteGroup(ctx, "g1"))(t); !ok {
		t.Fatal("delete returned false")
	}
	md := &commonv1.Metadata{Group: "g1", Name: "sw"}
	if _, err := reg.GetTrace(ctx, md); !errors.Is(err, ErrNotFound) {
		t.Fatalf("trace of deleted group: %v", err)
	}
	if _, err := reg.GetIndexRule(ctx, &commonv1.Metadata{Group: "g1", Name: "timestamp"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rule of deleted group: %v", err)
	}
	if _, err := reg.GetIndexRuleBinding(ctx, &commonv1.Metadata{Group: "g1", Name: "b"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("binding of deleted group: %v", err)
	}
	// The group "g10" shares the prefix "g1" but is not part of it.
	for _, g := range []string{"g10", "g2"} {
		must(reg.GetGroup(ctx, g))(t)
		must(reg.GetTrace(ctx, &commonv1.Metadata{Group: g, Name: "sw"}))(t)
		must(reg.GetIndexRule(ctx, &commonv1.Metadata{Group: g, Name: "timestamp"}))(t)
		must(reg.GetIndexRuleBinding(ctx, &commonv1.Metadata{Group: g, Name: "b"}))(t)
	}

	// One transaction: one revision, contents deleted before the group, last values attached.
	events := rec.waitFor(t, replayed+4)[replayed:]
	want := []string{"del index-rule-bindings g1/b", "del index-rules g1/timestamp", "del traces g1/sw", "del groups g1"}
	if got := names(events); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("delete events %v, want %v", got, want)
	}
	if tr := events[2].spec.(*databasev1.Trace); len(tr.Tags) != 3 || tr.Metadata.CreateRevision == 0 {
		t.Fatalf("deleted trace lacks its last value: %v", tr)
	}
}

func TestFixtures(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	groups := testenv.LoadFixtures(t, "schema/groups", func() *commonv1.Group { return &commonv1.Group{} })
	traces := testenv.LoadFixtures(t, "schema/traces", func() *databasev1.Trace { return &databasev1.Trace{} })
	rules := testenv.LoadFixtures(t, "schema/index_rules", func() *databasev1.IndexRule { return &databasev1.IndexRule{} })
	bindings := testenv.LoadFixtures(t, "schema/index_rule_bindings", func() *databasev1.IndexRuleBinding { return &databasev1.IndexRuleBinding{} })
	for _, g := range groups {
		must(reg.CreateGroup(ctx, g))(t)
	}
	for _, tr := range traces {
		must(reg.CreateTrace(ctx, tr))(t)
	}
	for _, r := range rules {
		must(reg.CreateIndexRule(ctx, r))(t)
	}
	for _, b := range bindings {
		must(reg.CreateIndexRuleBinding(ctx, b))(t)
	}
	// Loading twice only meets AlreadyExists, as a preloading harness expects.
	for _, g := range groups {
		if _, err := reg.CreateGroup(ctx, g); !errors.Is(err, ErrAlreadyExists) {
			t.Fatalf("reload group: %v", err)
		}
	}
	if l := must(reg.ListGroup(ctx))(t); len(l) != len(groups) {
		t.Fatalf("groups: %d, want %d", len(l), len(groups))
	}
	if l := must(reg.ListTrace(ctx, ListOpt{}))(t); len(l) != len(traces) {
		t.Fatalf("traces: %d, want %d", len(l), len(traces))
	}
	sw := must(reg.GetTrace(ctx, &commonv1.Metadata{Group: "test-trace-group", Name: "sw"}))(t)
	if len(sw.Tags) != 8 || sw.TraceIdTagName != "trace_id" || sw.SpanIdTagName != "span_id" || sw.TimestampTagName != "timestamp" {
		t.Fatalf("sw: %v", sw)
	}
	updated := must(reg.GetTrace(ctx, &commonv1.Metadata{Group: "test-trace-updated", Name: "sw"}))(t)
	if len(updated.Tags) != 9 {
		t.Fatalf("sw in test-trace-updated: %d tags", len(updated.Tags))
	}
	rule := must(reg.GetIndexRule(ctx, &commonv1.Metadata{Group: "test-trace-group", Name: "duration"}))(t)
	if rule.Metadata.Id != IndexRuleID("test-trace-group", "duration") || rule.Type != databasev1.IndexRule_TYPE_TREE {
		t.Fatalf("duration rule: %v", rule)
	}
	total := 0
	for _, g := range groups {
		total += len(must(reg.ListIndexRuleBinding(ctx, ListOpt{Group: g.Metadata.Name}))(t))
	}
	if total != len(bindings) {
		t.Fatalf("bindings: %d, want %d", total, len(bindings))
	}
}

func TestCloseTwiceAndAfterClose(t *testing.T) {
	reg := newTestRegistry(t)
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	ctx := testCtx(t)
	if _, err := reg.CreateGroup(ctx, traceGroup("g")); !errors.Is(err, ErrClosed) {
		t.Fatalf("create after close: %v", err)
	}
	if _, err := reg.ListGroup(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("list after close: %v", err)
	}
	// Registering a handler on a closed registry returns at once.
	done := make(chan struct{})
	go func() {
		reg.RegisterHandler("late", []Kind{KindGroup}, &recorder{})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RegisterHandler blocked on a closed registry")
	}
}

func TestUnreachableEtcd(t *testing.T) {
	url, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = NewEtcdRegistry(EtcdOptions{Endpoints: []string{url}, DialTimeout: 500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), url) {
		t.Fatalf("error %v does not name %s", err, url)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
}

// A resource whose group is gone (written around the registry) cannot be updated.
func TestUpdateOrphanFailsOnGroup(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	data, err := proto.Marshal(traceSchema("ghost", "sw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err = reg.client.Put(ctx, reg.keys.groupPrefix(KindTrace, "ghost")+"sw", string(data)); err != nil {
		t.Fatal(err)
	}
	must(reg.GetTrace(ctx, &commonv1.Metadata{Group: "ghost", Name: "sw"}))(t)
	changed := traceSchema("ghost", "sw")
	changed.TraceIdTagName = "span_id"
	if _, err = reg.UpdateTrace(ctx, changed); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `group "ghost"`) {
		t.Fatalf("update of an orphan: %v", err)
	}
}
