// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/schema"
	"github.com/apache/skywalking-banyandb/test/testenv"
	"github.com/apache/skywalking-banyandb/test/testenv/metarepo"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// watcher is the in-memory metadata repository a test's repository watches. The tests send it
// the events as given (Send), rather than through the store, which would renumber revisions:
// they check how the repository takes exact repeats and stray deletions.
type watcher struct{ *metarepo.Memory }

func newWatcher() watcher { return watcher{metarepo.NewMemory()} }

// add tells the repository spec was created or updated.
func (w watcher) add(spec proto.Message) {
	w.Send(schema.Metadata{Kind: metarepo.KindOf(spec), Spec: spec}, false)
}

// del tells the repository spec was deleted.
func (w watcher) del(spec proto.Message) {
	w.Send(schema.Metadata{Kind: metarepo.KindOf(spec), Spec: spec}, true)
}

// fakeDB records what the repository does to a group's database.
type fakeDB struct {
	group   string
	mu      sync.Mutex
	closed  int
	dropped int
	updates []*commonv1.Group
	// onDisk runs inside Close and Drop, as the disk work of a real database would.
	onDisk func()
}

func (d *fakeDB) Close() error {
	d.disk()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed++
	return nil
}

func (d *fakeDB) Drop() error {
	d.disk()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropped++
	return nil
}

func (d *fakeDB) disk() {
	d.mu.Lock()
	f := d.onDisk
	d.mu.Unlock()
	if f != nil {
		f()
	}
}

func (d *fakeDB) UpdateOptions(g *commonv1.Group) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.updates = append(d.updates, g)
	return nil
}

func (d *fakeDB) counts() (closed, dropped, updates int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed, d.dropped, len(d.updates)
}

// fakeListener records the rule sets a resource is told about.
type fakeListener struct {
	mu      sync.Mutex
	schema  schema.ResourceSchema
	initial []*databasev1.IndexRule
	updates [][]*databasev1.IndexRule
}

func (l *fakeListener) OnIndexUpdate(rules []*databasev1.IndexRule) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.updates = append(l.updates, rules)
}

func (l *fakeListener) updateCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.updates)
}

func (l *fakeListener) lastUpdate() []*databasev1.IndexRule {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.updates) == 0 {
		return nil
	}
	return l.updates[len(l.updates)-1]
}

// fakeSupplier opens resources as fakeListeners and, as a schema.DBSupplier, groups as fakeDBs.
type fakeSupplier struct {
	mu         sync.Mutex
	opened     []*fakeListener
	dbs        []*fakeDB
	failOpenDB map[string]bool
	failOpen   map[string]bool
	// onOpenDB runs inside OpenDB, as the disk work of opening a database would.
	onOpenDB func()
}

func newFakeSupplier() *fakeSupplier {
	return &fakeSupplier{failOpenDB: map[string]bool{}, failOpen: map[string]bool{}}
}

func (s *fakeSupplier) OpenResource(spec schema.Resource) (schema.IndexListener, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := spec.Schema().GetMetadata().GetName()
	if s.failOpen[name] {
		return nil, errors.New("open refused")
	}
	l := &fakeListener{schema: spec.Schema(), initial: spec.IndexRules()}
	s.opened = append(s.opened, l)
	return l, nil
}

func (s *fakeSupplier) OpenDB(g *commonv1.Group) (schema.DB, error) {
	s.mu.Lock()
	hook := s.onOpenDB
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := g.GetMetadata().GetName()
	if s.failOpenDB[name] {
		return nil, errors.New("disk on fire")
	}
	db := &fakeDB{group: name}
	s.dbs = append(s.dbs, db)
	return db, nil
}

func (s *fakeSupplier) dbsOf(group string) []*fakeDB {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*fakeDB
	for _, db := range s.dbs {
		if db.group == group {
			out = append(out, db)
		}
	}
	return out
}

func (s *fakeSupplier) openedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.opened)
}

// resourceOnlySupplier is a supplier without OpenDB, like a liaison's.
type resourceOnlySupplier struct{ inner *fakeSupplier }

func (s resourceOnlySupplier) OpenResource(spec schema.Resource) (schema.IndexListener, error) {
	return s.inner.OpenResource(spec)
}

