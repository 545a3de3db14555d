// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

// sharedEtcd is one embedded etcd for the tests that do not restart it; each test uses its own
// namespace so that tests cannot see each other's keys.
var sharedEtcd *embeddedetcd.Server

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithEtcd(m, func(srv *embeddedetcd.Server) { sharedEtcd = srv }))
}

type etcdURLs struct{ client, peer string }

func randomURLs() (etcdURLs, error) {
	c, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		return etcdURLs{}, err
	}
	p, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		return etcdURLs{}, err
	}
	return etcdURLs{client: c, peer: p}, nil
}

// newTestRegistry opens a registry on the shared etcd in the test's namespace.
func newTestRegistry(t *testing.T) *etcdRegistry {
	t.Helper()
	return openRegistry(t, sharedEtcd.ClientURL(), testenv.Namespace(t))
}

func openRegistry(t *testing.T, endpoint, namespace string) *etcdRegistry {
	t.Helper()
	reg, err := NewEtcdRegistry(EtcdOptions{Endpoints: []string{endpoint}, Namespace: namespace, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open registry: %v", err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return reg.(*etcdRegistry)
}

// testCtx is the context of a test's calls and waits; its minute is a guard against a hang, far
// beyond what any call or wait takes even on a loaded machine.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func traceGroup(name string) *commonv1.Group {
	return &commonv1.Group{
		Metadata: &commonv1.Metadata{Name: name},
		Catalog:  commonv1.Catalog_CATALOG_TRACE,
		ResourceOpts: &commonv1.ResourceOpts{
			ShardNum:        2,
			SegmentInterval: &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 1},
			Ttl:             &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 3},
		},
	}
}

func traceSchema(group, name string) *databasev1.Trace {
	return &databasev1.Trace{
		Metadata: &commonv1.Metadata{Group: group, Name: name},
		Tags: []*databasev1.TraceTagSpec{
			{Name: "trace_id", Type: databasev1.TagType_TAG_TYPE_STRING},
			{Name: "span_id", Type: databasev1.TagType_TAG_TYPE_STRING},
			{Name: "timestamp", Type: databasev1.TagType_TAG_TYPE_TIMESTAMP},
		},
		TraceIdTagName:   "trace_id",
		SpanIdTagName:    "span_id",
		TimestampTagName: "timestamp",
	}
}

func indexRule(group, name string) *databasev1.IndexRule {
	return &databasev1.IndexRule{
		Metadata: &commonv1.Metadata{Group: group, Name: name},
		Tags:     []string{"timestamp"},
		Type:     databasev1.IndexRule_TYPE_TREE,
	}
}

func binding(group, name, trace string) *databasev1.IndexRuleBinding {
	return &databasev1.IndexRuleBinding{
		Metadata: &commonv1.Metadata{Group: group, Name: name},
		Rules:    []string{"timestamp"},
		Subject:  &databasev1.Subject{Catalog: commonv1.Catalog_CATALOG_TRACE, Name: trace},
		BeginAt:  timestamppb.New(time.Date(2021, 4, 15, 0, 0, 0, 0, time.UTC)),
		ExpireAt: timestamppb.New(time.Date(2121, 4, 15, 0, 0, 0, 0, time.UTC)),
	}
}

// must checks the result of a call: must(reg.GetGroup(ctx, "g"))(t) fails the test on an error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// event is one recorded handler call.
type event struct {
	spec      proto.Message
	op        string // "add" or "del"
	name      string // group/name
	createRev int64
	modRev    int64
	kind      Kind
}

func (e event) String() string { return fmt.Sprintf("%s %s %s", e.op, e.kind, e.name) }

// recorder is an EventHandler that records its calls.
type recorder struct {
	// block, when set, is called before recording (tests use it to hold the dispatcher).
	block  func(e event)
	events []event
	mu     sync.Mutex
}

func (r *recorder) record(op string, m Metadata) {
	md := m.Spec.(resource).GetMetadata()
	e := event{op: op, kind: m.Kind, name: qualified(md.GetGroup(), md.GetName()),
		createRev: md.GetCreateRevision(), modRev: md.GetModRevision(), spec: m.Spec}
	if r.block != nil {
		r.block(e)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) OnAddOrUpdate(m Metadata) { r.record("add", m) }
func (r *recorder) OnDelete(m Metadata)      { r.record("del", m) }

func (r *recorder) snapshot() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

// waitFor waits until at least n events are recorded and returns them all.
func (r *recorder) waitFor(t *testing.T, n int) []event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.snapshot()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d events, want %d: %v", len(got), n, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// names renders events as "op kind name" strings.
func names(events []event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.String()
	}
	return out
}

// eventually polls cond until it holds; it gives up when ctx ends (a test that hangs, not a
// deadline the condition must meet).
func eventually(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func clientLease(id int64) clientv3.LeaseID { return clientv3.LeaseID(id) }
