// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
)

func wantCode(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("want a status error with code %s, got %v", code, err)
	}
	if st.Code() != code {
		t.Fatalf("want code %s, got %s: %s", code, st.Code(), st.Message())
	}
	if !strings.Contains(st.Message(), msg) {
		t.Fatalf("want message containing %q, got %q", msg, st.Message())
	}
}

// serverOwned drops what the server fills in, so that stored resources compare with fixtures.
var serverOwned = []cmp.Option{
	protocmp.Transform(),
	protocmp.IgnoreFields(&commonv1.Metadata{}, "create_revision", "mod_revision", "id"),
	protocmp.IgnoreFields(&commonv1.Group{}, "updated_at", "created_at"),
	protocmp.IgnoreFields(&databasev1.Trace{}, "updated_at", "created_at"),
	protocmp.IgnoreFields(&databasev1.IndexRule{}, "updated_at", "created_at"),
	protocmp.IgnoreFields(&databasev1.IndexRuleBinding{}, "updated_at", "created_at"),
}

func TestFixturesRoundTrip(t *testing.T) {
	env := newTestEnv(t, nil)
	fx := readFixtures(t)
	env.preload(t, fx)
	ctx := testContext(t)

	for _, g := range fx.groups {
		resp, err := env.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: g.GetMetadata().GetName()})
		if err != nil {
			t.Fatalf("get group: %v", err)
		}
		if diff := cmp.Diff(g, resp.GetGroup(), serverOwned...); diff != "" {
			t.Errorf("group %s (-fixture +stored):\n%s", g.GetMetadata().GetName(), diff)
		}
		if resp.GetGroup().GetMetadata().GetModRevision() == 0 || resp.GetGroup().GetMetadata().GetCreateRevision() == 0 {
			t.Errorf("group %s: revisions not filled: %v", g.GetMetadata().GetName(), resp.GetGroup().GetMetadata())
		}
	}
	for _, tr := range fx.traces {
		resp, err := env.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: tr.GetMetadata()})
		if err != nil {
			t.Fatalf("get trace: %v", err)
		}
		if diff := cmp.Diff(tr, resp.GetTrace(), serverOwned...); diff != "" {
			t.Errorf("trace %s (-fixture +stored):\n%s", tr.GetMetadata(), diff)
		}
	}
	for _, r := range fx.rules {
		resp, err := env.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{Metadata: r.GetMetadata()})
		if err != nil {
			t.Fatalf("get index rule: %v", err)
		}
		if diff := cmp.Diff(r, resp.GetIndexRule(), serverOwned...); diff != "" {
			t.Errorf("index rule %s (-fixture +stored):\n%s", r.GetMetadata(), diff)
		}
		if want := schema.IndexRuleID(r.GetMetadata().GetGroup(), r.GetMetadata().GetName()); resp.GetIndexRule().GetMetadata().GetId() != want {
			t.Errorf("index rule %s: id %d, want %d", r.GetMetadata(), resp.GetIndexRule().GetMetadata().GetId(), want)
		}
	}
	for _, b := range fx.bindings {
		resp, err := env.bindings.Get(ctx, &databasev1.IndexRuleBindingRegistryServiceGetRequest{Metadata: b.GetMetadata()})
		if err != nil {
			t.Fatalf("get binding: %v", err)
		}
		if diff := cmp.Diff(b, resp.GetIndexRuleBinding(), serverOwned...); diff != "" {
			t.Errorf("binding %s (-fixture +stored):\n%s", b.GetMetadata(), diff)
		}
	}

	groups, err := env.groups.List(ctx, &databasev1.GroupRegistryServiceListRequest{})
	if err != nil || len(groups.GetGroup()) != len(fx.groups) {
		t.Fatalf("list groups: %d groups, err %v", len(groups.GetGroup()), err)
	}
	allTraces, err := env.traces.List(ctx, &databasev1.TraceRegistryServiceListRequest{})
	if err != nil || len(allTraces.GetTrace()) != len(fx.traces) {
		t.Fatalf("list every trace: %d traces, err %v", len(allTraces.GetTrace()), err)
	}
	perGroup := func(group string) (traces, rules, bindings int) {
		for _, tr := range fx.traces {
			if tr.GetMetadata().GetGroup() == group {
				traces++
			}
		}
		for _, r := range fx.rules {
			if r.GetMetadata().GetGroup() == group {
				rules++
			}
		}
		for _, b := range fx.bindings {
			if b.GetMetadata().GetGroup() == group {
				bindings++
			}
		}
		return traces, rules, bindings
	}
	for _, g := range fx.groups {
		name := g.GetMetadata().GetName()
		wantTraces, wantRules, wantBindings := perGroup(name)
		tl, err := env.traces.List(ctx, &databasev1.TraceRegistryServiceListRequest{Group: name})
		if err != nil || len(tl.GetTrace()) != wantTraces {
			t.Errorf("list traces of %s: %d, want %d, err %v", name, len(tl.GetTrace()), wantTraces, err)
		}
		rl, err := env.rules.List(ctx, &databasev1.IndexRuleRegistryServiceListRequest{Group: name})
		if err != nil || len(rl.GetIndexRule()) != wantRules {
			t.Errorf("list rules of %s: %d, want %d, err %v", name, len(rl.GetIndexRule()), wantRules, err)
		}
		bl, err := env.bindings.List(ctx, &databasev1.IndexRuleBindingRegistryServiceListRequest{Group: name})
		if err != nil || len(bl.GetIndexRuleBinding()) != wantBindings {
			t.Errorf("list bindings of %s: %d, want %d, err %v", name, len(bl.GetIndexRuleBinding()), wantBindings, err)
		}
	}
}

