// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
	"github.com/apache/skywalking-banyandb/pkg/fs"
	"github.com/apache/skywalking-banyandb/test/testenv"
	"github.com/apache/skywalking-banyandb/test/testenv/metarepo"
)

func TestWriteStatusesPerSpan(t *testing.T) {
	e := newEnv(t, "--trace-metadata-cache-wait-duration=0").withSW()
	_, today := days()
	good := swSpan{traceID: "good", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 1}
	good2 := swSpan{traceID: "good2", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 2}
	noTraceID := good.tags()
	noTraceID[0] = null()
	tooOld := swSpan{traceID: "old", spanID: "s", at: today.Add(-10 * 24 * time.Hour), service: "svc"}
	subMilli := swSpan{traceID: "sub", spanID: "s", at: today.Add(time.Microsecond), service: "svc"}
	tests := []struct {
		name string
		req  *tracev1.InternalWriteRequest
		want modelv1.Status
	}{
		{name: "a good span", req: good.request(), want: modelv1.Status_STATUS_SUCCEED},
		{name: "unknown trace", req: internalRequest("test-trace-group", "nope", nil, good.tags()...), want: modelv1.Status_STATUS_NOT_FOUND},
		{name: "unknown group", req: internalRequest("nope", "sw", nil, good.tags()...), want: modelv1.Status_STATUS_NOT_FOUND},
		{name: "no metadata", req: &tracev1.InternalWriteRequest{Request: &tracev1.WriteRequest{Tags: good.tags()}},
			want: modelv1.Status_STATUS_NOT_FOUND},
		{name: "no trace id", req: internalRequest("test-trace-group", "sw", nil, noTraceID...), want: modelv1.Status_STATUS_INVALID_TIMESTAMP},
		{name: "more values than tags", req: internalRequest("test-trace-group", "sw", nil, append(good.tags(), str("x"))...),
			want: modelv1.Status_STATUS_INVALID_TIMESTAMP},
		{name: "older than the TTL", req: tooOld.request(), want: modelv1.Status_STATUS_INVALID_TIMESTAMP},
		{name: "sub-millisecond timestamp", req: subMilli.request(), want: modelv1.Status_STATUS_INVALID_TIMESTAMP},
		{name: "another good span", req: good2.request(), want: modelv1.Status_STATUS_SUCCEED},
	}
	reqs := make([]*tracev1.InternalWriteRequest, len(tests))
	for i, tt := range tests {
		reqs[i] = tt.req
	}
	// One batch: a refused span fails alone.
	statuses := e.write(reqs...)
	for i, tt := range tests {
		if statuses[i] != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, statuses[i], tt.want)
		}
	}
	res := e.query(e.trace("test-trace-group", "sw"), QueryOptions{TimeRange: fullRange(),
		OrderBy: orderBy("duration", modelv1.Sort_SORT_ASC), MaxTraces: 10})
	if got := ids(res); !reflect.DeepEqual(got, []string{"good", "good2"}) {
		t.Fatalf("stored traces = %v, want the two good ones", got)
	}

	// The same span written again (a retry) is read once; a span that shares its id but differs
	// (here its duration) is another span: no dedup by span id alone.
	e.mustWrite(good.request())
	byGood := QueryOptions{TimeRange: fullRange(), Criteria: cond("trace_id", opEQ, str("good")), MaxTraces: 10}
	res = e.query(e.trace("test-trace-group", "sw"), byGood)
	if len(res) != 1 || len(res[0].Spans) != 1 {
		t.Fatalf("a span written twice: %v", res)
	}
	sameID := good
	sameID.duration = 7
	e.mustWrite(sameID.request())
	res = e.query(e.trace("test-trace-group", "sw"), byGood)
	if len(res) != 1 || len(res[0].Spans) != 2 {
		t.Fatalf("two spans of one id: %v", res)
	}

	// An empty batch has nothing to answer.
	if st := e.write(); len(st) != 0 {
		t.Fatalf("an empty batch got %v", st)
	}
}