func newTestRepo(t *testing.T, portable bool) (schema.Repository, watcher, *fakeSupplier) {
	t.Helper()
	w := newWatcher()
	sup := newFakeSupplier()
	l := logger.GetLogger("test", "schema")
	var r schema.Repository
	if portable {
		r = schema.NewPortableRepository(w, commonv1.Catalog_CATALOG_TRACE, sup, l)
	} else {
		r = schema.NewRepository(w, commonv1.Catalog_CATALOG_TRACE, sup, l)
	}
	r.Watch()
	t.Cleanup(r.Close)
	return r, w, sup
}

func ruleNames(rules []*databasev1.IndexRule) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, r.GetMetadata().GetName())
	}
	return out
}

func md(group, name string) *commonv1.Metadata {
	return &commonv1.Metadata{Group: group, Name: name}
}

func listenerOf(t *testing.T, r schema.Repository, group, name string) *fakeListener {
	t.Helper()
	res, ok := r.LoadResource(md(group, name))
	if !ok {
		t.Fatalf("resource %s/%s is not loaded", group, name)
	}
	l, ok := res.Delegated().(*fakeListener)
	if !ok {
		t.Fatalf("Delegated() = %T, want the supplier's listener", res.Delegated())
	}
	return l
}

func TestWatchRegistersTheRepositoryForEverySchemaKind(t *testing.T) {
	_, w, _ := newTestRepo(t, false)
	regs := w.Registrations()
	if len(regs) != 1 {
		t.Fatalf("RegisterHandler called %d times, want 1", len(regs))
	}
	if regs[0].Name == "" {
		t.Error("the handler has no name")
	}
	want := map[schema.Kind]bool{
		schema.KindGroup: true, schema.KindTrace: true, schema.KindIndexRule: true, schema.KindIndexRuleBinding: true,
	}
	got := map[schema.Kind]bool{}
	for _, k := range regs[0].Kinds {
		got[k] = true
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kinds = %v, want %v", regs[0].Kinds, want)
	}
}

func TestGroupsOfOtherCatalogsAreIgnored(t *testing.T) {
	f := testenv.LoadSchemas(t)
	for _, catalog := range []commonv1.Catalog{
		commonv1.Catalog_CATALOG_STREAM, commonv1.Catalog_CATALOG_MEASURE,
		commonv1.Catalog_CATALOG_PROPERTY, commonv1.Catalog_CATALOG_UNSPECIFIED,
	} {
		t.Run(catalog.String(), func(t *testing.T) {
			r, w, sup := newTestRepo(t, false)
			g := testenv.Clone(f.SWGroup)
			g.Catalog = catalog
			w.add(g)
			if _, ok := r.LoadGroup(g.GetMetadata().GetName()); ok {
				t.Fatal("a group of another catalog was loaded")
			}
			if n := len(sup.dbsOf(g.GetMetadata().GetName())); n != 0 {
				t.Fatalf("OpenDB called %d times for a group of another catalog", n)
			}
			// A trace of that group has nowhere to go.
			w.add(testenv.Clone(f.SW))
			if _, ok := r.LoadResource(f.SW.GetMetadata()); ok {
				t.Fatal("a trace of an ignored group was opened")
			}
			if len(r.Groups()) != 0 {
				t.Fatalf("Groups() = %d groups, want 0", len(r.Groups()))
			}
			// Deleting it does nothing either.
			w.del(g)
		})
	}
}

func TestTracesAreIgnoredByRepositoriesOfOtherCatalogs(t *testing.T) {
	f := testenv.LoadSchemas(t)
	w := newWatcher()
	sup := newFakeSupplier()
	r := schema.NewRepository(w, commonv1.Catalog_CATALOG_STREAM, sup, logger.GetLogger("test"))
	r.Watch()
	defer r.Close()
	g := testenv.Clone(f.SWGroup)
	g.Catalog = commonv1.Catalog_CATALOG_STREAM
	w.add(g)
	if _, ok := r.LoadGroup(g.GetMetadata().GetName()); !ok {
		t.Fatal("the stream repository did not load its stream group")
	}
	w.add(testenv.Clone(f.SW))
	if _, ok := r.LoadResource(f.SW.GetMetadata()); ok {
		t.Fatal("a stream repository opened a trace")
	}
	if sup.openedCount() != 0 {
		t.Fatalf("OpenResource called %d times", sup.openedCount())
	}
}

