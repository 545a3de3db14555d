// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package storage

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// closesOf returns how often the table opened for dir was closed, summed over its opens.
func (r *tableRecorder) closesOf(dir string) int {
	n := 0
	for _, tb := range r.all() {
		if tb.dir == dir {
			n += int(tb.closes.Load())
		}
	}
	return n
}

// sweepIdle runs one idle sweep of the TSDB now.
func (d *testDB) sweepIdle() int {
	return d.TSDB.(*database[*fakeTable]).closeIdleSegments()
}

func shardDir(s Segment[*fakeTable], shard ShardID) string {
	return filepath.Join(s.Dir(), shardName(shard))
}

func TestMaxOpenSegmentsClosesTheLeastRecentlyUsed(t *testing.T) {
	db := newTestDB(t, func(o *TSDBOpts[*fakeTable]) { o.MaxOpenSegments = 2 })
	var dirs []string
	for d := 20; d <= 25; d++ {
		db.clock.Add(time.Minute)
		s := db.create(t, day(d))
		tb, err := s.Table(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := tb.Put(fmt.Sprintf("v%d", d-20)); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, shardDir(s, 0))
		s.DecRef()
	}
	// Opening day 22 closed day 20, day 23 closed day 21, and so on: the last two stay open.
	for i, dir := range dirs {
		want := 0
		if i < len(dirs)-2 {
			want = 1
		}
		if got := db.rec.closesOf(dir); got != want {
			t.Errorf("table of day %d closed %d times, want %d", 20+i, got, want)
		}
	}

	// A closed segment reads its data again on demand; that closes the least recently used
	// open one (day 24), not the one just used (day 25).
	segs := db.SelectSegments(timestamp.NewSectionTimeRange(day(20), day(21)))
	if len(segs) != 1 {
		t.Fatalf("selected %d segments", len(segs))
	}
	tb, ok, err := segs[0].OpenedTable(0)
	if err != nil || !ok || !slices.Equal(tb.Values(), []string{"v0"}) {
		t.Fatalf("OpenedTable of a closed segment = %v, %v, %v", tb, ok, err)
	}
	if n := db.rec.opensOf(dirs[0]); n != 2 {
		t.Fatalf("day 20 opened %d times, want 2", n)
	}
	if got := db.rec.closesOf(dirs[4]); got != 1 {
		t.Fatalf("day 24 closed %d times, want 1", got)
	}
	if got := db.rec.closesOf(dirs[5]); got != 0 {
		t.Fatalf("day 25 closed %d times, want 0", got)
	}

	// Segments in use are never closed, even past the bound.
	held := db.Segments()
	for _, s := range held {
		if _, err := s.Tables(); err != nil {
			t.Fatal(err)
		}
	}
	for i, dir := range dirs {
		if db.rec.opensOf(dir) != db.rec.closesOf(dir)+1 {
			t.Errorf("day %d: %d opens, %d closes while every segment is in use", 20+i, db.rec.opensOf(dir), db.rec.closesOf(dir))
		}
	}
	for _, s := range held {
		s.DecRef()
	}
	segs[0].DecRef()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db.rec.checkClosed(t)
}

func TestIdleTimeoutClosesUnusedSegments(t *testing.T) {
	db := newTestDB(t, func(o *TSDBOpts[*fakeTable]) { o.IdleTimeout = time.Hour })
	s := db.create(t, day(25))
	if _, err := s.Table(1); err != nil {
		t.Fatal(err)
	}
	dir := shardDir(s, 1)
	s.DecRef()
	if n := db.sweepIdle(); n != 0 {
		t.Fatalf("closed %d segments used a moment ago", n)
	}

	// A referenced segment is not closed however long it is held.
	db.clock.Add(2 * time.Hour)
	held := db.Segments()
	if n := db.sweepIdle(); n != 0 {
		t.Fatalf("closed %d referenced segments", n)
	}
	// Releasing it counts as a use.
	for _, h := range held {
		h.DecRef()
	}
	if n := db.sweepIdle(); n != 0 {
		t.Fatalf("closed %d segments released a moment ago", n)
	}
	db.clock.Add(time.Hour)
	if n := db.sweepIdle(); n != 1 || db.rec.closesOf(dir) != 1 {
		t.Fatalf("closed %d segments (table closed %d times), want 1", n, db.rec.closesOf(dir))
	}
	if n := db.sweepIdle(); n != 0 {
		t.Fatalf("closed %d segments again", n)
	}

	// The next use opens it again; a reopened TSDB opens nothing until asked.
	s = db.create(t, day(25).Add(time.Hour))
	if tables := mustTables(t, s); len(tables) != 1 || tables[0].shard != 1 {
		t.Fatalf("tables after reopening = %v", tables)
	}
	s.DecRef()
	if n := db.rec.opensOf(dir); n != 2 {
		t.Fatalf("opened %d times, want 2", n)
	}
	db2 := db.reopen(t)
	if n := db2.rec.opensOf(dir); n != 2 {
		t.Fatalf("reopening the TSDB opened the table (%d opens)", n)
	}
	db2.rec.checkClosed(t)
}

func TestIdleOptionsMustNotBeNegative(t *testing.T) {
	for _, mod := range []func(*TSDBOpts[*fakeTable]){
		func(o *TSDBOpts[*fakeTable]) { o.IdleTimeout = -time.Second },
		func(o *TSDBOpts[*fakeTable]) { o.MaxOpenSegments = -1 },
	} {
		opts := TSDBOpts[*fakeTable]{
			Location: t.TempDir(), ShardNum: 1, SegmentInterval: IntervalRule{Unit: DAY, Num: 1},
			TTL: IntervalRule{Unit: DAY, Num: 1}, OpenTable: (&tableRecorder{}).open,
		}
		mod(&opts)
		if _, err := OpenTSDB(opts); !errors.Is(err, ErrInvalidOptions) {
			t.Fatalf("OpenTSDB = %v, want ErrInvalidOptions", err)
		}
	}
}

func TestIdleSweepPeriod(t *testing.T) {
	for timeout, want := range map[time.Duration]time.Duration{
		time.Second: time.Second, 8 * time.Second: 2 * time.Second, 5 * time.Minute: time.Minute, time.Hour: time.Minute,
	} {
		if got := idleSweepPeriod(timeout); got != want {
			t.Errorf("idleSweepPeriod(%s) = %s, want %s", timeout, got, want)
		}
	}
}