func TestWriteWaitsForASchemaOnItsWay(t *testing.T) {
	e := newEnv(t, "--trace-metadata-cache-wait-duration=10s")
	e.md.Put(e.fx.SWGroup)
	_, today := days()
	span := swSpan{traceID: "early", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 1}
	done := make(chan []modelv1.Status, 1)
	go func() {
		st, err := e.s.WriteSpans(context.Background(), []queue.Span{{Request: span.request().GetRequest()}})
		if err != nil {
			t.Errorf("write: %v", err)
			done <- nil
			return
		}
		done <- st
	}()
	select {
	case st := <-done:
		t.Fatalf("a write for a schema that does not exist yet returned at once: %v", st)
	case <-time.After(100 * time.Millisecond):
	}
	e.md.Put(e.fx.Duration)
	e.md.Put(e.fx.SWBinding)
	e.md.Put(e.fx.SW)
	select {
	case st := <-done:
		if len(st) != 1 || st[0] != modelv1.Status_STATUS_SUCCEED {
			t.Fatalf("a write waiting for its schema got %v", st)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the write did not complete once its schema arrived")
	}
}

func TestWrittenSpansSurviveARestart(t *testing.T) {
	root := t.TempDir()
	e := newEnvAt(t, root).withSW()
	yesterday, today := days()
	spans := []swSpan{
		{traceID: "t1", spanID: "a", at: yesterday.Add(time.Hour), service: "svc", endpoint: "/x", duration: 5},
		{traceID: "t1", spanID: "b", at: today.Add(time.Hour), service: "svc", endpoint: "/y", duration: 7},
		{traceID: "t2", spanID: "a", at: today.Add(2 * time.Hour), service: "svc", endpoint: "/z", duration: 6},
	}
	e.mustWrite(requests(spans)...)
	e.svc.GracefulStop()

	again := newEnvAt(t, root).withSW()
	res := again.query(again.trace("test-trace-group", "sw"), QueryOptions{TimeRange: fullRange(),
		OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC), MaxTraces: 10, TagProjection: []string{"endpoint_id"}})
	if got := ids(res); !reflect.DeepEqual(got, []string{"t1", "t2"}) {
		t.Fatalf("after a restart: %v, want [t1 t2]", got)
	}
	if got := resultPayloads(res[0]); !reflect.DeepEqual(got, []string{"t1/a", "t1/b"}) {
		t.Fatalf("t1's spans after a restart: %v", got)
	}
}