func TestGroupLifecycleDrivesTheDatabase(t *testing.T) {
	f := testenv.LoadSchemas(t)
	r, w, sup := newTestRepo(t, false)
	name := f.SWGroup.GetMetadata().GetName()

	w.add(testenv.Clone(f.SWGroup))
	g, ok := r.LoadGroup(name)
	if !ok {
		t.Fatal("group not loaded")
	}
	dbs := sup.dbsOf(name)
	if len(dbs) != 1 {
		t.Fatalf("OpenDB called %d times, want 1", len(dbs))
	}
	if g.SupplyTSDB() != schema.DB(dbs[0]) {
		t.Fatal("SupplyTSDB does not return the opened database")
	}
	if !proto.Equal(g.GetSchema(), f.SWGroup) {
		t.Fatal("GetSchema differs from the group's spec")
	}
	w.add(testenv.Clone(f.SW))

	// An update reaches the open database and every open resource; nothing is reopened.
	updated := testenv.Clone(f.SWGroup)
	updated.ResourceOpts.Ttl.Num = 9
	w.add(updated)
	if n := len(sup.dbsOf(name)); n != 1 {
		t.Fatalf("an update opened the database again: %d opens", n)
	}
	if _, _, u := dbs[0].counts(); u != 1 {
		t.Fatalf("UpdateOptions called %d times, want 1", u)
	}
	if got := dbs[0].updates[0]; !proto.Equal(got, updated) {
		t.Fatalf("UpdateOptions got %v, want the new spec", got)
	}
	g, _ = r.LoadGroup(name)
	if g.GetSchema().GetResourceOpts().GetTtl().GetNum() != 9 {
		t.Fatal("LoadGroup does not show the updated spec")
	}
	if g.SupplyTSDB() != schema.DB(dbs[0]) {
		t.Fatal("the update replaced the database")
	}
	res, ok := r.LoadResource(f.SW.GetMetadata())
	if !ok {
		t.Fatal("the update unloaded the trace")
	}
	if res.Group().GetSchema().GetResourceOpts().GetTtl().GetNum() != 9 {
		t.Fatal("the open trace still sees the old group spec")
	}
	if sup.openedCount() != 1 {
		t.Fatalf("a group update reopened resources: %d opens", sup.openedCount())
	}

	// Deleting the group drops its database once and unloads everything in it.
	w.del(testenv.Clone(f.SWGroup))
	if _, dropped, _ := dbs[0].counts(); dropped != 1 {
		t.Fatalf("Drop called %d times, want 1", dropped)
	}
	if _, ok := r.LoadGroup(name); ok {
		t.Fatal("deleted group still loaded")
	}
	if _, ok := r.LoadResource(f.SW.GetMetadata()); ok {
		t.Fatal("a trace of a deleted group is still loaded")
	}
	w.del(testenv.Clone(f.SWGroup))
	if _, dropped, _ := dbs[0].counts(); dropped != 1 {
		t.Fatalf("deleting a missing group dropped again: %d drops", dropped)
	}

	// Re-creating it opens a new database.
	w.add(testenv.Clone(f.SWGroup))
	if n := len(sup.dbsOf(name)); n != 2 {
		t.Fatalf("re-created group: %d opens, want 2", n)
	}
	r.Close()
	if closed, _, _ := dbs[0].counts(); closed != 0 {
		t.Fatalf("Close closed the dropped database %d times", closed)
	}
	if closed, _, _ := sup.dbsOf(name)[1].counts(); closed != 1 {
		t.Fatalf("Close closed the live database %d times, want 1", closed)
	}
}

func TestOpenDBFailureLeavesTheGroupUnloadedUntilAnUpdate(t *testing.T) {
	f := testenv.LoadSchemas(t)
	r, w, sup := newTestRepo(t, false)
	name := f.SWGroup.GetMetadata().GetName()
	sup.failOpenDB[name] = true
	w.add(testenv.Clone(f.SWGroup))
	if _, ok := r.LoadGroup(name); ok {
		t.Fatal("a group whose database failed to open is loaded")
	}
	w.add(testenv.Clone(f.SW))
	if _, ok := r.LoadResource(f.SW.GetMetadata()); ok {
		t.Fatal("a trace of an unopened group was opened")
	}
	sup.mu.Lock()
	sup.failOpenDB[name] = false
	sup.mu.Unlock()
	w.add(testenv.Clone(f.SWGroup))
	if _, ok := r.LoadGroup(name); !ok {
		t.Fatal("the next event of the group did not retry OpenDB")
	}
	if n := len(sup.dbsOf(name)); n != 1 {
		t.Fatalf("%d databases opened, want 1", n)
	}
}