// seed creates group "g" (CATALOG_TRACE), trace "sw", rules "duration" and "timestamp" and
// binding "b" from the validator test fixtures.
func (env *testEnv) seed(t *testing.T) {
	t.Helper()
	ctx := testContext(t)
	g := validGroup()
	g.ResourceOpts.Stages = nil
	if _, err := env.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g}); err != nil {
		t.Fatalf("seed group: %v", err)
	}
	if _, err := env.traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: validTrace()}); err != nil {
		t.Fatalf("seed trace: %v", err)
	}
	ts := validRule()
	ts.Metadata.Name = "timestamp"
	ts.Tags = []string{"service_id", "timestamp"}
	for _, r := range []*databasev1.IndexRule{validRule(), ts} {
		if _, err := env.rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r}); err != nil {
			t.Fatalf("seed rule: %v", err)
		}
	}
	if _, err := env.bindings.Create(ctx, &databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: validBinding()}); err != nil {
		t.Fatalf("seed binding: %v", err)
	}
}

// rejected runs calls that must all fail with code. Invalid input (InvalidArgument) and missing
// references (NotFound from the service's own lookups) must be rejected before any write call
// reaches the store; AlreadyExists, a missing resource on Update and a stale revision are the
// store's own answers to a write call.
func rejected(t *testing.T, env *testEnv, cases []rejection) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := env.repo.Writes()
			wantCode(t, tc.call(testContext(t)), tc.code, tc.msg)
			if after := env.repo.Writes(); after != before && !strings.HasPrefix(tc.name, storeSidePrefix) {
				t.Fatalf("%d write calls reached the store", after-before)
			}
		})
	}
}

// storeSidePrefix starts the name of a rejection that only the store's write call can make.
const storeSidePrefix = "store rejects "

// storeSide marks a rejection that only the store's write call can make.
func storeSide(r rejection) rejection {
	r.name = storeSidePrefix + r.name
	return r
}

type rejection struct {
	name string
	call func(ctx context.Context) error
	code codes.Code
	msg  string
}

