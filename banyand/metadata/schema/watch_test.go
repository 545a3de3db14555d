// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

func TestHandlerReplayThenLiveEvents(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	must(reg.CreateGroup(ctx, traceGroup("b")))(t)
	must(reg.CreateGroup(ctx, traceGroup("a")))(t)
	traceRev := must(reg.CreateTrace(ctx, traceSchema("a", "sw")))(t)
	must(reg.CreateIndexRule(ctx, indexRule("a", "timestamp")))(t)

	rec := &recorder{}
	reg.RegisterHandler("traces", []Kind{KindTrace, KindGroup}, rec)
	// The replay is complete when RegisterHandler returns: groups first, then key order; the
	// index rule is not of a subscribed kind.
	replay := rec.snapshot()
	want := []string{"add groups a", "add groups b", "add traces a/sw"}
	if got := names(replay); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("replay %v, want %v", got, want)
	}
	if replay[2].createRev != traceRev || replay[2].modRev != traceRev {
		t.Fatalf("replayed revisions %d/%d, want %d", replay[2].createRev, replay[2].modRev, traceRev)
	}

	createRev := must(reg.CreateTrace(ctx, traceSchema("b", "zipkin")))(t)
	must(reg.CreateIndexRule(ctx, indexRule("b", "ignored")))(t)
	upd := traceSchema("b", "zipkin")
	upd.TimestampTagName = "span_id"
	updateRev := must(reg.UpdateTrace(ctx, upd))(t)
	must(reg.DeleteTrace(ctx, &commonv1.Metadata{Group: "b", Name: "zipkin"}))(t)

	live := rec.waitFor(t, 6)[3:]
	want = []string{"add traces b/zipkin", "add traces b/zipkin", "del traces b/zipkin"}
	if got := names(live); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("live %v, want %v", got, want)
	}
	if live[0].createRev != createRev || live[0].modRev != createRev {
		t.Fatalf("create event revisions %d/%d, want %d", live[0].createRev, live[0].modRev, createRev)
	}
	if live[1].createRev != createRev || live[1].modRev != updateRev {
		t.Fatalf("update event revisions %d/%d, want %d/%d", live[1].createRev, live[1].modRev, createRev, updateRev)
	}
	// The deletion carries the last value.
	last := live[2].spec.(*databasev1.Trace)
	if last.TimestampTagName != "span_id" || last.Metadata.ModRevision != updateRev {
		t.Fatalf("deleted spec is not the last value: %v", last)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(rec.snapshot()); n != 6 {
		t.Fatalf("unexpected extra events: %v", names(rec.snapshot()))
	}
}

// Handlers registered while writes go on see every resource exactly once, and all handlers see
// the same order.
func TestRegisterDuringWritesLosesAndDuplicatesNothing(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	const total = 60
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range total {
			if _, err := reg.CreateGroup(ctx, traceGroup(fmt.Sprintf("g%03d", i))); err != nil {
				t.Errorf("create: %v", err)
				return
			}
		}
	}()
	recs := make([]*recorder, 4)
	for i := range recs {
		recs[i] = &recorder{}
		time.Sleep(time.Duration(i) * 15 * time.Millisecond)
		reg.RegisterHandler(fmt.Sprintf("h%d", i), []Kind{KindGroup}, recs[i])
	}
	wg.Wait()
	for i, rec := range recs {
		rec.waitFor(t, total)
		// Give a duplicate delivery time to show up before counting.
		time.Sleep(50 * time.Millisecond)
		events := rec.snapshot()
		seen := make(map[string]int)
		for _, e := range events {
			seen[e.name]++
		}
		if len(events) != total || len(seen) != total {
			t.Fatalf("handler %d: %d events for %d groups", i, len(events), len(seen))
		}
		for name, n := range seen {
			if n != 1 {
				t.Fatalf("handler %d saw %s %d times", i, name, n)
			}
		}
	}
	// Once live, every handler sees the same sequence of revisions.
	a, b := recs[0].snapshot(), recs[len(recs)-1].snapshot()
	tailA, tailB := a[len(a)-5:], b[len(b)-5:]
	for i := range tailA {
		if tailA[i].modRev != tailB[i].modRev {
			t.Fatalf("handlers disagree on order: %v vs %v", names(tailA), names(tailB))
		}
	}
}

