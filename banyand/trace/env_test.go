// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

func TestMain(m *testing.M) {
	// Every schema event and table open is logged at info; keep test output to what matters.
	if err := logger.Init(logger.Logging{Level: "error"}); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// --- schema fixtures -------------------------------------------------------------------------

// schemaTestdata returns shared/testdata/schema, which lives beside the repository root.
func schemaTestdata(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
	td := filepath.Join(dir, "pkg", "test", "trace", "testdata", "schema")
	if _, err := os.Stat(td); err != nil {
		t.Fatalf("the shared test data is missing: %v", err)
	}
	return td
}

func loadFixture[T proto.Message](t testing.TB, rel string, m T) T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(schemaTestdata(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, m); err != nil {
		t.Fatalf("parse %s: %v", rel, err)
	}
	return m
}

// fixtures holds the schemas of shared/testdata/schema.
type fixtures struct {
	swGroup       *commonv1.Group
	sw            *databasev1.Trace
	duration      *databasev1.IndexRule
	timestamp     *databasev1.IndexRule
	swBinding     *databasev1.IndexRuleBinding
	zipkinGroup   *commonv1.Group
	zipkin        *databasev1.Trace
	zipkinRule    *databasev1.IndexRule
	zipkinBinding *databasev1.IndexRuleBinding
}

func loadFixtures(t testing.TB) fixtures {
	t.Helper()
	return fixtures{
		swGroup:       loadFixture(t, "groups/test-trace-group.json", &commonv1.Group{}),
		sw:            loadFixture(t, "traces/sw.json", &databasev1.Trace{}),
		duration:      loadFixture(t, "index_rules/duration.json", &databasev1.IndexRule{}),
		timestamp:     loadFixture(t, "index_rules/timestamp.json", &databasev1.IndexRule{}),
		swBinding:     loadFixture(t, "index_rule_bindings/sw.json", &databasev1.IndexRuleBinding{}),
		zipkinGroup:   loadFixture(t, "groups/zipkin-trace-group.json", &commonv1.Group{}),
		zipkin:        loadFixture(t, "traces/zipkin.json", &databasev1.Trace{}),
		zipkinRule:    loadFixture(t, "index_rules/zipkin-timestamp.json", &databasev1.IndexRule{}),
		zipkinBinding: loadFixture(t, "index_rule_bindings/zipkin.json", &databasev1.IndexRuleBinding{}),
	}
}

func cloneMsg[T proto.Message](m T) T { return proto.Clone(m).(T) }

// --- a fake of the metadata transport ---------------------------------------------------------

// fakeMetadata is an in-memory metadata.Repo. It keeps the schema resources and the registered
// handlers, replays what exists to a new handler (groups first, as the etcd registry does) and
// lets a test push changes. Only the transport is fake: everything behind the handlers is real.
type fakeMetadata struct {
	mu        sync.Mutex
	resources map[schema.Kind]map[string]proto.Message
	handlers  []fakeHandler
	revision  int64
}

type fakeHandler struct {
	h     schema.EventHandler
	kinds map[schema.Kind]bool
	name  string
}

func newFakeMetadata() *fakeMetadata {
	return &fakeMetadata{resources: map[schema.Kind]map[string]proto.Message{}}
}

func kindOfSpec(spec proto.Message) schema.Kind {
	switch spec.(type) {
	case *commonv1.Group:
		return schema.KindGroup
	case *databasev1.Trace:
		return schema.KindTrace
	case *databasev1.IndexRule:
		return schema.KindIndexRule
	case *databasev1.IndexRuleBinding:
		return schema.KindIndexRuleBinding
	case *databasev1.Node:
		return schema.KindNode
	}
	return 0
}

type hasMetadata interface{ GetMetadata() *commonv1.Metadata }

func specKey(spec proto.Message) string {
	md := spec.(hasMetadata).GetMetadata()
	return md.GetGroup() + "/" + md.GetName()
}

// put stores a resource and tells every handler of its kind, like a registry write would.
func (f *fakeMetadata) put(spec proto.Message) {
	spec = proto.Clone(spec)
	kind := kindOfSpec(spec)
	f.mu.Lock()
	f.revision++
	md := spec.(hasMetadata).GetMetadata()
	if md.GetCreateRevision() == 0 {
		md.CreateRevision = f.revision
	}
	md.ModRevision = f.revision
	if rule, ok := spec.(*databasev1.IndexRule); ok && rule.GetMetadata().GetId() == 0 {
		// The registry gives every rule an id; the tables key their indexes by it.
		rule.Metadata.Id = schema.IndexRuleID(md.GetGroup(), md.GetName())
	}
	if f.resources[kind] == nil {
		f.resources[kind] = map[string]proto.Message{}
	}
	f.resources[kind][specKey(spec)] = spec
	handlers := f.handlersOf(kind)
	f.mu.Unlock()
	for _, h := range handlers {
		h.OnAddOrUpdate(schema.Metadata{Kind: kind, Spec: spec})
	}
}

// remove deletes a resource and tells every handler of its kind.
func (f *fakeMetadata) remove(spec proto.Message) {
	kind := kindOfSpec(spec)
	f.mu.Lock()
	stored, ok := f.resources[kind][specKey(spec)]
	delete(f.resources[kind], specKey(spec))
	handlers := f.handlersOf(kind)
	f.mu.Unlock()
	if !ok {
		return
	}
	for _, h := range handlers {
		h.OnDelete(schema.Metadata{Kind: kind, Spec: stored})
	}
}

func (f *fakeMetadata) handlersOf(kind schema.Kind) []schema.EventHandler {
	var out []schema.EventHandler
	for _, h := range f.handlers {
		if h.kinds[kind] {
			out = append(out, h.h)
		}
	}
	return out
}

func (f *fakeMetadata) RegisterHandler(name string, kinds []schema.Kind, h schema.EventHandler) {
	set := map[schema.Kind]bool{}
	for _, k := range kinds {
		set[k] = true
	}
	f.mu.Lock()
	f.handlers = append(f.handlers, fakeHandler{name: name, kinds: set, h: h})
	var replay []schema.Metadata
	for _, kind := range []schema.Kind{schema.KindGroup, schema.KindIndexRuleBinding, schema.KindIndexRule, schema.KindTrace} {
		if !set[kind] {
			continue
		}
		keys := make([]string, 0, len(f.resources[kind]))
		for k := range f.resources[kind] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			replay = append(replay, schema.Metadata{Kind: kind, Spec: f.resources[kind][k]})
		}
	}
	f.mu.Unlock()
	for _, m := range replay {
		h.OnAddOrUpdate(m)
	}
}