func TestGroupRegistry(t *testing.T) {
	env := newTestEnv(t, nil)
	env.seed(t)
	ctx := testContext(t)
	create := func(g *commonv1.Group) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := env.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g})
			return err
		}
	}
	update := func(g *commonv1.Group) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := env.groups.Update(ctx, &databasev1.GroupRegistryServiceUpdateRequest{Group: g})
			return err
		}
	}
	mutated := func(f func(g *commonv1.Group)) *commonv1.Group {
		g := validGroup()
		g.Metadata.Name = "other"
		f(g)
		return g
	}
	rejected(t, env, []rejection{
		{"create nil group", create(nil), codes.InvalidArgument, "group: is required"},
		{"create nil metadata", create(mutated(func(g *commonv1.Group) { g.Metadata = nil })), codes.InvalidArgument, "group.metadata"},
		{"create empty name", create(mutated(func(g *commonv1.Group) { g.Metadata.Name = "" })), codes.InvalidArgument, "group.metadata.name"},
		{"create no catalog", create(mutated(func(g *commonv1.Group) { g.Catalog = 0 })), codes.InvalidArgument, "group.catalog"},
		{"create no resource opts", create(mutated(func(g *commonv1.Group) { g.ResourceOpts = nil })), codes.InvalidArgument, "group.resource_opts"},
		{"create zero shards", create(mutated(func(g *commonv1.Group) { g.ResourceOpts.ShardNum = 0 })), codes.InvalidArgument, "shard_num"},
		{"create no ttl unit", create(mutated(func(g *commonv1.Group) { g.ResourceOpts.Ttl.Unit = 0 })), codes.InvalidArgument, "ttl.unit"},
		{"create bad stage", create(mutated(func(g *commonv1.Group) { g.ResourceOpts.Stages[0].NodeSelector = "" })), codes.InvalidArgument, "node_selector"},
		storeSide(rejection{"create existing", create(mutated(func(g *commonv1.Group) { g.Metadata.Name = "g" })), codes.AlreadyExists, "already exists"}),
		{"update nil group", update(nil), codes.InvalidArgument, "group"},
		{"update invalid", update(mutated(func(g *commonv1.Group) { g.Metadata.Name = "g"; g.ResourceOpts.ShardNum = 0 })), codes.InvalidArgument, "shard_num"},
		{"update missing", update(mutated(func(*commonv1.Group) {})), codes.NotFound, "other"},
		{"update catalog change", update(mutated(func(g *commonv1.Group) {
			g.Metadata.Name = "g"
			g.Catalog = commonv1.Catalog_CATALOG_STREAM
		})), codes.InvalidArgument, "group.catalog"},
		{"get empty name", func(ctx context.Context) error {
			_, err := env.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{})
			return err
		}, codes.InvalidArgument, "group"},
		{"get missing", func(ctx context.Context) error {
			_, err := env.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: "missing"})
			return err
		}, codes.NotFound, "missing"},
		{"exist empty name", func(ctx context.Context) error {
			_, err := env.groups.Exist(ctx, &databasev1.GroupRegistryServiceExistRequest{})
			return err
		}, codes.InvalidArgument, "group"},
		{"delete empty name", func(ctx context.Context) error {
			_, err := env.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{})
			return err
		}, codes.InvalidArgument, "group"},
	})

	t.Run("update unchanged writes nothing", func(t *testing.T) {
		g := validGroup()
		g.ResourceOpts.Stages = nil
		before := env.repo.Writes()
		resp, err := env.groups.Update(ctx, &databasev1.GroupRegistryServiceUpdateRequest{Group: g})
		if err != nil || resp.GetModRevision() != 0 {
			t.Fatalf("update unchanged: rev %d, err %v", resp.GetModRevision(), err)
		}
		if env.repo.Writes() != before {
			t.Fatal("an unchanged group was written")
		}
	})
	t.Run("update shard num", func(t *testing.T) {
		g := validGroup()
		g.ResourceOpts.Stages = nil
		g.ResourceOpts.ShardNum = 4
		resp, err := env.groups.Update(ctx, &databasev1.GroupRegistryServiceUpdateRequest{Group: g})
		if err != nil || resp.GetModRevision() == 0 {
			t.Fatalf("update: rev %d, err %v", resp.GetModRevision(), err)
		}
		got, err := env.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: "g"})
		if err != nil || got.GetGroup().GetResourceOpts().GetShardNum() != 4 {
			t.Fatalf("get after update: %v, err %v", got, err)
		}
		stale := proto.Clone(g).(*commonv1.Group)
		stale.ResourceOpts.ShardNum = 8
		stale.Metadata.ModRevision = resp.GetModRevision() - 1
		_, err = env.groups.Update(ctx, &databasev1.GroupRegistryServiceUpdateRequest{Group: stale})
		wantCode(t, err, codes.FailedPrecondition, "concurrent modification")
	})
	t.Run("exist", func(t *testing.T) {
		for name, want := range map[string]bool{"g": true, "missing": false} {
			resp, err := env.groups.Exist(ctx, &databasev1.GroupRegistryServiceExistRequest{Group: name})
			if err != nil || resp.GetHasGroup() != want {
				t.Fatalf("exist %s: %v, err %v", name, resp.GetHasGroup(), err)
			}
		}
	})
	t.Run("delete", func(t *testing.T) {
		_, err := env.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: "missing"})
		wantCode(t, err, codes.NotFound, "missing")
		// Without a data side there is no data to drop: data_only is refused, not faked.
		_, err = env.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: "g", DataOnly: true, Force: true})
		wantCode(t, err, codes.FailedPrecondition, "data_only")
		dry, err := env.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: "g", DryRun: true})
		if err != nil || len(dry.GetSchemaInfo().GetTraces()) != 1 {
			t.Fatalf("dry run: %v, err %v", dry, err)
		}
		if _, err = env.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: "g"}); err != nil {
			t.Fatalf("the dry run deleted the group: %v", err)
		}
		resp, err := env.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: "g"})
		if err != nil || len(resp.GetSchemaInfo().GetTraces()) != 1 {
			t.Fatalf("delete: %v, err %v", resp, err)
		}
		_, err = env.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: validTrace().GetMetadata()})
		wantCode(t, err, codes.NotFound, "")
		list, err := env.groups.List(ctx, &databasev1.GroupRegistryServiceListRequest{})
		if err != nil || len(list.GetGroup()) != 0 {
			t.Fatalf("list after delete: %v, err %v", list, err)
		}
	})
}