func TestWriteRefusesWhenTheDiskIsFull(t *testing.T) {
	root := t.TempDir()
	used, err := fs.NewLocalFileSystem().DiskUsagePercent(root)
	if err != nil {
		t.Skipf("disk usage unknown here: %v", err)
	}
	if used < 1 {
		t.Skipf("the disk under %s is %d%% used; no threshold below that to test", root, used)
	}
	e := newEnvAt(t, root, "--trace-max-disk-usage-percent=1").withSW()
	_, today := days()
	st := e.write(swSpan{traceID: "t", spanID: "s", at: today.Add(time.Hour), service: "svc"}.request())
	if st[0] != modelv1.Status_STATUS_DISK_FULL {
		t.Fatalf("a write at %d%% disk usage with a 1%% limit: %s, want DISK_FULL", used, st[0])
	}
	// Nothing was stored: not even a segment was created.
	segs, err := filepath.Glob(filepath.Join(root, "trace", "data", "test-trace-group", "seg-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 0 {
		t.Fatalf("a refused write created segments %v", segs)
	}
	res := e.query(e.trace("test-trace-group", "sw"), QueryOptions{TimeRange: fullRange(),
		Criteria: cond("trace_id", opEQ, str("t")), MaxTraces: 1})
	if len(res) != 0 {
		t.Fatal("a span refused for a full disk was stored")
	}
}

func TestStoredTagsDropTheIDs(t *testing.T) {
	tl := newTagLocator(testenv.LoadSchemas(t).SW)
	tags := swSpan{traceID: "t", spanID: "s", at: time.Unix(1, 0), service: "svc", duration: 3}.tags()
	stored := storedTags(&tl, tags)
	if stored[tl.traceIDPos] != nil || stored[tl.spanIDPos] != nil {
		t.Fatal("the trace id and span id are stored as tags too")
	}
	if stored[2].GetStr().GetValue() != "svc" || stored[5].GetInt().GetValue() != 3 {
		t.Fatalf("ordinary tags changed: %v", stored)
	}
	if tags[0] == nil || tags[6] == nil {
		t.Fatal("storedTags modified the request's tags")
	}
	// Fewer values than the id positions: nothing to drop, nothing to panic on.
	short := storedTags(&tl, tags[:1])
	if len(short) != 1 || short[0] != nil {
		t.Fatalf("storedTags of one value = %v", short)
	}
}

func TestAWriteBatchWaitsForAMissingSchemaOnce(t *testing.T) {
	e := newEnv(t)
	md := &commonv1.Metadata{Group: "nope", Name: "sw"}
	waited := make(map[string]bool)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, ok := e.s.schemaRepo.traceForWrite(ctx, md, time.Hour, waited); ok {
		t.Fatal("found a trace that does not exist")
	}
	// The same batch asks again: it must not wait (an hour) a second time.
	if _, ok := e.s.schemaRepo.traceForWrite(context.Background(), md, time.Hour, waited); ok {
		t.Fatal("found a trace that does not exist")
	}
	// A schema that appears while a write waits for it is found.
	e2 := newEnv(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		e2.withSW()
	}()
	if _, ok := e2.s.schemaRepo.traceForWrite(context.Background(), &commonv1.Metadata{Group: "test-trace-group", Name: "sw"},
		time.Minute, map[string]bool{}); !ok {
		t.Fatal("the schema that appeared was not found")
	}
}

func TestWriteTrustsSpansOfItsOwnSchemaRevision(t *testing.T) {
	e := newEnv(t).withSW()
	_, today := days()
	rev := e.trace("test-trace-group", "sw").revision()
	tagged := swSpan{traceID: "from-tags", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 5}
	// Parsed by a front door of the same revision: the parsed values are used as given.
	trusted := queue.Span{Request: tagged.request().GetRequest(), TraceID: "parsed", SpanID: "s", Timestamp: tagged.at, Revision: rev,
		Shard: shardOf("parsed", 2)}
	// Sent by a liaison of the same revision, not parsed: read where the schema puts the values.
	sameRev := swSpan{traceID: "same-rev", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 6}
	// Validated against another revision: checked again, and a malformed one is refused.
	malformed := queue.Span{Request: internalRequest("test-trace-group", "sw", []byte("x"), i64(1)).GetRequest(), Revision: rev + 100}
	st, err := e.s.WriteSpans(context.Background(), []queue.Span{
		trusted,
		{Request: sameRev.request().GetRequest(), Revision: rev, Shard: shardOf("same-rev", 2)},
		malformed,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []modelv1.Status{modelv1.Status_STATUS_SUCCEED, modelv1.Status_STATUS_SUCCEED, modelv1.Status_STATUS_INVALID_TIMESTAMP}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("statuses %v, want %v", st, want)
	}
	res := e.query(e.trace("test-trace-group", "sw"), QueryOptions{TimeRange: fullRange(),
		OrderBy: orderBy("duration", modelv1.Sort_SORT_ASC), MaxTraces: 10})
	if got := ids(res); !reflect.DeepEqual(got, []string{"parsed", "same-rev"}) {
		t.Fatalf("stored traces = %v, want the parsed trace id and the one read from the tags", got)
	}
}

// BenchmarkDataSideSpanCheck measures what the data side spends per span before it batches it:
// trusting the front door's parse (same schema revision) against validating the span again and
// hashing its shard again, as every span was before the front door handed parsed spans over.
func BenchmarkDataSideSpanCheck(b *testing.B) {
	e := newEnv(b).withSW()
	tr := e.trace("test-trace-group", "sw")
	tl := &tr.loadIndexSchema().tags
	_, today := days()
	req := swSpan{traceID: "0123456789abcdef0123456789abcdef", spanID: "s1", at: today.Add(time.Hour), service: "svc",
		instance: "inst", endpoint: "/endpoint", duration: 12}.request().GetRequest()
	parsed := queue.Span{Request: req, TraceID: "0123456789abcdef0123456789abcdef", SpanID: "s1", Timestamp: today.Add(time.Hour),
		Revision: tr.revision(), Shard: 1}
	b.Run("trusted", func(b *testing.B) {
		for b.Loop() {
			if _, ok, _, _ := acceptSpan(tr, tl, &parsed); !ok {
				b.Fatal("not trusted")
			}
		}
	})
	b.Run("revalidated", func(b *testing.B) {
		unparsed := queue.Span{Request: req}
		for b.Loop() {
			ps, _, st, _ := acceptSpan(tr, tl, &unparsed)
			if st != modelv1.Status_STATUS_SUCCEED {
				b.Fatal(st)
			}
			_ = shardOf(ps.traceID, 2)
		}
	})
}

func TestATraceIDTooLongForTheTableFailsAlone(t *testing.T) {
	e := newEnv(t).withSW()
	_, today := days()
	long := swSpan{traceID: strings.Repeat("x", tstable.MaxTraceIDLen), spanID: "s", at: today.Add(time.Hour), service: "svc"}
	good := swSpan{traceID: "fits", spanID: "s", at: today.Add(time.Hour), service: "svc"}
	st := e.write(long.request(), good.request())
	if st[0] != modelv1.Status_STATUS_INVALID_TIMESTAMP || st[1] != modelv1.Status_STATUS_SUCCEED {
		t.Fatalf("statuses %v, want the long trace id refused and the other span stored", st)
	}
	ws, ok := e.s.ResolveWrite(context.Background(), e.fx.SW.GetMetadata(), map[string]bool{})
	if !ok {
		t.Fatal("sw not resolved")
	}
	if _, st, _ := ws.Parse(long.request().GetRequest()); st != modelv1.Status_STATUS_INVALID_TIMESTAMP {
		t.Fatalf("the front door's parse of a too-long trace id: %s", st)
	}
}

// benchRequests returns n write requests of the sw trace, ten spans per trace.
func benchRequests(n int) []*tracev1.WriteRequest {
	_, today := days()
	out := make([]*tracev1.WriteRequest, n)
	for i := range out {
		out[i] = swSpan{traceID: fmt.Sprintf("trace-%08d", i/10), spanID: fmt.Sprintf("span-%d", i%10), at: today.Add(time.Hour),
			service: "svc", instance: "inst", endpoint: "/endpoint", duration: int64(i)}.request().GetRequest()
	}
	return out
}

// BenchmarkStandaloneWritePath runs what a standalone server does with a stream batch of 1,000
// spans once it is decoded: the front door's steps (resolve the schema, validate and shard each
// request once) and the data side's write through queue.NewLocal into the tables.
func BenchmarkStandaloneWritePath(b *testing.B) {
	e := newEnv(b).withSW()
	reqs := benchRequests(1000)
	plane := queue.NewLocal(e.s)
	ctx := context.Background()
	batch := make([]queue.Span, 0, len(reqs))
	cpu0 := processCPU()
	for b.Loop() {
		ws, ok := e.s.ResolveWrite(ctx, reqs[0].GetMetadata(), map[string]bool{})
		if !ok {
			b.Fatal("sw not resolved")
		}
		batch = batch[:0]
		for _, r := range reqs {
			span, st, reason := ws.Parse(r)
			if st != modelv1.Status_STATUS_SUCCEED {
				b.Fatal(reason)
			}
			batch = append(batch, span)
		}
		st, err := plane.Write(ctx, "local", batch)
		if err != nil || st[0] != modelv1.Status_STATUS_SUCCEED {
			b.Fatal(err, st)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(reqs)), "ns/span")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N*len(reqs)), "cpu-ns/span")
}