func TestPortableRepositoryNeverOpensADatabase(t *testing.T) {
	f := testenv.LoadSchemas(t)
	r, w, sup := newTestRepo(t, true)
	w.add(testenv.Clone(f.SWGroup))
	w.add(testenv.Clone(f.Duration))
	w.add(testenv.Clone(f.Timestamp))
	w.add(testenv.Clone(f.SWBinding))
	w.add(testenv.Clone(f.SW))
	g, ok := r.LoadGroup(f.SWGroup.GetMetadata().GetName())
	if !ok {
		t.Fatal("the portable repository did not load the group")
	}
	if g.SupplyTSDB() != nil {
		t.Fatalf("SupplyTSDB() = %v on a portable repository, want nil", g.SupplyTSDB())
	}
	if len(sup.dbs) != 0 {
		t.Fatalf("OpenDB called %d times, want 0", len(sup.dbs))
	}
	l := listenerOf(t, r, "test-trace-group", "sw")
	if got := ruleNames(l.initial); !reflect.DeepEqual(got, []string{"duration", "timestamp"}) {
		t.Fatalf("rules = %v", got)
	}
	updated := testenv.Clone(f.SWGroup)
	updated.ResourceOpts.ShardNum = 4
	w.add(updated)
	w.del(updated)
	if len(sup.dbs) != 0 {
		t.Fatal("a portable repository opened a database on update or delete")
	}
	r.Close()

	// A supplier without OpenDB behaves the same under schema.NewRepository.
	w2 := newWatcher()
	r2 := schema.NewRepository(w2, commonv1.Catalog_CATALOG_TRACE, resourceOnlySupplier{inner: newFakeSupplier()}, logger.GetLogger("test"))
	r2.Watch()
	defer r2.Close()
	w2.add(testenv.Clone(f.SWGroup))
	g, ok = r2.LoadGroup(f.SWGroup.GetMetadata().GetName())
	if !ok || g.SupplyTSDB() != nil {
		t.Fatalf("group without a DBSupplier: loaded=%v db=%v", ok, g.SupplyTSDB())
	}
}

func TestResourcesOpenWithTheirBoundRules(t *testing.T) {
	f := testenv.LoadSchemas(t)
	otherRule := testenv.Clone(f.Duration)
	otherRule.Metadata.Name = "other"
	now := time.Now()
	binding := func(name string, rules ...string) *databasev1.IndexRuleBinding {
		b := testenv.Clone(f.SWBinding)
		b.Metadata.Name = name
		b.Rules = rules
		return b
	}
	expired := binding("expired", "duration")
	expired.ExpireAt = timestamppb.New(now.Add(-time.Hour))
	notYet := binding("not-yet", "duration")
	notYet.BeginAt = timestamppb.New(now.Add(time.Hour))
	otherSubject := binding("other-subject", "duration")
	otherSubject.Subject.Name = "zipkin"
	otherCatalog := binding("other-catalog", "duration")
	otherCatalog.Subject.Catalog = commonv1.Catalog_CATALOG_STREAM
	noTimes := binding("no-times", "timestamp")
	noTimes.BeginAt, noTimes.ExpireAt = nil, nil

	tests := []struct {
		name     string
		rules    []*databasev1.IndexRule
		bindings []*databasev1.IndexRuleBinding
		want     []string
	}{
		{name: "the fixture binding", rules: []*databasev1.IndexRule{f.Duration, f.Timestamp},
			bindings: []*databasev1.IndexRuleBinding{f.SWBinding}, want: []string{"duration", "timestamp"}},
		{name: "binding order, not rule-name order", rules: []*databasev1.IndexRule{f.Duration, f.Timestamp},
			bindings: []*databasev1.IndexRuleBinding{binding("b", "timestamp", "duration")}, want: []string{"timestamp", "duration"}},
		{name: "missing rules are skipped", rules: []*databasev1.IndexRule{f.Duration, f.Timestamp},
			bindings: []*databasev1.IndexRuleBinding{binding("b", "nope", "duration", "gone", "timestamp")}, want: []string{"duration", "timestamp"}},
		{name: "no rules exist", bindings: []*databasev1.IndexRuleBinding{f.SWBinding}, want: []string{}},
		{name: "no binding", rules: []*databasev1.IndexRule{f.Duration, f.Timestamp}, want: []string{}},
		{name: "expired binding", rules: []*databasev1.IndexRule{f.Duration},
			bindings: []*databasev1.IndexRuleBinding{expired}, want: []string{}},
		{name: "binding not active yet", rules: []*databasev1.IndexRule{f.Duration},
			bindings: []*databasev1.IndexRuleBinding{notYet}, want: []string{}},
		{name: "binding without times is always active", rules: []*databasev1.IndexRule{f.Timestamp},
			bindings: []*databasev1.IndexRuleBinding{noTimes}, want: []string{"timestamp"}},
		{name: "binding of another trace", rules: []*databasev1.IndexRule{f.Duration},
			bindings: []*databasev1.IndexRuleBinding{otherSubject}, want: []string{}},
		{name: "binding of another catalog", rules: []*databasev1.IndexRule{f.Duration},
			bindings: []*databasev1.IndexRuleBinding{otherCatalog}, want: []string{}},
		{name: "several bindings in name order, each rule once",
			rules: []*databasev1.IndexRule{f.Duration, f.Timestamp, otherRule},
			bindings: []*databasev1.IndexRuleBinding{
				binding("b-second", "duration", "timestamp"), binding("a-first", "other", "timestamp"), expired,
			},
			want: []string{"other", "timestamp", "duration"}},
	}
	for _, tt := range tests {
		for _, traceFirst := range []bool{false, true} {
			name := tt.name + "/rules first"
			if traceFirst {
				name = tt.name + "/trace first"
			}
			t.Run(name, func(t *testing.T) {
				r, w, _ := newTestRepo(t, false)
				w.add(testenv.Clone(f.SWGroup))
				if traceFirst {
					w.add(testenv.Clone(f.SW))
				}
				for _, b := range tt.bindings {
					w.add(testenv.Clone(b))
				}
				for _, rule := range tt.rules {
					w.add(testenv.Clone(rule))
				}
				if !traceFirst {
					w.add(testenv.Clone(f.SW))
				}
				res, ok := r.LoadResource(f.SW.GetMetadata())
				if !ok {
					t.Fatal("trace not loaded")
				}
				if got := ruleNames(res.IndexRules()); !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("IndexRules() = %v, want %v", got, tt.want)
				}
				l := listenerOf(t, r, "test-trace-group", "sw")
				got := ruleNames(l.initial)
				if traceFirst && l.updateCount() > 0 {
					got = ruleNames(l.lastUpdate())
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("the listener has %v, want %v", got, tt.want)
				}
			})
		}
	}
}

