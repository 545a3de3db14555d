// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"context"
	"sort"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/trace"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// ignoreServerFields drops what the server sets itself from a schema comparison: revisions,
// timestamps and the index rule id.
var ignoreServerFields = cmp.Options{
	protocmp.Transform(),
	protocmp.IgnoreFields(&commonv1.Metadata{}, "create_revision", "mod_revision", "id"),
	protocmp.IgnoreFields(&commonv1.Group{}, "updated_at", "created_at"),
	protocmp.IgnoreFields(&databasev1.Trace{}, "updated_at", "created_at"),
	protocmp.IgnoreFields(&databasev1.IndexRule{}, "updated_at", "created_at"),
	protocmp.IgnoreFields(&databasev1.IndexRuleBinding{}, "updated_at", "created_at"),
}

// registry bundles the four registry clients.
type registry struct {
	groups   databasev1.GroupRegistryServiceClient
	traces   databasev1.TraceRegistryServiceClient
	rules    databasev1.IndexRuleRegistryServiceClient
	bindings databasev1.IndexRuleBindingRegistryServiceClient
}

func newRegistry(conn *grpc.ClientConn) registry {
	return registry{
		groups:   databasev1.NewGroupRegistryServiceClient(conn),
		traces:   databasev1.NewTraceRegistryServiceClient(conn),
		rules:    databasev1.NewIndexRuleRegistryServiceClient(conn),
		bindings: databasev1.NewIndexRuleBindingRegistryServiceClient(conn),
	}
}

// expectStored checks that every resource of s reads back equal, apart from server-set fields.
func (r registry) expectStored(ctx context.Context, s *helpers.Schemas) {
	GinkgoHelper()
	for _, want := range s.Groups {
		got, err := r.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: want.GetMetadata().GetName()})
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(want, got.GetGroup(), ignoreServerFields)).To(BeEmpty(), "group %s", want.GetMetadata().GetName())
		Expect(got.GetGroup().GetMetadata().GetModRevision()).To(BeNumerically(">", 0))
	}
	for _, want := range s.Traces {
		got, err := r.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: want.GetMetadata()})
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(want, got.GetTrace(), ignoreServerFields)).To(BeEmpty(), "trace %v", want.GetMetadata())
		Expect(got.GetTrace().GetMetadata().GetModRevision()).To(BeNumerically(">", 0))
	}
	for _, want := range s.IndexRules {
		got, err := r.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{Metadata: want.GetMetadata()})
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(want, got.GetIndexRule(), ignoreServerFields)).To(BeEmpty(), "index rule %v", want.GetMetadata())
		Expect(got.GetIndexRule().GetMetadata().GetId()).NotTo(BeZero(), "the server assigns an index rule id")
	}
	for _, want := range s.Bindings {
		got, err := r.bindings.Get(ctx, &databasev1.IndexRuleBindingRegistryServiceGetRequest{Metadata: want.GetMetadata()})
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(want, got.GetIndexRuleBinding(), ignoreServerFields)).To(BeEmpty(), "binding %v", want.GetMetadata())
	}
}

func byGroup[T interface{ GetMetadata() *commonv1.Metadata }](all []T, group string) []T {
	var out []T
	for _, x := range all {
		if x.GetMetadata().GetGroup() == group {
			out = append(out, x)
		}
	}
	return out
}

// sorted returns a copy of resources sorted by group and name, so that List results compare
// whatever order the server lists in.
func sorted[T interface{ GetMetadata() *commonv1.Metadata }](all []T) []T {
	out := append([]T(nil), all...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].GetMetadata(), out[j].GetMetadata()
		return a.GetGroup()+"/"+a.GetName() < b.GetGroup()+"/"+b.GetName()
	})
	return out
}

func clone[T proto.Message](m T) T { return proto.Clone(m).(T) }