func TestTraceRegistry(t *testing.T) {
	env := newTestEnv(t, nil)
	env.seed(t)
	ctx := testContext(t)
	measure := validGroup()
	measure.Metadata.Name = "measures"
	measure.Catalog = commonv1.Catalog_CATALOG_MEASURE
	if _, err := env.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: measure}); err != nil {
		t.Fatal(err)
	}
	create := func(f func(tr *databasev1.Trace) *databasev1.Trace) func(context.Context) error {
		return func(ctx context.Context) error {
			tr := validTrace()
			tr.Metadata.Name = "other"
			_, err := env.traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: f(tr)})
			return err
		}
	}
	update := func(f func(tr *databasev1.Trace) *databasev1.Trace) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := env.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: f(validTrace())})
			return err
		}
	}
	setType := func(tr *databasev1.Trace, name string, typ databasev1.TagType) *databasev1.Trace {
		for _, tag := range tr.Tags {
			if tag.Name == name {
				tag.Type = typ
			}
		}
		return tr
	}
	rejected(t, env, []rejection{
		{"create nil trace", create(func(*databasev1.Trace) *databasev1.Trace { return nil }), codes.InvalidArgument, "trace: is required"},
		{"create nil metadata", create(func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata = nil; return tr }),
			codes.InvalidArgument, "trace.metadata"},
		{"create empty group", create(func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata.Group = ""; return tr }),
			codes.InvalidArgument, "trace.metadata.group"},
		{"create no tags", create(func(tr *databasev1.Trace) *databasev1.Trace { tr.Tags = nil; return tr }),
			codes.InvalidArgument, "trace.tags"},
		{"create duplicate tags", create(func(tr *databasev1.Trace) *databasev1.Trace { tr.Tags[2].Name = "service_id"; return tr }),
			codes.InvalidArgument, "trace.tags[2].name"},
		{"create unspecified tag type", create(func(tr *databasev1.Trace) *databasev1.Trace { tr.Tags[1].Type = 0; return tr }),
			codes.InvalidArgument, "trace.tags[1].type"},
		{"create unknown trace id tag", create(func(tr *databasev1.Trace) *databasev1.Trace { tr.TraceIdTagName = "x"; return tr }),
			codes.InvalidArgument, `trace.trace_id_tag_name: tag "x" is not in trace.tags`},
		{"create int span id", create(func(tr *databasev1.Trace) *databasev1.Trace {
			return setType(tr, "span_id", databasev1.TagType_TAG_TYPE_INT)
		}), codes.InvalidArgument, "trace.span_id_tag_name"},
		{"create string timestamp", create(func(tr *databasev1.Trace) *databasev1.Trace {
			return setType(tr, "timestamp", databasev1.TagType_TAG_TYPE_STRING)
		}), codes.InvalidArgument, "trace.timestamp_tag_name"},
		{"create in missing group", create(func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata.Group = "nope"; return tr }),
			codes.NotFound, `trace.metadata.group: group "nope" not found`},
		{"create in measure group", create(func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata.Group = "measures"; return tr }),
			codes.InvalidArgument, "want CATALOG_TRACE"},
		storeSide(rejection{"create existing", create(func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata.Name = "sw"; return tr }),
			codes.AlreadyExists, "already exists"}),
		{"update nil trace", update(func(*databasev1.Trace) *databasev1.Trace { return nil }), codes.InvalidArgument, "trace"},
		storeSide(rejection{"update missing", update(func(tr *databasev1.Trace) *databasev1.Trace { tr.Metadata.Name = "nope"; return tr }),
			codes.NotFound, "nope"}),
		{"update breaks a bound rule", update(func(tr *databasev1.Trace) *databasev1.Trace {
			return setType(tr, "duration", databasev1.TagType_TAG_TYPE_STRING)
		}), codes.FailedPrecondition, `tag "duration" cannot change its type`},
		{"update drops a bound tag", update(func(tr *databasev1.Trace) *databasev1.Trace {
			tr.Tags = append(tr.Tags[:1], tr.Tags[2:]...) // drops service_id
			return tr
		}), codes.FailedPrecondition, `tag "service_id" cannot be renamed, moved or replaced`},
		storeSide(rejection{"update stale revision", update(func(tr *databasev1.Trace) *databasev1.Trace {
			tr.Metadata.ModRevision = 1
			tr.Tags = append(tr.Tags, &databasev1.TraceTagSpec{Name: "extra", Type: databasev1.TagType_TAG_TYPE_STRING})
			return tr
		}), codes.FailedPrecondition, "concurrent modification"}),
		{"get nil metadata", func(ctx context.Context) error {
			_, err := env.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{})
			return err
		}, codes.InvalidArgument, "metadata: is required"},
		{"get missing", func(ctx context.Context) error {
			_, err := env.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: "g", Name: "nope"}})
			return err
		}, codes.NotFound, "nope"},
		{"exist nil metadata", func(ctx context.Context) error {
			_, err := env.traces.Exist(ctx, &databasev1.TraceRegistryServiceExistRequest{})
			return err
		}, codes.InvalidArgument, "metadata"},
		{"delete nil metadata", func(ctx context.Context) error {
			_, err := env.traces.Delete(ctx, &databasev1.TraceRegistryServiceDeleteRequest{})
			return err
		}, codes.InvalidArgument, "metadata"},
		{"list bad group", func(ctx context.Context) error {
			_, err := env.traces.List(ctx, &databasev1.TraceRegistryServiceListRequest{Group: "a/b"})
			return err
		}, codes.InvalidArgument, "group"},
	})

	t.Run("update unchanged", func(t *testing.T) {
		resp, err := env.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: validTrace()})
		if err != nil || resp.GetModRevision() != 0 {
			t.Fatalf("rev %d, err %v", resp.GetModRevision(), err)
		}
	})
	t.Run("update with its own revision", func(t *testing.T) {
		got, err := env.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: validTrace().GetMetadata()})
		if err != nil {
			t.Fatal(err)
		}
		tr := got.GetTrace()
		tr.Tags = append(tr.Tags, &databasev1.TraceTagSpec{Name: "extra", Type: databasev1.TagType_TAG_TYPE_STRING})
		resp, err := env.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: tr})
		if err != nil || resp.GetModRevision() <= tr.GetMetadata().GetModRevision() {
			t.Fatalf("rev %d, err %v", resp.GetModRevision(), err)
		}
	})
	t.Run("update keeps the stored layout", func(t *testing.T) {
		swap := func(tr *databasev1.Trace) { tr.Tags[1], tr.Tags[2] = tr.Tags[2], tr.Tags[1] }
		cases := []struct {
			name   string
			change func(tr *databasev1.Trace)
			want   string
		}{
			{"reorder", swap, `"service_id"`},
			{"retype", func(tr *databasev1.Trace) { tr.Tags[3].Type = databasev1.TagType_TAG_TYPE_STRING }, `"tags" cannot change its type`},
			{"rename", func(tr *databasev1.Trace) { tr.Tags[1].Name = "service" }, `"service_id" cannot be renamed`},
			{"remove the last stored tag", func(tr *databasev1.Trace) {
				tr.Tags = tr.Tags[:len(tr.Tags)-1]
			}, `"extra" (TAG_TYPE_STRING) cannot be removed`},
			{"insert before a stored tag", func(tr *databasev1.Trace) {
				tr.Tags = append([]*databasev1.TraceTagSpec{{Name: "first", Type: databasev1.TagType_TAG_TYPE_INT}}, tr.Tags...)
			}, `"trace_id" cannot be renamed, moved or replaced (got "first")`},
			{"change the span id tag", func(tr *databasev1.Trace) {
				tr.Tags = append(tr.Tags, &databasev1.TraceTagSpec{Name: "span_id2", Type: databasev1.TagType_TAG_TYPE_STRING})
				tr.SpanIdTagName = "span_id2"
			}, `span_id_tag_name: cannot change from tag "span_id"`},
		}
		for _, c := range cases {
			got, err := env.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: validTrace().GetMetadata()})
			if err != nil {
				t.Fatal(err)
			}
			tr := got.GetTrace()
			c.change(tr)
			_, err = env.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: tr})
			wantCode(t, err, codes.FailedPrecondition, c.want)
		}
		got, err := env.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: validTrace().GetMetadata()})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(got.GetTrace().GetTags()); n != len(validTrace().GetTags())+1 {
			t.Fatalf("stored schema has %d tags after refused updates, want %d", n, len(validTrace().GetTags())+1)
		}
		_, err = env.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: &databasev1.Trace{
			Metadata: &commonv1.Metadata{Group: "g", Name: "nope"}, Tags: validTrace().GetTags(),
			TraceIdTagName: "trace_id", SpanIdTagName: "span_id", TimestampTagName: "timestamp",
		}})
		wantCode(t, err, codes.NotFound, "")
	})
	t.Run("exist", func(t *testing.T) {
		cases := []struct {
			group, name        string
			hasGroup, hasTrace bool
		}{{"g", "sw", true, true}, {"g", "nope", true, false}, {"nope", "sw", false, false}}
		for _, c := range cases {
			resp, err := env.traces.Exist(ctx, &databasev1.TraceRegistryServiceExistRequest{Metadata: &commonv1.Metadata{Group: c.group, Name: c.name}})
			if err != nil || resp.GetHasGroup() != c.hasGroup || resp.GetHasTrace() != c.hasTrace {
				t.Fatalf("exist %s/%s: %v, err %v", c.group, c.name, resp, err)
			}
		}
	})
	t.Run("list", func(t *testing.T) {
		for group, want := range map[string]int{"": 1, "g": 1, "measures": 0, "nope": 0} {
			resp, err := env.traces.List(ctx, &databasev1.TraceRegistryServiceListRequest{Group: group})
			if err != nil || len(resp.GetTrace()) != want {
				t.Fatalf("list %q: %d traces, err %v", group, len(resp.GetTrace()), err)
			}
		}
	})
	t.Run("delete", func(t *testing.T) {
		md := validTrace().GetMetadata()
		resp, err := env.traces.Delete(ctx, &databasev1.TraceRegistryServiceDeleteRequest{Metadata: md})
		if err != nil || !resp.GetDeleted() {
			t.Fatalf("delete: %v, err %v", resp, err)
		}
		resp, err = env.traces.Delete(ctx, &databasev1.TraceRegistryServiceDeleteRequest{Metadata: md})
		if err != nil || resp.GetDeleted() {
			t.Fatalf("delete missing must answer deleted=false: %v, err %v", resp, err)
		}
		_, err = env.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: md})
		wantCode(t, err, codes.NotFound, "")
	})
	t.Run("create checks bindings already naming it", func(t *testing.T) {
		// Binding "b" still binds "duration" to "sw": a new "sw" must fit it.
		tr := setType(validTrace(), "duration", databasev1.TagType_TAG_TYPE_STRING)
		_, err := env.traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: tr})
		wantCode(t, err, codes.InvalidArgument, `index rule "duration" bound by "b"`)
		if _, err = env.traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: validTrace()}); err != nil {
			t.Fatalf("re-create: %v", err)
		}
	})
}