func TestOnIndexUpdateOnlyWhenTheRuleSetChanges(t *testing.T) {
	f := testenv.LoadSchemas(t)
	r, w, _ := newTestRepo(t, false)
	w.add(testenv.Clone(f.SWGroup))
	w.add(testenv.Clone(f.ZipkinGroup))
	w.add(testenv.Clone(f.SW))
	l := listenerOf(t, r, "test-trace-group", "sw")

	otherBinding := testenv.Clone(f.SWBinding)
	otherBinding.Metadata.Name = "zipkin-binding"
	otherBinding.Subject.Name = "zipkin"
	unboundRule := testenv.Clone(f.Duration)
	unboundRule.Metadata.Name = "unbound"
	changedDuration := testenv.Clone(f.Duration)
	changedDuration.Tags = []string{"service_id", "duration"}
	ruleInOtherGroup := testenv.Clone(f.Timestamp)
	ruleInOtherGroup.Metadata.Group = "zipkinTrace"
	bindingInOtherGroup := testenv.Clone(f.SWBinding)
	bindingInOtherGroup.Metadata.Group = "zipkinTrace"
	bindingWithNewTimes := testenv.Clone(f.SWBinding)
	bindingWithNewTimes.UpdatedAt = timestamppb.Now()

	steps := []struct {
		name      string
		apply     func()
		wantCalls int
		wantRules []string
	}{
		{name: "a rule that nothing binds", apply: func() { w.add(testenv.Clone(f.Duration)) }, wantCalls: 0},
		{name: "the binding", apply: func() { w.add(testenv.Clone(f.SWBinding)) }, wantCalls: 1, wantRules: []string{"duration"}},
		{name: "the second bound rule", apply: func() { w.add(testenv.Clone(f.Timestamp)) }, wantCalls: 2,
			wantRules: []string{"duration", "timestamp"}},
		{name: "the same binding again", apply: func() { w.add(testenv.Clone(f.SWBinding)) }, wantCalls: 2},
		{name: "the binding with only its update time changed", apply: func() { w.add(bindingWithNewTimes) }, wantCalls: 2},
		{name: "the same rule again", apply: func() { w.add(testenv.Clone(f.Timestamp)) }, wantCalls: 2},
		{name: "a binding of another trace", apply: func() { w.add(otherBinding) }, wantCalls: 2},
		{name: "an unbound rule", apply: func() { w.add(unboundRule) }, wantCalls: 2},
		{name: "rules and bindings of another group", apply: func() {
			w.add(ruleInOtherGroup)
			w.add(bindingInOtherGroup)
		}, wantCalls: 2},
		{name: "a bound rule's tags change", apply: func() { w.add(changedDuration) }, wantCalls: 3,
			wantRules: []string{"duration", "timestamp"}},
		{name: "nothing (the changed rule is the one handed out)", apply: func() {
			if got := l.lastUpdate()[0].GetTags(); !reflect.DeepEqual(got, changedDuration.GetTags()) {
				t.Fatalf("duration rule tags = %v, want the updated %v", got, changedDuration.GetTags())
			}
		}, wantCalls: 3},
		{name: "a bound rule is deleted", apply: func() { w.del(testenv.Clone(f.Timestamp)) }, wantCalls: 4,
			wantRules: []string{"duration"}},
		{name: "an unbound rule is deleted", apply: func() { w.del(unboundRule) }, wantCalls: 4},
		{name: "the binding is deleted", apply: func() { w.del(testenv.Clone(f.SWBinding)) }, wantCalls: 5, wantRules: []string{}},
		{name: "the binding is deleted again", apply: func() { w.del(testenv.Clone(f.SWBinding)) }, wantCalls: 5},
	}
	for _, s := range steps {
		s.apply()
		if got := l.updateCount(); got != s.wantCalls {
			t.Fatalf("after %s: OnIndexUpdate called %d times, want %d", s.name, got, s.wantCalls)
		}
		if s.wantRules != nil {
			if got := ruleNames(l.lastUpdate()); !reflect.DeepEqual(got, s.wantRules) {
				t.Fatalf("after %s: OnIndexUpdate got %v, want %v", s.name, got, s.wantRules)
			}
			res, _ := r.LoadResource(f.SW.GetMetadata())
			if got := ruleNames(res.IndexRules()); !reflect.DeepEqual(got, s.wantRules) {
				t.Fatalf("after %s: IndexRules() = %v, want %v", s.name, got, s.wantRules)
			}
		}
	}
}