var _ = Describe("Schema registry", Ordered, func() {
	var (
		srv      *helpers.Server
		conn     *grpc.ClientConn
		reg      registry
		fixtures *helpers.Schemas
		// current is what the server should hold after the specs so far.
		current *helpers.Schemas
	)
	dumpOnFailure(func() *helpers.Server { return srv })

	BeforeAll(func() {
		srv, conn = startOwnServer()
		reg = newRegistry(conn)
		var err error
		fixtures, err = helpers.ReadSchemas()
		Expect(err).NotTo(HaveOccurred())
	})

	It("creates every schema fixture and reads each back as written", func(ctx SpecContext) {
		Expect(helpers.CreateSchemas(ctx, conn, fixtures, false)).To(Succeed())
		reg.expectStored(ctx, fixtures)
		current = &helpers.Schemas{}
		current.Groups = append(current.Groups, fixtures.Groups...)
		current.Traces = append(current.Traces, fixtures.Traces...)
		current.IndexRules = append(current.IndexRules, fixtures.IndexRules...)
		current.Bindings = append(current.Bindings, fixtures.Bindings...)
	})

	It("lists the schemas", func(ctx SpecContext) {
		groups, err := reg.groups.List(ctx, &databasev1.GroupRegistryServiceListRequest{})
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(sorted(fixtures.Groups), sorted(groups.GetGroup()), ignoreServerFields)).To(BeEmpty())
		for _, g := range fixtures.Groups {
			name := g.GetMetadata().GetName()
			traces, err := reg.traces.List(ctx, &databasev1.TraceRegistryServiceListRequest{Group: name})
			Expect(err).NotTo(HaveOccurred())
			Expect(cmp.Diff(sorted(byGroup(fixtures.Traces, name)), sorted(traces.GetTrace()), ignoreServerFields)).To(BeEmpty(), "traces of %s", name)
			rules, err := reg.rules.List(ctx, &databasev1.IndexRuleRegistryServiceListRequest{Group: name})
			Expect(err).NotTo(HaveOccurred())
			Expect(cmp.Diff(sorted(byGroup(fixtures.IndexRules, name)), sorted(rules.GetIndexRule()), ignoreServerFields)).To(BeEmpty(), "rules of %s", name)
			bindings, err := reg.bindings.List(ctx, &databasev1.IndexRuleBindingRegistryServiceListRequest{Group: name})
			Expect(err).NotTo(HaveOccurred())
			Expect(cmp.Diff(sorted(byGroup(fixtures.Bindings, name)), sorted(bindings.GetIndexRuleBinding()), ignoreServerFields)).To(BeEmpty(), "bindings of %s", name)
		}
		all, err := reg.traces.List(ctx, &databasev1.TraceRegistryServiceListRequest{})
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(sorted(fixtures.Traces), sorted(all.GetTrace()), ignoreServerFields)).To(BeEmpty(), "traces of every group")
	})

	It("refuses duplicates with AlreadyExists", func(ctx SpecContext) {
		for _, g := range fixtures.Groups {
			_, err := reg.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g})
			Expect(status.Code(err)).To(Equal(codes.AlreadyExists), "group %s: %v", g.GetMetadata().GetName(), err)
		}
		for _, t := range fixtures.Traces {
			_, err := reg.traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: t})
			Expect(status.Code(err)).To(Equal(codes.AlreadyExists), "trace %v: %v", t.GetMetadata(), err)
		}
		for _, r := range fixtures.IndexRules {
			_, err := reg.rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r})
			Expect(status.Code(err)).To(Equal(codes.AlreadyExists), "rule %v: %v", r.GetMetadata(), err)
		}
		for _, b := range fixtures.Bindings {
			_, err := reg.bindings.Create(ctx, &databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: b})
			Expect(status.Code(err)).To(Equal(codes.AlreadyExists), "binding %v: %v", b.GetMetadata(), err)
		}
	})

	// bindNewRule creates a rule with the given tags in the group of the first fixture rule, to be
	// deleted after the spec, and returns what binding it to the first fixture binding's trace answers.
	bindNewRule := func(ctx context.Context, name string, tags ...string) error {
		r := clone(fixtures.IndexRules[0])
		r.Metadata.Name, r.Tags = name, tags
		if _, err := reg.rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r}); err != nil {
			return err
		}
		DeferCleanup(func(ctx SpecContext) {
			_, err := reg.rules.Delete(ctx, &databasev1.IndexRuleRegistryServiceDeleteRequest{Metadata: r.GetMetadata()})
			Expect(err).NotTo(HaveOccurred())
		})
		b := clone(fixtures.Bindings[0])
		b.Metadata.Name, b.Rules = "bad-binding", []string{name}
		b.Metadata.Group = r.GetMetadata().GetGroup()
		_, err := reg.bindings.Create(ctx, &databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: b})
		return err
	}

	// badGroup, badTrace, badRule and badBinding create a copy of the first fixture of their kind,
	// renamed and changed by change, and answer what the registry says.
	badGroup := func(change func(*commonv1.Group)) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			g := clone(fixtures.Groups[0])
			g.Metadata.Name = "bad-group"
			change(g)
			_, err := reg.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g})
			return err
		}
	}
	badTrace := func(change func(*databasev1.Trace)) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			t := clone(fixtures.Traces[0])
			t.Metadata.Name = "bad"
			change(t)
			_, err := reg.traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: t})
			return err
		}
	}
	badRule := func(change func(*databasev1.IndexRule)) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			r := clone(fixtures.IndexRules[0])
			r.Metadata.Name = "bad"
			change(r)
			_, err := reg.rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r})
			return err
		}
	}
	badBinding := func(change func(*databasev1.IndexRuleBinding)) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			b := clone(fixtures.Bindings[0])
			b.Metadata.Name = "bad-binding"
			change(b)
			_, err := reg.bindings.Create(ctx, &databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: b})
			return err
		}
	}

	// Each entry changes a valid fixture into a bad one and names the code the registry answers.
	DescribeTable("refuses bad input",
		func(ctx SpecContext, want codes.Code, call func(ctx context.Context) error) {
			err := call(ctx)
			Expect(err).To(HaveOccurred())
			Expect(status.Code(err)).To(Equal(want), "error: %v", err)
		},
		Entry("a group without resource options", codes.InvalidArgument, badGroup(func(g *commonv1.Group) { g.ResourceOpts = nil })),
		Entry("a group with 0 shards", codes.InvalidArgument, badGroup(func(g *commonv1.Group) { g.ResourceOpts.ShardNum = 0 })),
		Entry("a group without a catalog", codes.InvalidArgument, badGroup(func(g *commonv1.Group) { g.Catalog = commonv1.Catalog_CATALOG_UNSPECIFIED })),
		Entry("a trace without tags", codes.InvalidArgument, badTrace(func(t *databasev1.Trace) { t.Tags = nil })),
		Entry("trace_id_tag_name naming a missing tag", codes.InvalidArgument, badTrace(func(t *databasev1.Trace) { t.TraceIdTagName = "no_such_tag" })),
		Entry("trace_id_tag_name naming an INT tag", codes.InvalidArgument, badTrace(func(t *databasev1.Trace) { t.TraceIdTagName = "duration" })),
		Entry("span_id_tag_name naming an INT tag", codes.InvalidArgument, badTrace(func(t *databasev1.Trace) { t.SpanIdTagName = "duration" })),
		Entry("timestamp_tag_name naming a STRING tag", codes.InvalidArgument, badTrace(func(t *databasev1.Trace) { t.TimestampTagName = "service_id" })),
		Entry("a trace tag without a type", codes.InvalidArgument, badTrace(func(t *databasev1.Trace) { t.Tags[1].Type = databasev1.TagType_TAG_TYPE_UNSPECIFIED })),
		Entry("an index rule without tags", codes.InvalidArgument, badRule(func(r *databasev1.IndexRule) { r.Tags = nil })),
		Entry("an index rule without a type", codes.InvalidArgument, badRule(func(r *databasev1.IndexRule) { r.Type = databasev1.IndexRule_TYPE_UNSPECIFIED })),
		// The rule on its own is fine; binding it to sw, where its last tag is a STRING, is not.
		Entry("a binding of a rule whose last tag is not INT or TIMESTAMP", codes.InvalidArgument, func(ctx context.Context) error {
			return bindNewRule(ctx, "by-endpoint", "service_id", "endpoint_id")
		}),
		Entry("a binding that expires before it begins", codes.InvalidArgument, badBinding(func(b *databasev1.IndexRuleBinding) { b.BeginAt, b.ExpireAt = b.ExpireAt, b.BeginAt })),
		Entry("a binding without a subject", codes.InvalidArgument, badBinding(func(b *databasev1.IndexRuleBinding) { b.Subject = nil })),
		Entry("a binding of a rule naming a tag the trace lacks", codes.InvalidArgument, func(ctx context.Context) error {
			return bindNewRule(ctx, "by-missing", "no_such_tag", "duration")
		}),
		Entry("List of index rules without a group", codes.InvalidArgument, func(ctx context.Context) error {
			_, err := reg.rules.List(ctx, &databasev1.IndexRuleRegistryServiceListRequest{})
			return err
		}),
		Entry("Get of an unknown group", codes.NotFound, func(ctx context.Context) error {
			_, err := reg.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: "no-such-group"})
			return err
		}),
		Entry("Get of an unknown trace", codes.NotFound, func(ctx context.Context) error {
			_, err := reg.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{
				Metadata: &commonv1.Metadata{Group: "test-trace-group", Name: "no_such_trace"},
			})
			return err
		}),
		Entry("Get of an unknown index rule", codes.NotFound, func(ctx context.Context) error {
			_, err := reg.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{
				Metadata: &commonv1.Metadata{Group: "test-trace-group", Name: "no_such_rule"},
			})
			return err
		}),
		Entry("Get of an unknown binding", codes.NotFound, func(ctx context.Context) error {
			_, err := reg.bindings.Get(ctx, &databasev1.IndexRuleBindingRegistryServiceGetRequest{
				Metadata: &commonv1.Metadata{Group: "test-trace-group", Name: "no_such_binding"},
			})
			return err
		}),
		Entry("a trace in an unknown group", codes.NotFound, badTrace(func(t *databasev1.Trace) { t.Metadata.Group = "no-such-group" })),
		Entry("Update of an unknown trace", codes.NotFound, func(ctx context.Context) error {
			t := clone(fixtures.Traces[0])
			t.Metadata.Name = "no_such_trace"
			_, err := reg.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: t})
			return err
		}),
		Entry("Update of an unknown group", codes.NotFound, func(ctx context.Context) error {
			g := clone(fixtures.Groups[0])
			g.Metadata.Name = "no-such-group"
			_, err := reg.groups.Update(ctx, &databasev1.GroupRegistryServiceUpdateRequest{Group: g})
			return err
		}),
		Entry("a binding naming an unknown rule", codes.NotFound, badBinding(func(b *databasev1.IndexRuleBinding) { b.Rules = []string{"no_such_rule"} })),
		Entry("a binding of an unknown trace", codes.NotFound, badBinding(func(b *databasev1.IndexRuleBinding) { b.Subject.Name = "no_such_trace" })),
	)

	It("left nothing behind from the refused input", func(ctx SpecContext) {
		reg.expectStored(ctx, current)
		traces, err := reg.traces.List(ctx, &databasev1.TraceRegistryServiceListRequest{})
		Expect(err).NotTo(HaveOccurred())
		Expect(traces.GetTrace()).To(HaveLen(len(fixtures.Traces)))
		groups, err := reg.groups.List(ctx, &databasev1.GroupRegistryServiceListRequest{})
		Expect(err).NotTo(HaveOccurred())
		Expect(groups.GetGroup()).To(HaveLen(len(fixtures.Groups)))
	})

	It("updates schemas and reads the change back", func(ctx SpecContext) {
		// A group's retention.
		g := clone(find(current.Groups, "", "zipkinTrace"))
		g.ResourceOpts.Ttl.Num = 9
		_, err := reg.groups.Update(ctx, &databasev1.GroupRegistryServiceUpdateRequest{Group: g})
		Expect(err).NotTo(HaveOccurred())
		current.Groups = replace(current.Groups, g)

		// A trace schema gains a tag at the end; the revision moves on.
		before, err := reg.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{
			Metadata: &commonv1.Metadata{Group: "test-trace-group", Name: "sw"},
		})
		Expect(err).NotTo(HaveOccurred())
		t := clone(find(current.Traces, "test-trace-group", "sw"))
		t.Tags = append(t.Tags, &databasev1.TraceTagSpec{Name: "extra", Type: databasev1.TagType_TAG_TYPE_STRING})
		upd, err := reg.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: t})
		Expect(err).NotTo(HaveOccurred())
		Expect(upd.GetModRevision()).To(BeNumerically(">", before.GetTrace().GetMetadata().GetModRevision()))
		current.Traces = replace(current.Traces, t)
		after, err := reg.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: t.GetMetadata()})
		Expect(err).NotTo(HaveOccurred())
		Expect(after.GetTrace().GetMetadata().GetModRevision()).To(Equal(upd.GetModRevision()))
		Expect(after.GetTrace().GetMetadata().GetCreateRevision()).To(Equal(before.GetTrace().GetMetadata().GetCreateRevision()))

		// Updating to the same spec changes nothing: mod_revision 0 (API.md §3.1).
		same, err := reg.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: t})
		Expect(err).NotTo(HaveOccurred())
		Expect(same.GetModRevision()).To(BeZero())

		// An index rule loses its entity tags; its id stays.
		ruleBefore, err := reg.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{
			Metadata: &commonv1.Metadata{Group: "test-trace-group", Name: "duration"},
		})
		Expect(err).NotTo(HaveOccurred())
		r := clone(find(current.IndexRules, "test-trace-group", "duration"))
		r.Tags = []string{"service_id", "duration"}
		_, err = reg.rules.Update(ctx, &databasev1.IndexRuleRegistryServiceUpdateRequest{IndexRule: r})
		Expect(err).NotTo(HaveOccurred())
		current.IndexRules = replace(current.IndexRules, r)
		ruleAfter, err := reg.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{Metadata: r.GetMetadata()})
		Expect(err).NotTo(HaveOccurred())
		Expect(ruleAfter.GetIndexRule().GetMetadata().GetId()).To(Equal(ruleBefore.GetIndexRule().GetMetadata().GetId()))

		// A binding drops a rule.
		b := clone(find(current.Bindings, "test-trace-updated", "sw-updated-index-rule-binding"))
		b.Rules = []string{"timestamp"}
		_, err = reg.bindings.Update(ctx, &databasev1.IndexRuleBindingRegistryServiceUpdateRequest{IndexRuleBinding: b})
		Expect(err).NotTo(HaveOccurred())
		current.Bindings = replace(current.Bindings, b)

		reg.expectStored(ctx, current)
	})

	It("refuses an update that retypes a tag, even one a bound index rule sorts by", func(ctx SpecContext) {
		// duration is the sort tag of rules bound to sw and spans hold INT values for it: it
		// cannot become a STRING.
		t := clone(find(current.Traces, "test-trace-group", "sw"))
		for _, tag := range t.Tags {
			if tag.GetName() == "duration" {
				tag.Type = databasev1.TagType_TAG_TYPE_STRING
			}
		}
		_, err := reg.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: t})
		Expect(status.Code(err)).To(Equal(codes.FailedPrecondition), "error: %v", err)
		Expect(err.Error()).To(ContainSubstring(`"duration"`))
		reg.expectStored(ctx, current)
	})

	It("finds every schema again after a restart", func(ctx SpecContext) {
		Expect(srv.Restart()).To(Succeed())
		reg.expectStored(ctx, current)
	})

	It("deletes schemas", func(ctx SpecContext) {
		b := find(current.Bindings, "test-trace-group", "sw-index-rule-binding")
		del, err := reg.bindings.Delete(ctx, &databasev1.IndexRuleBindingRegistryServiceDeleteRequest{Metadata: b.GetMetadata()})
		Expect(err).NotTo(HaveOccurred())
		Expect(del.GetDeleted()).To(BeTrue())
		_, err = reg.bindings.Get(ctx, &databasev1.IndexRuleBindingRegistryServiceGetRequest{Metadata: b.GetMetadata()})
		Expect(status.Code(err)).To(Equal(codes.NotFound))

		r := find(current.IndexRules, "test-trace-group", "duration")
		delRule, err := reg.rules.Delete(ctx, &databasev1.IndexRuleRegistryServiceDeleteRequest{Metadata: r.GetMetadata()})
		Expect(err).NotTo(HaveOccurred())
		Expect(delRule.GetDeleted()).To(BeTrue())
		_, err = reg.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{Metadata: r.GetMetadata()})
		Expect(status.Code(err)).To(Equal(codes.NotFound))

		t := find(current.Traces, "test-trace-group", "sw")
		delTrace, err := reg.traces.Delete(ctx, &databasev1.TraceRegistryServiceDeleteRequest{Metadata: t.GetMetadata()})
		Expect(err).NotTo(HaveOccurred())
		Expect(delTrace.GetDeleted()).To(BeTrue())
		_, err = reg.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: t.GetMetadata()})
		Expect(status.Code(err)).To(Equal(codes.NotFound))
		// Deleting what is gone is not an error, but deletes nothing.
		again, err := reg.traces.Delete(ctx, &databasev1.TraceRegistryServiceDeleteRequest{Metadata: t.GetMetadata()})
		Expect(err).NotTo(HaveOccurred())
		Expect(again.GetDeleted()).To(BeFalse())

		// Deleting a group takes its traces, rules and bindings with it.
		delGroup, err := reg.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: "zipkinTrace"})
		Expect(err).NotTo(HaveOccurred())
		Expect(delGroup.GetSchemaInfo().GetTraces()).To(ConsistOf("zipkin"))
		_, err = reg.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: "zipkinTrace"})
		Expect(status.Code(err)).To(Equal(codes.NotFound))
		_, err = reg.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: "zipkinTrace", Name: "zipkin"}})
		Expect(status.Code(err)).To(Equal(codes.NotFound), "the group's trace goes with it: %v", err)
		_, err = reg.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: "zipkinTrace", Name: "zipkin-timestamp"}})
		Expect(status.Code(err)).To(Equal(codes.NotFound), "the group's rule goes with it: %v", err)
		_, err = reg.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: "zipkinTrace"})
		Expect(status.Code(err)).To(Equal(codes.NotFound))

		// What was not deleted is still there.
		reg.expectStored(ctx, &helpers.Schemas{
			Groups:   []*commonv1.Group{find(current.Groups, "", "test-trace-group"), find(current.Groups, "", "test-trace-updated")},
			Traces:   []*databasev1.Trace{find(current.Traces, "test-trace-updated", "sw")},
			Bindings: []*databasev1.IndexRuleBinding{find(current.Bindings, "test-trace-updated", "sw-updated-index-rule-binding")},
		})
	})

	It("keeps the deletions across a restart", func(ctx SpecContext) {
		Expect(srv.Restart()).To(Succeed())
		_, err := reg.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: "test-trace-group", Name: "sw"}})
		Expect(status.Code(err)).To(Equal(codes.NotFound))
		_, err = reg.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: "zipkinTrace"})
		Expect(status.Code(err)).To(Equal(codes.NotFound))
		_, err = reg.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: "test-trace-group"})
		Expect(err).NotTo(HaveOccurred())
		// The deletion's task outlives both the group and the server's restart.
		task, err := reg.groups.Query(ctx, &databasev1.GroupRegistryServiceQueryRequest{Group: "zipkinTrace"})
		Expect(err).NotTo(HaveOccurred())
		Expect(task.GetTask().GetCurrentPhase()).To(Equal(databasev1.GroupDeletionTask_PHASE_COMPLETED))
		Expect(task.GetTask().GetDeletedCounts()).To(HaveKeyWithValue("traces", int32(1)))
	})
})