func TestIndexRuleRegistry(t *testing.T) {
	env := newTestEnv(t, nil)
	env.seed(t)
	ctx := testContext(t)
	create := func(f func(r *databasev1.IndexRule) *databasev1.IndexRule) func(context.Context) error {
		return func(ctx context.Context) error {
			r := validRule()
			r.Metadata.Name = "other"
			_, err := env.rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: f(r)})
			return err
		}
	}
	update := func(f func(r *databasev1.IndexRule) *databasev1.IndexRule) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := env.rules.Update(ctx, &databasev1.IndexRuleRegistryServiceUpdateRequest{IndexRule: f(validRule())})
			return err
		}
	}
	rejected(t, env, []rejection{
		{"create nil rule", create(func(*databasev1.IndexRule) *databasev1.IndexRule { return nil }), codes.InvalidArgument, "index_rule: is required"},
		{"create nil metadata", create(func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Metadata = nil; return r }),
			codes.InvalidArgument, "index_rule.metadata"},
		{"create no tags", create(func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Tags = nil; return r }),
			codes.InvalidArgument, "index_rule.tags"},
		{"create duplicate tags", create(func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Tags = []string{"a", "a"}; return r }),
			codes.InvalidArgument, "index_rule.tags[1]"},
		{"create no type", create(func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Type = 0; return r }),
			codes.InvalidArgument, "index_rule.type"},
		{"create in missing group", create(func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Metadata.Group = "nope"; return r }),
			codes.NotFound, `index_rule.metadata.group: group "nope" not found`},
		storeSide(rejection{"create existing", create(func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Metadata.Name = "duration"; return r }),
			codes.AlreadyExists, "already exists"}),
		storeSide(rejection{"update missing", update(func(r *databasev1.IndexRule) *databasev1.IndexRule { r.Metadata.Name = "nope"; return r }),
			codes.NotFound, "nope"}),
		{"update sort tag to a string tag of the bound trace", update(func(r *databasev1.IndexRule) *databasev1.IndexRule {
			r.Tags = []string{"duration", "service_id"}
			return r
		}), codes.InvalidArgument, `index_rule.tags[1]: binding "b" binds the rule to trace "sw"`},
		{"update to a tag the bound trace lacks", update(func(r *databasev1.IndexRule) *databasev1.IndexRule {
			r.Tags = []string{"nope", "duration"}
			return r
		}), codes.InvalidArgument, `index_rule.tags[0]`},
		{"list empty group", func(ctx context.Context) error {
			_, err := env.rules.List(ctx, &databasev1.IndexRuleRegistryServiceListRequest{})
			return err
		}, codes.InvalidArgument, "group: must not be empty"},
		{"get missing", func(ctx context.Context) error {
			_, err := env.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: "g", Name: "nope"}})
			return err
		}, codes.NotFound, "nope"},
		{"get empty name", func(ctx context.Context) error {
			_, err := env.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: "g"}})
			return err
		}, codes.InvalidArgument, "metadata.name"},
		{"exist nil metadata", func(ctx context.Context) error {
			_, err := env.rules.Exist(ctx, &databasev1.IndexRuleRegistryServiceExistRequest{})
			return err
		}, codes.InvalidArgument, "metadata"},
		{"delete nil metadata", func(ctx context.Context) error {
			_, err := env.rules.Delete(ctx, &databasev1.IndexRuleRegistryServiceDeleteRequest{})
			return err
		}, codes.InvalidArgument, "metadata"},
	})

	t.Run("unbound rule may use any tags", func(t *testing.T) {
		r := validRule()
		r.Metadata.Name = "free"
		r.Tags = []string{"whatever"}
		if _, err := env.rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("update keeps the id", func(t *testing.T) {
		r := validRule()
		r.Type = databasev1.IndexRule_TYPE_INVERTED
		if _, err := env.rules.Update(ctx, &databasev1.IndexRuleRegistryServiceUpdateRequest{IndexRule: r}); err != nil {
			t.Fatal(err)
		}
		got, err := env.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{Metadata: r.GetMetadata()})
		if err != nil || got.GetIndexRule().GetType() != databasev1.IndexRule_TYPE_INVERTED ||
			got.GetIndexRule().GetMetadata().GetId() != schema.IndexRuleID("g", "duration") {
			t.Fatalf("after update: %v, err %v", got, err)
		}
	})
	t.Run("exist", func(t *testing.T) {
		cases := []struct {
			group, name       string
			hasGroup, hasRule bool
		}{{"g", "duration", true, true}, {"g", "nope", true, false}, {"nope", "duration", false, false}}
		for _, c := range cases {
			resp, err := env.rules.Exist(ctx, &databasev1.IndexRuleRegistryServiceExistRequest{Metadata: &commonv1.Metadata{Group: c.group, Name: c.name}})
			if err != nil || resp.GetHasGroup() != c.hasGroup || resp.GetHasIndexRule() != c.hasRule {
				t.Fatalf("exist %s/%s: %v, err %v", c.group, c.name, resp, err)
			}
		}
	})
	t.Run("list and delete", func(t *testing.T) {
		list, err := env.rules.List(ctx, &databasev1.IndexRuleRegistryServiceListRequest{Group: "g"})
		if err != nil || len(list.GetIndexRule()) != 3 {
			t.Fatalf("list: %d rules, err %v", len(list.GetIndexRule()), err)
		}
		md := &commonv1.Metadata{Group: "g", Name: "free"}
		resp, err := env.rules.Delete(ctx, &databasev1.IndexRuleRegistryServiceDeleteRequest{Metadata: md})
		if err != nil || !resp.GetDeleted() {
			t.Fatalf("delete: %v, err %v", resp, err)
		}
		resp, err = env.rules.Delete(ctx, &databasev1.IndexRuleRegistryServiceDeleteRequest{Metadata: md})
		if err != nil || resp.GetDeleted() {
			t.Fatalf("delete missing: %v, err %v", resp, err)
		}
	})
}

