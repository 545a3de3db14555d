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
	"testing"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
)

func TestSnapshotIsAReadableCopyAndOldOnesArePruned(t *testing.T) {
	e := newEnv(t, "--trace-max-file-snapshot-num=2").withSW()
	_, today := days()
	e.mustWrite(requests([]swSpan{
		{traceID: "t1", spanID: "s1", at: today.Add(time.Hour), service: "svc", duration: 10},
		{traceID: "t2", spanID: "s1", at: today.Add(2 * time.Hour), service: "svc", duration: 20},
	})...)
	dir, err := e.s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Writes after the snapshot do not reach it.
	e.mustWrite(requests([]swSpan{{traceID: "t3", spanID: "s1", at: today.Add(3 * time.Hour), service: "svc", duration: 30}})...)
	tables, err := filepath.Glob(filepath.Join(dir, "test-trace-group", "seg-*", "shard-*"))
	if err != nil || len(tables) == 0 {
		t.Fatalf("no tables in snapshot %s (%v)", dir, err)
	}
	found := map[string]bool{}
	for _, dirOfTable := range tables {
		tbl, err := tstable.Open(dirOfTable, tstable.DefaultOptions())
		if err != nil {
			t.Fatalf("open snapshot table %s: %v", dirOfTable, err)
		}
		got, err := tbl.GetTraces([]string{storedTraceID("sw", "t1"), storedTraceID("sw", "t2"), storedTraceID("sw", "t3")})
		if err != nil {
			t.Fatal(err)
		}
		for id := range got {
			found[id] = true
		}
		if err := tbl.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if !found[storedTraceID("sw", "t1")] || !found[storedTraceID("sw", "t2")] || found[storedTraceID("sw", "t3")] {
		t.Fatalf("snapshot holds %v, want t1 and t2 only", found)
	}
	for i := 0; i < 2; i++ {
		time.Sleep(time.Millisecond)
		if _, err := e.s.Snapshot(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(e.s.snapshotDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d snapshots kept, want 2", len(entries))
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the oldest snapshot %s was not pruned: %v", dir, err)
	}
}

func TestAFailedSnapshotLeavesNothingThatCounts(t *testing.T) {
	e := newEnv(t, "--trace-max-file-snapshot-num=1").withSW()
	_, today := days()
	e.mustWrite(requests([]swSpan{{traceID: "t1", spanID: "s1", at: today.Add(time.Hour), service: "svc", duration: 10}})...)
	good, err := e.s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot cut short (here: canceled) leaves neither a snapshot nor a partial directory.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.s.Snapshot(ctx); err == nil {
		t.Fatal("a canceled snapshot succeeded")
	}
	names := func() []string {
		entries, err := os.ReadDir(e.s.snapshotDir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, en := range entries {
			out = append(out, en.Name())
		}
		return out
	}
	if got := names(); len(got) != 1 || got[0] != filepath.Base(good) {
		t.Fatalf("after a failed snapshot the directory holds %v, want only %s", got, filepath.Base(good))
	}
	// The partial snapshot of a process killed mid-way is removed, never kept as a good one.
	if err := os.MkdirAll(filepath.Join(e.s.snapshotDir, tmpSnapshotPrefix+"20000101T000000.000000000Z", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	next, err := e.s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := names(); len(got) != 1 || got[0] != filepath.Base(next) {
		t.Fatalf("after the next snapshot the directory holds %v, want only %s", got, filepath.Base(next))
	}
}

func TestQueryBeyondTheMemoryBudgetIsResourceExhausted(t *testing.T) {
	pm := protector.NewMemory(nil)
	if err := pm.FlagSet().Parse([]string{"--allowed-bytes=1kb"}); err != nil {
		t.Fatal(err)
	}
	if err := pm.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, t.TempDir(), pm).withSW()
	_, today := days()
	var spans []swSpan
	for i := 0; i < 40; i++ {
		spans = append(spans, swSpan{traceID: "big", spanID: string(rune('a'+i%26)) + string(rune('a'+i/26)), at: today.Add(time.Hour),
			service: "svc", duration: int64(i)})
	}
	e.mustWrite(requests(spans)...)
	tr := e.trace("test-trace-group", "sw")
	_, err := tr.Query(context.Background(), QueryOptions{
		Name: "sw", TimeRange: timeRange(today, today.Add(24*time.Hour)), Criteria: cond("trace_id", opEQ, str("big")), MaxTraces: 10,
	})
	if !errors.Is(err, protector.ErrMemoryExceeded) {
		t.Fatalf("err = %v, want ErrMemoryExceeded", err)
	}
	if st, _ := status.FromError(toStatus(err)); st.Code() != codes.ResourceExhausted {
		t.Fatalf("code = %s, want ResourceExhausted", st.Code())
	}
	if pm.Usage() != 0 {
		t.Fatalf("the failed query left %d bytes reserved", pm.Usage())
	}
}