func (f *fakeMetadata) handlerCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.handlers)
}

func (f *fakeMetadata) GroupRegistry() schema.Group         { return fakeRegistry{f: f} }
func (f *fakeMetadata) TraceRegistry() schema.Trace         { return fakeRegistry{f: f} }
func (f *fakeMetadata) IndexRuleRegistry() schema.IndexRule { return fakeRegistry{f: f} }
func (f *fakeMetadata) IndexRuleBindingRegistry() schema.IndexRuleBinding {
	return fakeRegistry{f: f}
}
func (f *fakeMetadata) NodeRegistry() schema.Node { return fakeRegistry{f: f} }

// fakeRegistry answers the reads the trace service makes; the writes go through fakeMetadata.put.
// Methods the trace service never calls are left to the embedded nil interface.
type fakeRegistry struct {
	schema.Registry
	f *fakeMetadata
}

func (r fakeRegistry) GetTrace(_ context.Context, md *commonv1.Metadata) (*databasev1.Trace, error) {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	t, ok := r.f.resources[schema.KindTrace][md.GetGroup()+"/"+md.GetName()]
	if !ok {
		return nil, schema.ErrNotFound
	}
	return proto.Clone(t).(*databasev1.Trace), nil
}

func (r fakeRegistry) GetGroup(_ context.Context, name string) (*commonv1.Group, error) {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	g, ok := r.f.resources[schema.KindGroup]["/"+name]
	if !ok {
		return nil, schema.ErrNotFound
	}
	return proto.Clone(g).(*commonv1.Group), nil
}

// --- a standalone trace service on real storage -----------------------------------------------

type env struct {
	t    testing.TB
	md   *fakeMetadata
	svc  Service
	s    *standalone
	root string
	fx   fixtures
}

func newMemoryProtector(t testing.TB) protector.Memory {
	t.Helper()
	pm := protector.NewMemory(nil)
	if err := pm.PreRun(context.Background()); err != nil {
		t.Fatalf("memory protector PreRun: %v", err)
	}
	return pm
}

// newEnv starts a standalone trace service over a temp dir, fed by a fake metadata transport.
func newEnv(t testing.TB, args ...string) *env {
	t.Helper()
	return newEnvAt(t, t.TempDir(), args...)
}

// newEnvAt starts a standalone trace service whose root path is root.
func newEnvAt(t testing.TB, root string, args ...string) *env {
	t.Helper()
	return newEnvWith(t, root, newMemoryProtector(t), args...)
}

// newEnvWith starts a standalone trace service whose root path is root and memory protector pm.
func newEnvWith(t testing.TB, root string, pm protector.Memory, args ...string) *env {
	t.Helper()
	md := newFakeMetadata()
	svc, err := NewService(md, nil, observability.NewBypassRegistry(), pm)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.FlagSet().Parse(append([]string{"--trace-root-path=" + root}, args...)); err != nil {
		t.Fatal(err)
	}
	if err := svc.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := svc.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.GracefulStop)
	return &env{t: t, md: md, svc: svc, s: svc.(*standalone), root: root, fx: loadFixtures(t)}
}