// find returns the resource of all with the group and name (groups have no group: ""), failing
// the spec when there is none.
func find[T interface{ GetMetadata() *commonv1.Metadata }](all []T, group, name string) T {
	for _, x := range all {
		if x.GetMetadata().GetGroup() == group && x.GetMetadata().GetName() == name {
			return x
		}
	}
	Fail("no resource " + group + "/" + name)
	var none T
	return none
}

// replace swaps the resource with m's group and name for m.
func replace[T interface {
	*P
	proto.Message
	GetMetadata() *commonv1.Metadata
}, P any](all []T, m T) []T {
	out := make([]T, 0, len(all))
	for _, x := range all {
		if x.GetMetadata().GetGroup() == m.GetMetadata().GetGroup() && x.GetMetadata().GetName() == m.GetMetadata().GetName() {
			out = append(out, m)
			continue
		}
		out = append(out, x)
	}
	return out
}

// The in-process trace service follows the registry: a trace appears after it is created and is
// gone (ErrTraceNotExist) after it is deleted.
var _ = Describe("Trace service of an in-process standalone node", Ordered, func() {
	var (
		node *helpers.InProcess
		conn *grpc.ClientConn
		reg  registry
		md   = &commonv1.Metadata{Group: "inprocess-group", Name: "sw"}
	)

	BeforeAll(func() {
		var err error
		node, err = helpers.StartInProcess()
		Expect(err).NotTo(HaveOccurred())
		conn, err = helpers.Dial(node.Addr)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			Expect(conn.Close()).To(Succeed())
			Expect(node.Stop()).To(Succeed())
		})
		reg = newRegistry(conn)
	})

	It("does not know a trace before it is created", func() {
		_, err := node.Node.Trace.Trace(md)
		Expect(err).To(MatchError(trace.ErrTraceNotExist))
	})

	It("loads a trace once it is created", func(ctx SpecContext) {
		s, err := helpers.ReadSchemas()
		Expect(err).NotTo(HaveOccurred())
		c := s.ForGroup("test-trace-group", md.GetGroup())
		Expect(helpers.CreateSchemas(ctx, conn, c, false)).To(Succeed())
		Eventually(func(g Gomega) {
			t, err := node.Node.Trace.Trace(md)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cmp.Diff(c.Traces[0], t.GetSchema(), ignoreServerFields)).To(BeEmpty())
			g.Expect(t.GetIndexRules()).To(HaveLen(2), "both bound rules are loaded")
		}).Should(Succeed())
	})

	It("drops a trace once it is deleted", func(ctx SpecContext) {
		_, err := reg.traces.Delete(ctx, &databasev1.TraceRegistryServiceDeleteRequest{Metadata: md})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error {
			_, err := node.Node.Trace.Trace(md)
			return err
		}).Should(MatchError(trace.ErrTraceNotExist))
	})

	It("loads it again when it is created again", func(ctx SpecContext) {
		s, err := helpers.ReadSchemas()
		Expect(err).NotTo(HaveOccurred())
		t := s.ForGroup("test-trace-group", md.GetGroup()).Traces[0]
		_, err = reg.traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: t})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error {
			_, err := node.Node.Trace.Trace(md)
			return err
		}).Should(Succeed())
	})

	It("drops the traces of a deleted group", func(ctx SpecContext) {
		_, err := reg.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: md.GetGroup()})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error {
			_, err := node.Node.Trace.Trace(md)
			return err
		}).Should(MatchError(trace.ErrTraceNotExist))
		Eventually(func() bool {
			_, ok := node.Node.Trace.LoadGroup(md.GetGroup())
			return ok
		}).Should(BeFalse(), "the group is closed")
	})
})