func TestLoadResourceAndDelegated(t *testing.T) {
	f := testenv.LoadSchemas(t)
	r, w, sup := newTestRepo(t, false)
	if _, ok := r.LoadResource(f.SW.GetMetadata()); ok {
		t.Fatal("a resource is loaded before any event")
	}
	// A trace whose group is unknown is ignored.
	w.add(testenv.Clone(f.SW))
	if _, ok := r.LoadResource(f.SW.GetMetadata()); ok || sup.openedCount() != 0 {
		t.Fatal("a trace of an unknown group was opened")
	}
	w.add(testenv.Clone(f.SWGroup))
	w.add(testenv.Clone(f.ZipkinGroup))
	w.add(testenv.Clone(f.SW))
	w.add(testenv.Clone(f.Zipkin))

	tests := []struct {
		md     *commonv1.Metadata
		loaded bool
	}{
		{md: md("test-trace-group", "sw"), loaded: true},
		{md: md("zipkinTrace", "zipkin"), loaded: true},
		{md: md("test-trace-group", "zipkin"), loaded: false},
		{md: md("zipkinTrace", "sw"), loaded: false},
		{md: md("nope", "sw"), loaded: false},
		{md: md("", ""), loaded: false},
	}
	for _, tt := range tests {
		res, ok := r.LoadResource(tt.md)
		if ok != tt.loaded {
			t.Fatalf("LoadResource(%v) loaded=%v, want %v", tt.md, ok, tt.loaded)
		}
		if !ok {
			continue
		}
		if res.Schema().GetMetadata().GetName() != tt.md.GetName() || res.Schema().GetMetadata().GetGroup() != tt.md.GetGroup() {
			t.Fatalf("LoadResource(%v) returned %v", tt.md, res.Schema().GetMetadata())
		}
		l, ok := res.Delegated().(*fakeListener)
		if !ok || l.schema != res.Schema() {
			t.Fatalf("Delegated() of %v is not what the supplier opened for it", tt.md)
		}
		if res.Group().GetSchema().GetMetadata().GetName() != tt.md.GetGroup() {
			t.Fatalf("schema.Group() of %v is %s", tt.md, res.Group().GetSchema().GetMetadata().GetName())
		}
	}

	// An update reopens the trace with the new schema.
	updated := testenv.Clone(f.SW)
	updated.Tags = append(updated.Tags, &databasev1.TraceTagSpec{Name: "extra", Type: databasev1.TagType_TAG_TYPE_STRING})
	w.add(updated)
	res, _ := r.LoadResource(f.SW.GetMetadata())
	if got := len(res.Schema().(*databasev1.Trace).GetTags()); got != len(updated.GetTags()) {
		t.Fatalf("after an update the schema has %d tags, want %d", got, len(updated.GetTags()))
	}
	if res.Delegated().(*fakeListener).schema != res.Schema() {
		t.Fatal("the delegate was not reopened with the updated schema")
	}

	// A failing open leaves the resource unloaded.
	sup.mu.Lock()
	sup.failOpen["broken"] = true
	sup.mu.Unlock()
	broken := testenv.Clone(f.SW)
	broken.Metadata.Name = "broken"
	w.add(broken)
	if _, ok := r.LoadResource(broken.GetMetadata()); ok {
		t.Fatal("a resource whose open failed is loaded")
	}

	// Deleting unloads only that trace.
	w.del(testenv.Clone(f.SW))
	if _, ok := r.LoadResource(f.SW.GetMetadata()); ok {
		t.Fatal("a deleted trace is still loaded")
	}
	if _, ok := r.LoadResource(f.Zipkin.GetMetadata()); !ok {
		t.Fatal("deleting sw unloaded zipkin")
	}
	if len(r.Groups()) != 2 {
		t.Fatalf("Groups() has %d groups, want 2", len(r.Groups()))
	}
}