// withSW creates test-trace-group with the sw trace bound to the duration and timestamp rules.
func (e *env) withSW() *env {
	e.md.put(e.fx.swGroup)
	e.md.put(e.fx.duration)
	e.md.put(e.fx.timestamp)
	e.md.put(e.fx.swBinding)
	e.md.put(e.fx.sw)
	return e
}

// withZipkin creates zipkinTrace with the zipkin trace bound to zipkin-timestamp.
func (e *env) withZipkin() *env {
	e.md.put(e.fx.zipkinGroup)
	e.md.put(e.fx.zipkinRule)
	e.md.put(e.fx.zipkinBinding)
	e.md.put(e.fx.zipkin)
	return e
}

func (e *env) trace(group, name string) *trace {
	e.t.Helper()
	tr, err := e.svc.Trace(&commonv1.Metadata{Group: group, Name: name})
	if err != nil {
		e.t.Fatalf("Trace(%s/%s): %v", group, name, err)
	}
	return tr.(*trace)
}

// write hands a batch of spans the data side validates itself (as a data node does with spans a
// liaison of another schema revision sent) to the data side and returns the statuses.
func (e *env) write(reqs ...*tracev1.InternalWriteRequest) []modelv1.Status {
	e.t.Helper()
	batch := make([]queue.Span, len(reqs))
	for i, r := range reqs {
		batch[i] = queue.Span{Request: r.GetRequest(), Shard: r.GetShardId()}
	}
	statuses, err := e.s.WriteSpans(context.Background(), batch)
	if err != nil {
		e.t.Fatalf("write: %v", err)
	}
	if len(statuses) != len(reqs) {
		e.t.Fatalf("%d statuses for %d requests", len(statuses), len(reqs))
	}
	return statuses
}

// mustWrite writes a batch and fails unless every span is stored.
func (e *env) mustWrite(reqs ...*tracev1.InternalWriteRequest) {
	e.t.Helper()
	for i, st := range e.write(reqs...) {
		if st != modelv1.Status_STATUS_SUCCEED {
			e.t.Fatalf("span %d (%v) not stored: %s", i, reqs[i].GetRequest().GetTags(), st)
		}
	}
}

// --- sw spans ---------------------------------------------------------------------------------

// swSpan is one span of the sw trace; its tags go in the schema's order.
type swSpan struct {
	traceID, spanID             string
	at                          time.Time
	service, instance, endpoint string
	state, duration             int64
}

func (s swSpan) tags() []*modelv1.TagValue {
	return []*modelv1.TagValue{
		strValue(s.traceID), i64(s.state), strValue(s.service), strValue(s.instance), strValue(s.endpoint),
		i64(s.duration), strValue(s.spanID), ts(s.at),
	}
}

func (s swSpan) payload() []byte { return []byte(s.traceID + "/" + s.spanID) }

func (s swSpan) request() *tracev1.InternalWriteRequest {
	return internalRequest("test-trace-group", "sw", s.payload(), s.tags()...)
}

func internalRequest(group, name string, payload []byte, tags ...*modelv1.TagValue) *tracev1.InternalWriteRequest {
	return &tracev1.InternalWriteRequest{Request: &tracev1.WriteRequest{
		Metadata: &commonv1.Metadata{Group: group, Name: name},
		Tags:     tags,
		Span:     payload,
		Version:  1,
	}}
}

func requests(spans []swSpan) []*tracev1.InternalWriteRequest {
	out := make([]*tracev1.InternalWriteRequest, len(spans))
	for i, s := range spans {
		out[i] = s.request()
	}
	return out
}

// testDay is the UTC day the test binary started in; fixed once so that a run across midnight
// does not see two different "todays".
var testDay = sync.OnceValue(func() time.Time { return time.Now().UTC().Truncate(24 * time.Hour) })

// days returns the start of yesterday and of today (UTC): two segments of a one-day interval.
func days() (yesterday, today time.Time) {
	today = testDay()
	return today.Add(-24 * time.Hour), today
}

func timeRange(begin, end time.Time) timestamp.TimeRange {
	return timestamp.NewInclusiveTimeRange(begin, end)
}

func orderBy(rule string, sort modelv1.Sort) *modelv1.QueryOrder {
	return &modelv1.QueryOrder{IndexRuleName: rule, Sort: sort}
}

// ids returns the trace ids of a result in order.
func ids(res []*tracev1.InternalTrace) []string {
	out := []string{}
	for _, tr := range res {
		out = append(out, tr.TraceId)
	}
	return out
}
