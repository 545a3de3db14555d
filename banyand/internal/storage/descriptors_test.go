// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package storage

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// fakeDescriptors is a process of limit descriptors in which every open table holds perTable
// and something else (connections, say) holds base.
type fakeDescriptors struct {
	recs     []*tableRecorder
	limit    int
	perTable int
	base     atomic.Int64
}

func (f *fakeDescriptors) openTables() int {
	n := 0
	for _, r := range f.recs {
		for _, tb := range r.all() {
			if tb.closes.Load() == 0 {
				n++
			}
		}
	}
	return n
}

func (f *fakeDescriptors) guard() *DescriptorGuard {
	return NewDescriptorGuard(
		func() (int, error) { return f.limit, nil },
		func() (int, error) { return int(f.base.Load()) + f.perTable*f.openTables(), nil })
}

// guardedDBs opens n TSDBs of one shard under one guard of a fake process of 100 descriptors
// where a table holds 10: tables open freely up to 8, the 9th first closes an idle segment,
// and past 9 they are refused.
func guardedDBs(t *testing.T, n int) (*fakeDescriptors, []*testDB) {
	t.Helper()
	fd := &fakeDescriptors{limit: 100, perTable: 10}
	g := fd.guard()
	clock := timestamp.NewMockClock(testNow) // one clock for all, so that their last uses compare
	dbs := make([]*testDB, n)
	for i := range dbs {
		dbs[i] = newTestDB(t, func(o *TSDBOpts[*fakeTable]) {
			o.ShardNum = 1
			o.Clock = clock
			o.Descriptors = g
			o.TTL = IntervalRule{Unit: DAY, Num: 30}
		})
		dbs[i].clock = clock
		fd.recs = append(fd.recs, dbs[i].rec)
	}
	return fd, dbs
}

// openDay opens the table of the segment of day d in db, one minute after the previous call,
// and returns the segment, still referenced.
func openDay(t *testing.T, db *testDB, d int) Segment[*fakeTable] {
	t.Helper()
	db.clock.Add(time.Minute)
	s := db.create(t, day(d))
	if _, err := s.Table(0); err != nil {
		t.Fatalf("table of day %d: %v", d, err)
	}
	return s
}

func TestDescriptorGuardClosesTheLeastRecentlyUsedIdleSegmentOfAnyTSDB(t *testing.T) {
	fd, dbs := guardedDBs(t, 2)
	var dirs []string
	// Eight tables: four segments in each TSDB, alternating, each released after use.
	for d := 10; d < 18; d++ {
		s := openDay(t, dbs[d%2], d)
		dirs = append(dirs, shardDir(s, 0))
		s.DecRef()
	}
	if got := fd.openTables(); got != 8 {
		t.Fatalf("%d tables open, want 8 (none closed below 80%%)", got)
	}
	// The ninth closes the oldest idle segment, day 10 of the first TSDB, and nothing else.
	s := openDay(t, dbs[1], 18)
	defer s.DecRef()
	if got := fd.openTables(); got != 8 {
		t.Fatalf("%d tables open after the ninth, want 8", got)
	}
	for i, dir := range dirs {
		want := 0
		if i == 0 {
			want = 1
		}
		if got := dbs[i%2].rec.closesOf(dir); got != want {
			t.Errorf("table of day %d closed %d times, want %d", 10+i, got, want)
		}
	}
	// The closed segment opens again on demand, closing the next oldest (day 11, second TSDB).
	again := openDay(t, dbs[0], 10)
	defer again.DecRef()
	if got := dbs[1].rec.closesOf(dirs[1]); got != 1 {
		t.Fatalf("day 11 closed %d times, want 1", got)
	}
}

func TestDescriptorGuardRefusesWhenNothingIdleIsLeft(t *testing.T) {
	fd, dbs := guardedDBs(t, 2)
	var held []Segment[*fakeTable]
	defer func() {
		for _, s := range held {
			s.DecRef()
		}
	}()
	// Nine tables whose segments stay referenced: nothing may be closed for the tenth.
	for d := 10; d < 19; d++ {
		held = append(held, openDay(t, dbs[d%2], d))
	}
	dbs[0].clock.Add(time.Minute)
	s := dbs[0].create(t, day(19))
	_, err := s.Table(0)
	if !errors.Is(err, ErrTooManyOpenFiles) {
		t.Fatalf("tenth table: %v, want ErrTooManyOpenFiles", err)
	}
	if exists(shardDir(s, 0)) {
		// The refusal comes before the shard's directory is made: nothing is left on disk.
		t.Fatalf("a refused table left its directory %s", shardDir(s, 0))
	}
	if got := fd.openTables(); got != 9 {
		t.Fatalf("%d tables open, want the 9 in use", got)
	}
	// Once a segment is released, the same table opens (closing the released one).
	held[0].DecRef()
	held = held[1:]
	if _, err := s.Table(0); err != nil {
		t.Fatalf("table after a release: %v", err)
	}
	s.DecRef()

	// Descriptors held by something else count too: at 90 of 100 without tables, none opens.
	for _, h := range held {
		h.DecRef()
	}
	held = nil
	fd.base.Store(90)
	refuseDay(t, dbs[1], 20)
	if got := fd.openTables(); got != 0 {
		t.Fatalf("%d tables open, want every idle one closed for the pressure", got)
	}
}

// refuseDay asks for the table of the segment of day d in db, which must be refused.
func refuseDay(t *testing.T, db *testDB, d int) {
	t.Helper()
	s := db.create(t, day(d))
	defer s.DecRef()
	if _, err := s.Table(0); !errors.Is(err, ErrTooManyOpenFiles) {
		t.Fatalf("table of day %d: %v, want ErrTooManyOpenFiles", d, err)
	}
}

func TestDescriptorGuardForgetsAClosedTSDB(t *testing.T) {
	fd, dbs := guardedDBs(t, 2)
	for d := 10; d < 18; d++ {
		openDay(t, dbs[0], d).DecRef()
	}
	if err := dbs[0].Close(); err != nil {
		t.Fatal(err)
	}
	// The closed TSDB's tables are closed and it is asked nothing more.
	s := openDay(t, dbs[1], 20)
	s.DecRef()
	if got := fd.openTables(); got != 1 {
		t.Fatalf("%d tables open, want the one of the open TSDB", got)
	}
}

func TestDescriptorGuardOffWhenThePlatformCannotTell(t *testing.T) {
	g := NewDescriptorGuard(func() (int, error) { return 0, errInjected }, func() (int, error) { return 1 << 30, nil })
	if err := g.admit(); err != nil {
		t.Fatalf("admit without a limit: %v", err)
	}
	g = NewDescriptorGuard(func() (int, error) { return 100, nil }, func() (int, error) { return 0, errInjected })
	if err := g.admit(); err != nil {
		t.Fatalf("admit without a count: %v", err)
	}
}