func TestWaitResource(t *testing.T) {
	f := testenv.LoadSchemas(t)

	t.Run("wakes when the resource appears", func(t *testing.T) {
		r, w, _ := newTestRepo(t, false)
		w.add(testenv.Clone(f.SWGroup))
		w.add(testenv.Clone(f.ZipkinGroup))
		type result struct {
			res schema.Resource
			err error
		}
		done := make(chan result, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		go func() {
			res, err := r.WaitResource(ctx, f.SW.GetMetadata())
			done <- result{res, err}
		}()
		// Another resource opening wakes the waiter, which must go on waiting.
		w.add(testenv.Clone(f.Zipkin))
		select {
		case got := <-done:
			t.Fatalf("WaitResource returned before its resource appeared: %v, %v", got.res, got.err)
		case <-time.After(50 * time.Millisecond):
		}
		w.add(testenv.Clone(f.SW))
		select {
		case got := <-done:
			if got.err != nil {
				t.Fatalf("WaitResource: %v", got.err)
			}
			if got.res.Schema().GetMetadata().GetName() != "sw" {
				t.Fatalf("WaitResource returned %v", got.res.Schema().GetMetadata())
			}
		case <-time.After(5 * time.Second):
			t.Fatal("WaitResource did not wake when the resource appeared")
		}
	})

	t.Run("returns at once when loaded", func(t *testing.T) {
		r, w, _ := newTestRepo(t, false)
		w.add(testenv.Clone(f.SWGroup))
		w.add(testenv.Clone(f.SW))
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // even a done context gets a loaded resource
		res, err := r.WaitResource(ctx, f.SW.GetMetadata())
		if err != nil || res == nil {
			t.Fatalf("WaitResource = %v, %v", res, err)
		}
	})

	t.Run("times out", func(t *testing.T) {
		r, w, _ := newTestRepo(t, false)
		w.add(testenv.Clone(f.SWGroup))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		start := time.Now()
		res, err := r.WaitResource(ctx, f.SW.GetMetadata())
		if !errors.Is(err, schema.ErrResourceNotLoaded) {
			t.Fatalf("WaitResource error = %v, want schema.ErrResourceNotLoaded", err)
		}
		if res != nil {
			t.Fatalf("WaitResource returned %v with an error", res)
		}
		if elapsed := time.Since(start); elapsed < 25*time.Millisecond {
			t.Fatalf("WaitResource gave up after %s, before its context ended", elapsed)
		}
	})
}

func TestCloseClosesEveryDatabaseOnce(t *testing.T) {
	f := testenv.LoadSchemas(t)
	r, w, sup := newTestRepo(t, false)
	w.add(testenv.Clone(f.SWGroup))
	w.add(testenv.Clone(f.ZipkinGroup))
	w.add(testenv.Clone(f.SW))
	r.Close()
	r.Close()
	for _, db := range sup.dbs {
		if closed, dropped, _ := db.counts(); closed != 1 || dropped != 0 {
			t.Fatalf("database of %s: closed %d times, dropped %d times; want 1 and 0", db.group, closed, dropped)
		}
	}
	if len(sup.dbs) != 2 {
		t.Fatalf("%d databases opened, want 2", len(sup.dbs))
	}
	// Events after Close change nothing.
	g := testenv.Clone(f.SWGroup)
	g.Metadata.Name = "late"
	w.add(g)
	if len(sup.dbs) != 2 {
		t.Fatal("a group event after Close opened a database")
	}
	w.del(testenv.Clone(f.SWGroup))
	for _, db := range sup.dbs {
		if _, dropped, _ := db.counts(); dropped != 0 {
			t.Fatal("a delete after Close dropped a database")
		}
	}
}

func TestConcurrentReadsDuringEvents(t *testing.T) {
	f := testenv.LoadSchemas(t)
	r, w, _ := newTestRepo(t, false)
	w.add(testenv.Clone(f.SWGroup))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if res, ok := r.LoadResource(f.SW.GetMetadata()); ok {
					_ = res.IndexRules()
					_ = res.Group().GetSchema()
				}
				_, _ = r.LoadGroup(f.SWGroup.GetMetadata().GetName())
				_ = r.Groups()
			}
		}()
	}
	for i := 0; i < 200; i++ {
		w.add(testenv.Clone(f.SW))
		w.add(testenv.Clone(f.Duration))
		w.add(testenv.Clone(f.SWBinding))
		w.del(testenv.Clone(f.Duration))
		if i%10 == 0 {
			w.add(testenv.Clone(f.SWGroup))
		}
	}
	close(stop)
	wg.Wait()
}

