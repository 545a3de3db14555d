// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
	"github.com/apache/skywalking-banyandb/test/testenv"
	"github.com/apache/skywalking-banyandb/test/testenv/metarepo"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// --- a standalone trace service on real storage -----------------------------------------------

type env struct {
	t    testing.TB
	md   *metarepo.Memory
	svc  Service
	s    *standalone
	root string
	fx   testenv.Schemas
}

func newMemoryProtector(t testing.TB) protector.Memory {
	t.Helper()
	pm := protector.NewMemory(nil)
	testenv.PreRun(t, pm)
	return pm
}

// newEnv starts a standalone trace service over a temp dir.
func newEnv(t testing.TB, args ...string) *env {
	t.Helper()
	return newEnvAt(t, t.TempDir(), args...)
}

// newEnvAt starts a standalone trace service whose root path is root.
func newEnvAt(t testing.TB, root string, args ...string) *env {
	t.Helper()
	return newEnvWith(t, root, newMemoryProtector(t), args...)
}

// newEnvWith starts a standalone trace service whose root path is root and memory protector pm,
// fed by an in-memory metadata repository.
func newEnvWith(t testing.TB, root string, pm protector.Memory, args ...string) *env {
	t.Helper()
	md := metarepo.NewMemory()
	svc, err := NewService(md, nil, observability.NewBypassRegistry(), pm)
	if err != nil {
		t.Fatal(err)
	}
	testenv.PreRun(t, svc, append([]string{"--trace-root-path=" + root}, args...)...)
	t.Cleanup(svc.GracefulStop)
	return &env{t: t, md: md, svc: svc, s: svc.(*standalone), root: root, fx: testenv.LoadSchemas(t)}
}

// withSW creates test-trace-group with the sw trace bound to the duration and timestamp rules.
func (e *env) withSW() *env {
	e.md.Put(e.fx.SWGroup)
	e.md.Put(e.fx.Duration)
	e.md.Put(e.fx.Timestamp)
	e.md.Put(e.fx.SWBinding)
	e.md.Put(e.fx.SW)
	return e
}

// withZipkin creates zipkinTrace with the zipkin trace bound to zipkin-timestamp.
func (e *env) withZipkin() *env {
	e.md.Put(e.fx.ZipkinGroup)
	e.md.Put(e.fx.ZipkinTimestamp)
	e.md.Put(e.fx.ZipkinBinding)
	e.md.Put(e.fx.Zipkin)
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
