// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/bus"
	"github.com/apache/skywalking-banyandb/pkg/fs"
	"github.com/apache/skywalking-banyandb/pkg/query/model"
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
	res := e.query(e.trace("test-trace-group", "sw"), model.TraceQueryOptions{TimeRange: fullRange(),
		OrderBy: orderBy("duration", modelv1.Sort_SORT_ASC), MaxTraces: 10})
	if got := ids(res); !reflect.DeepEqual(got, []string{"good", "good2"}) {
		t.Fatalf("stored traces = %v, want the two good ones", got)
	}

	// The same span twice is stored twice (no dedup by span id).
	e.mustWrite(good.request())
	res = e.query(e.trace("test-trace-group", "sw"), model.TraceQueryOptions{TimeRange: fullRange(),
		Criteria: cond("trace_id", opEQ, str("good")), MaxTraces: 10})
	if len(res.Traces) != 1 || len(res.Traces[0].Spans) != 2 {
		t.Fatalf("a span written twice: %v", res.Traces)
	}

	// Anything but a batch of write requests is refused.
	if _, err := e.pipeline.Publish(context.Background(), bus.TopicTraceWrite, localNodeName, good.request()); err == nil {
		t.Fatal("a single request instead of a batch was accepted")
	}
	// An empty batch has nothing to answer.
	if st := e.write(); len(st) != 0 {
		t.Fatalf("an empty batch got %v", st)
	}
}

func TestWriteWaitsForASchemaOnItsWay(t *testing.T) {
	e := newEnv(t, "--trace-metadata-cache-wait-duration=10s")
	e.md.put(e.fx.swGroup)
	_, today := days()
	span := swSpan{traceID: "early", spanID: "s", at: today.Add(time.Hour), service: "svc", duration: 1}
	done := make(chan []modelv1.Status, 1)
	go func() {
		reply, err := e.pipeline.Publish(context.Background(), bus.TopicTraceWrite, localNodeName,
			[]*tracev1.InternalWriteRequest{span.request()})
		if err != nil {
			t.Errorf("publish: %v", err)
			done <- nil
			return
		}
		done <- reply.([]modelv1.Status)
	}()
	select {
	case st := <-done:
		t.Fatalf("a write for a schema that does not exist yet returned at once: %v", st)
	case <-time.After(100 * time.Millisecond):
	}
	e.md.put(e.fx.duration)
	e.md.put(e.fx.swBinding)
	e.md.put(e.fx.sw)
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
	res := again.query(again.trace("test-trace-group", "sw"), model.TraceQueryOptions{TimeRange: fullRange(),
		OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC), MaxTraces: 10, TagProjection: []string{"endpoint_id"}})
	if got := ids(res); !reflect.DeepEqual(got, []string{"t1", "t2"}) {
		t.Fatalf("after a restart: %v, want [t1 t2]", got)
	}
	if got := resultPayloads(res.Traces[0]); !reflect.DeepEqual(got, []string{"t1/a", "t1/b"}) {
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
	res := e.query(e.trace("test-trace-group", "sw"), model.TraceQueryOptions{TimeRange: fullRange(),
		Criteria: cond("trace_id", opEQ, str("t")), MaxTraces: 1})
	if len(res.Traces) != 0 {
		t.Fatal("a span refused for a full disk was stored")
	}
}

func TestStoredTagsDropTheIDs(t *testing.T) {
	tl := newTagLocator(loadFixtures(t).sw)
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
		svc, err := NewService(newFakeMetadata(), queue.NewLocal(), queue.NewLocal(), observability.NewBypassRegistry(), newMemoryProtector(t))
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