func TestBindingsStartAndStopApplyingOnTime(t *testing.T) {
	f := testenv.LoadSchemas(t)
	r, w, _ := newTestRepo(t, false)
	w.add(testenv.Clone(f.SWGroup))
	w.add(testenv.Clone(f.Duration))
	w.add(testenv.Clone(f.SW))
	now := time.Now()
	b := testenv.Clone(f.SWBinding)
	b.Rules = []string{"duration"}
	b.BeginAt = timestamppb.New(now.Add(150 * time.Millisecond))
	b.ExpireAt = timestamppb.New(now.Add(400 * time.Millisecond))
	w.add(b)
	rulesNow := func() []string {
		res, ok := r.LoadResource(f.SW.GetMetadata())
		if !ok {
			t.Fatal("trace not loaded")
		}
		return ruleNames(res.IndexRules())
	}
	if got := rulesNow(); len(got) != 0 {
		t.Fatalf("rules %v before the binding begins", got)
	}
	// No metadata event comes: the repository notices the boundaries by itself.
	waitFor(t, func() bool { return reflect.DeepEqual(rulesNow(), []string{"duration"}) }, "the binding to begin")
	waitFor(t, func() bool { return len(rulesNow()) == 0 }, "the binding to expire")
	l := listenerOf(t, r, "test-trace-group", "sw")
	if l.updateCount() < 2 {
		t.Fatalf("the listener saw %d rule updates, want the begin and the expiry", l.updateCount())
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The disk work of opening, dropping and closing a group's database runs outside the repository's
// lock: readers called from inside that work (as the writes and queries of other groups would
// arrive meanwhile) get their answers instead of waiting behind it (a lock held there would
// deadlock this test).
func TestDiskWorkRunsOutsideTheLock(t *testing.T) {
	f := testenv.LoadSchemas(t)
	r, w, sup := newTestRepo(t, false)
	other := testenv.Clone(f.SWGroup)
	other.Metadata.Name = "other"
	w.add(other)
	readers := 0
	read := func() {
		if _, ok := r.LoadGroup("other"); !ok {
			t.Error("a reader during disk work did not see the other group")
		}
		_ = r.Groups()
		readers++
	}
	sup.mu.Lock()
	sup.onOpenDB = read
	sup.mu.Unlock()
	w.add(testenv.Clone(f.SWGroup))
	if _, ok := r.LoadGroup(f.SWGroup.GetMetadata().GetName()); !ok {
		t.Fatal("the group opened outside the lock was not installed")
	}
	for _, db := range sup.dbs {
		db.mu.Lock()
		db.onDisk = read
		db.mu.Unlock()
	}
	w.del(testenv.Clone(f.SWGroup))
	if _, ok := r.LoadGroup(f.SWGroup.GetMetadata().GetName()); ok {
		t.Fatal("the deleted group is still loaded")
	}
	r.Close()
	if readers != 3 {
		t.Fatalf("%d readers ran during open, drop and close; want 3", readers)
	}
}