// processCPU is the user and system CPU time of the process so far, background work included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestWriteRefusesSpansFromTheFuture(t *testing.T) {
	now := time.Now().Truncate(time.Millisecond)
	for _, tt := range []struct {
		name string
		args []string
		at   time.Time
		want modelv1.Status
	}{
		{name: "default skew, a day less a minute ahead", at: now.Add(24*time.Hour - time.Minute), want: modelv1.Status_STATUS_SUCCEED},
		{name: "default skew, a day and a minute ahead", at: now.Add(24*time.Hour + time.Minute), want: modelv1.Status_STATUS_INVALID_TIMESTAMP},
		{name: "default skew, eighty years ahead", at: now.AddDate(80, 0, 0), want: modelv1.Status_STATUS_INVALID_TIMESTAMP},
		{name: "one hour skew, half an hour ahead", args: []string{"--trace-max-future-skew=1h"}, at: now.Add(30 * time.Minute),
			want: modelv1.Status_STATUS_SUCCEED},
		{name: "one hour skew, two hours ahead", args: []string{"--trace-max-future-skew=1h"}, at: now.Add(2 * time.Hour),
			want: modelv1.Status_STATUS_INVALID_TIMESTAMP},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			e := newEnvAt(t, root, tt.args...).withSW()
			span := swSpan{traceID: "future", spanID: "s", at: tt.at, service: "svc"}
			if st := e.write(span.request()); st[0] != tt.want {
				t.Fatalf("a span at now%+v: %s, want %s", tt.at.Sub(now), st[0], tt.want)
			}
			segs, err := filepath.Glob(filepath.Join(root, "trace", "data", "test-trace-group", "seg-*"))
			if err != nil {
				t.Fatal(err)
			}
			if stored := tt.want == modelv1.Status_STATUS_SUCCEED; stored != (len(segs) == 1) {
				t.Fatalf("segments on disk after the write: %v", segs)
			}
		})
	}
}

func TestMaxFutureSkewMustBePositive(t *testing.T) {
	for _, v := range []string{"0s", "-1h"} {
		svc, err := NewService(metarepo.NewMemory(), nil, observability.NewBypassRegistry(), newMemoryProtector(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.FlagSet().Parse([]string{"--trace-root-path=" + t.TempDir(), "--trace-max-future-skew=" + v}); err != nil {
			t.Fatal(err)
		}
		if err := svc.Validate(); err == nil || !strings.Contains(err.Error(), "--trace-max-future-skew") {
			t.Fatalf("--trace-max-future-skew=%s: Validate() = %v", v, err)
		}
	}
}