// When the watch must restart from a revision that has been compacted, the registry reads the
// store again and delivers the difference.
func TestWatchRecoversFromCompaction(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	must(reg.CreateGroup(ctx, traceGroup("keep")))(t)
	must(reg.CreateGroup(ctx, traceGroup("gone")))(t)
	must(reg.CreateGroup(ctx, traceGroup("changed")))(t)

	hold, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	rec := &recorder{}
	rec.block = func(e event) {
		if e.name == "blocker" {
			once.Do(func() {
				close(hold)
				<-release
			})
		}
	}
	reg.RegisterHandler("compaction", []Kind{KindGroup}, rec)
	rec.waitFor(t, 3)

	// Hold the dispatcher inside a handler, change the store behind its back, compact it, and
	// make the watch restart at a compacted revision.
	must(reg.CreateGroup(ctx, traceGroup("blocker")))(t)
	<-hold
	must(reg.DeleteGroup(ctx, "gone"))(t)
	upd := traceGroup("changed")
	upd.ResourceOpts.ShardNum = 8
	must(reg.UpdateGroup(ctx, upd))(t)
	must(reg.CreateGroup(ctx, traceGroup("new")))(t)
	resp, err := reg.client.Get(ctx, "probe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err = reg.client.Compact(ctx, resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	reg.w.restartCh <- struct{}{}
	close(release)

	events := rec.waitFor(t, 7)[4:]
	got := strings.Join(names(events), ",")
	// The difference: the deletion first, then changes in key order.
	want := "del groups gone,add groups changed,add groups new"
	if got != want {
		t.Fatalf("after compaction %s, want %s", got, want)
	}
	if g := events[1].spec.(*commonv1.Group); g.ResourceOpts.ShardNum != 8 {
		t.Fatalf("changed group not updated: %v", g)
	}
	// And the watch goes on.
	must(reg.CreateGroup(ctx, traceGroup("later")))(t)
	if e := rec.waitFor(t, 8)[7]; e.String() != "add groups later" {
		t.Fatalf("after resync: %v", e)
	}
}

// The data survives a restart of the embedded etcd on the same directory, and a registry that
// stayed connected keeps receiving events once etcd is back.
func TestRestartKeepsDataAndWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	urls, err := randomURLs()
	if err != nil {
		t.Fatal(err)
	}
	start := func() *embeddedetcd.Server {
		srv, err := embeddedetcd.Start(embeddedetcd.Options{Dir: dir, ListenClientURL: urls.client, ListenPeerURL: urls.peer})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start()
	reg := openRegistry(t, srv.ClientURL(), "restart")
	ctx := testCtx(t)
	must(reg.CreateGroup(ctx, traceGroup("g")))(t)
	traceRev := must(reg.CreateTrace(ctx, traceSchema("g", "sw")))(t)
	rec := &recorder{}
	reg.RegisterHandler("restart", []Kind{KindGroup, KindTrace}, rec)
	rec.waitFor(t, 2)

	if err = srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv = start()
	defer srv.Close()

	other := openRegistry(t, srv.ClientURL(), "restart")
	tr := must(other.GetTrace(ctx, &commonv1.Metadata{Group: "g", Name: "sw"}))(t)
	if tr.Metadata.ModRevision != traceRev || len(tr.Tags) != 3 {
		t.Fatalf("after restart: %v", tr)
	}
	// The registry that lived through the restart works again and its watch resumes.
	eventually(t, ctx, "the old registry to reconnect", func() bool {
		_, err := reg.CreateGroup(ctx, traceGroup("after"))
		return err == nil || strings.Contains(err.Error(), "already exists")
	})
	if e := rec.waitFor(t, 3)[2]; e.String() != "add groups after" {
		t.Fatalf("event after restart: %v", e)
	}
	// Clients first: etcd waits for the streams of connected clients when it stops.
	_ = reg.Close()
	_ = other.Close()
}

// Writes outside the namespace move the store's revision without any event for the watcher;
// registration must not wait for an event that never comes.
func TestRegisterAfterForeignWrites(t *testing.T) {
	reg := newTestRegistry(t)
	foreign := openRegistry(t, sharedEtcd.ClientURL(), testenv.Namespace(t)+"-foreign")
	ctx := testCtx(t)
	must(reg.CreateGroup(ctx, traceGroup("mine")))(t)
	for i := range 5 {
		must(foreign.CreateGroup(ctx, traceGroup(fmt.Sprintf("other%d", i))))(t)
	}
	start := time.Now()
	rec := &recorder{}
	reg.RegisterHandler("after-foreign", []Kind{KindGroup}, rec)
	if got := names(rec.snapshot()); strings.Join(got, ",") != "add groups mine" {
		t.Fatalf("replay %v", got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("registration took %s", d)
	}
}