func TestIndexRuleBindingRegistry(t *testing.T) {
	env := newTestEnv(t, nil)
	env.seed(t)
	ctx := testContext(t)
	for _, r := range []*databasev1.IndexRule{
		{Metadata: &commonv1.Metadata{Group: "g", Name: "by-service"}, Tags: []string{"duration", "service_id"}, Type: databasev1.IndexRule_TYPE_TREE},
		{Metadata: &commonv1.Metadata{Group: "g", Name: "by-nothing"}, Tags: []string{"service_id", "nothing"}, Type: databasev1.IndexRule_TYPE_TREE},
	} {
		if _, err := env.rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(f func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding) func(context.Context) error {
		return func(ctx context.Context) error {
			b := validBinding()
			b.Metadata.Name = "other"
			_, err := env.bindings.Create(ctx, &databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: f(b)})
			return err
		}
	}
	update := func(f func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := env.bindings.Update(ctx, &databasev1.IndexRuleBindingRegistryServiceUpdateRequest{IndexRuleBinding: f(validBinding())})
			return err
		}
	}
	rejected(t, env, []rejection{
		{"create nil binding", create(func(*databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { return nil }),
			codes.InvalidArgument, "index_rule_binding: is required"},
		{"create nil metadata", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Metadata = nil; return b }),
			codes.InvalidArgument, "index_rule_binding.metadata"},
		{"create no rules", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Rules = nil; return b }),
			codes.InvalidArgument, "index_rule_binding.rules"},
		{"create nil subject", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Subject = nil; return b }),
			codes.InvalidArgument, "index_rule_binding.subject"},
		{"create unspecified catalog", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Subject.Catalog = 0
			return b
		}), codes.InvalidArgument, "index_rule_binding.subject.catalog"},
		{"create stream catalog", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Subject.Catalog = commonv1.Catalog_CATALOG_STREAM
			return b
		}), codes.InvalidArgument, "must be CATALOG_TRACE"},
		{"create no begin", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.BeginAt = nil; return b }),
			codes.InvalidArgument, "index_rule_binding.begin_at"},
		{"create no expire", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.ExpireAt = nil; return b }),
			codes.InvalidArgument, "index_rule_binding.expire_at"},
		{"create expire before begin", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.BeginAt, b.ExpireAt = b.ExpireAt, b.BeginAt
			return b
		}), codes.InvalidArgument, "must be after begin_at"},
		{"create in missing group", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Metadata.Group = "nope"
			return b
		}), codes.NotFound, `index_rule_binding.metadata.group: group "nope" not found`},
		{"create missing trace", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Subject.Name = "nope"
			return b
		}), codes.NotFound, `index_rule_binding.subject.name: trace "nope" not found in group "g"`},
		{"create missing rule", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Rules = []string{"duration", "nope"}
			return b
		}), codes.NotFound, `index_rule_binding.rules[1]: index rule "nope" not found in group "g"`},
		{"create rule with a string sort tag", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Rules = []string{"by-service"}
			return b
		}), codes.InvalidArgument, `index_rule_binding.rules[0]: index rule "by-service": sort tag "service_id" has type TAG_TYPE_STRING`},
		{"create rule with a tag not in the trace", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Rules = []string{"duration", "by-nothing"}
			return b
		}), codes.InvalidArgument, `index_rule_binding.rules[1]: index rule "by-nothing": tag "nothing" is not in trace "sw"`},
		storeSide(rejection{"create existing", create(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Metadata.Name = "b"; return b }),
			codes.AlreadyExists, "already exists"}),
		storeSide(rejection{"update missing", update(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding { b.Metadata.Name = "nope"; return b }),
			codes.NotFound, "nope"}),
		{"update to a bad rule", update(func(b *databasev1.IndexRuleBinding) *databasev1.IndexRuleBinding {
			b.Rules = []string{"by-service"}
			return b
		}), codes.InvalidArgument, "index_rule_binding.rules[0]"},
		{"list empty group", func(ctx context.Context) error {
			_, err := env.bindings.List(ctx, &databasev1.IndexRuleBindingRegistryServiceListRequest{})
			return err
		}, codes.InvalidArgument, "group: must not be empty"},
		{"get missing", func(ctx context.Context) error {
			_, err := env.bindings.Get(ctx, &databasev1.IndexRuleBindingRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: "g", Name: "nope"}})
			return err
		}, codes.NotFound, "nope"},
		{"exist nil metadata", func(ctx context.Context) error {
			_, err := env.bindings.Exist(ctx, &databasev1.IndexRuleBindingRegistryServiceExistRequest{})
			return err
		}, codes.InvalidArgument, "metadata"},
		{"delete nil metadata", func(ctx context.Context) error {
			_, err := env.bindings.Delete(ctx, &databasev1.IndexRuleBindingRegistryServiceDeleteRequest{})
			return err
		}, codes.InvalidArgument, "metadata"},
	})

	t.Run("update", func(t *testing.T) {
		b := validBinding()
		b.Rules = []string{"timestamp"}
		resp, err := env.bindings.Update(ctx, &databasev1.IndexRuleBindingRegistryServiceUpdateRequest{IndexRuleBinding: b})
		if err != nil || resp.GetModRevision() == 0 {
			t.Fatalf("update: %v, err %v", resp, err)
		}
		got, err := env.bindings.Get(ctx, &databasev1.IndexRuleBindingRegistryServiceGetRequest{Metadata: b.GetMetadata()})
		if err != nil || len(got.GetIndexRuleBinding().GetRules()) != 1 {
			t.Fatalf("get: %v, err %v", got, err)
		}
	})
	t.Run("exist", func(t *testing.T) {
		cases := []struct {
			group, name          string
			hasGroup, hasBinding bool
		}{{"g", "b", true, true}, {"g", "nope", true, false}, {"nope", "b", false, false}}
		for _, c := range cases {
			resp, err := env.bindings.Exist(ctx, &databasev1.IndexRuleBindingRegistryServiceExistRequest{Metadata: &commonv1.Metadata{Group: c.group, Name: c.name}})
			if err != nil || resp.GetHasGroup() != c.hasGroup || resp.GetHasIndexRuleBinding() != c.hasBinding {
				t.Fatalf("exist %s/%s: %v, err %v", c.group, c.name, resp, err)
			}
		}
	})
	t.Run("list and delete", func(t *testing.T) {
		list, err := env.bindings.List(ctx, &databasev1.IndexRuleBindingRegistryServiceListRequest{Group: "g"})
		if err != nil || len(list.GetIndexRuleBinding()) != 1 {
			t.Fatalf("list: %v, err %v", list, err)
		}
		md := &commonv1.Metadata{Group: "g", Name: "b"}
		resp, err := env.bindings.Delete(ctx, &databasev1.IndexRuleBindingRegistryServiceDeleteRequest{Metadata: md})
		if err != nil || !resp.GetDeleted() {
			t.Fatalf("delete: %v, err %v", resp, err)
		}
		resp, err = env.bindings.Delete(ctx, &databasev1.IndexRuleBindingRegistryServiceDeleteRequest{Metadata: md})
		if err != nil || resp.GetDeleted() {
			t.Fatalf("delete missing: %v, err %v", resp, err)
		}
	})
}

func TestGetAPIVersion(t *testing.T) {
	env := newTestEnv(t, nil)
	resp, err := env.common.GetAPIVersion(testContext(t), &commonv1.GetAPIVersionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetVersion().GetVersion() != "0.10" || resp.GetVersion().GetRevision() == "" {
		t.Fatalf("unexpected version %v", resp.GetVersion())
	}
}
