// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package storage

import (
	"time"
)

// Bounds of the period of the idle sweep, which runs every IdleTimeout/4 within them.
const (
	minIdleSweepPeriod = time.Second
	maxIdleSweepPeriod = time.Minute
)

// idleSweepPeriod returns how often the idle sweep runs for an idle timeout.
func idleSweepPeriod(timeout time.Duration) time.Duration {
	return min(max(timeout/4, minIdleSweepPeriod), maxIdleSweepPeriod)
}

// idleLoop closes idle segments every idleSweepPeriod until stop is closed, then closes done.
// Without an idle timeout it only waits for stop.
func (db *database[T]) idleLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if db.idleTimeout <= 0 {
		<-stop
		return
	}
	ticker := time.NewTicker(idleSweepPeriod(db.idleTimeout))
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			if n := db.closeIdleSegments(); n > 0 {
				db.l.Debug().Int("segments", n).Msg("closed idle segments")
			}
		}
	}
}

// closeIdleSegments closes the tables of every live segment that nobody references and that
// was last used at least IdleTimeout ago. It returns how many segments it closed.
func (db *database[T]) closeIdleSegments() int {
	if db.idleTimeout <= 0 {
		return 0
	}
	cutoff := db.clock.Now().Add(-db.idleTimeout).UnixNano()
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return 0
	}
	n := 0
	for _, s := range db.mu.segments {
		if s.hasOpenTables() && s.unreferenced() && s.lastUsed.Load() <= cutoff {
			db.closeSegmentLocked(s)
			n++
		}
	}
	return n
}

// enforceOpenLimit closes the least recently used unreferenced segments while more than
// MaxOpenSegments segments have open tables. Segments call it after opening a table.
func (db *database[T]) enforceOpenLimit() {
	if db.maxOpenSegments <= 0 {
		return
	}
	db.mu.RLock()
	open := db.openSegmentsLocked()
	db.mu.RUnlock()
	if open <= db.maxOpenSegments {
		return
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return
	}
	// Closing a segment always leaves it without open tables (a failed close is logged), so
	// each round takes one segment off the count.
	for open = db.openSegmentsLocked(); open > db.maxOpenSegments; open-- {
		s := db.oldestIdleLocked()
		if s == nil {
			return
		}
		db.closeSegmentLocked(s)
	}
}

// openSegmentsLocked counts the live segments with open tables; db.mu must be held.
func (db *database[T]) openSegmentsLocked() int {
	open := 0
	for _, s := range db.mu.segments {
		if s.hasOpenTables() {
			open++
		}
	}
	return open
}

// closeSegmentLocked closes the tables of a live segment that nobody but the list references.
// db.mu must be held for writing: no reference can be taken while it is, so no caller is using
// the tables being closed. A failure to close is logged; the shards stay on disk and open again
// on demand.
func (db *database[T]) closeSegmentLocked(s *segment[T]) {
	if err := s.closeTables(); err != nil {
		s.l.Error().Err(err).Msg("close the tables of an idle segment")
		return
	}
	s.l.Debug().Msg("closed the tables of an idle segment")
}

// oldestIdle returns the last use of the least recently used segment that has open tables and
// that nobody references; ok is false if there is none. It is the TSDB's side of the
// DescriptorGuard.
func (db *database[T]) oldestIdle() (int64, bool) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if s := db.oldestIdleLocked(); s != nil {
		return s.lastUsed.Load(), true
	}
	return 0, false
}

// closeOldestIdle closes the tables of the least recently used segment that has open tables
// and that nobody references; false if there is none.
func (db *database[T]) closeOldestIdle() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return false
	}
	s := db.oldestIdleLocked()
	if s == nil {
		return false
	}
	db.closeSegmentLocked(s)
	return true
}

// oldestIdleLocked returns the least recently used segment with open tables and no reference
// but the list's, or nil. db.mu must be held; for the answer to stay true, for writing.
func (db *database[T]) oldestIdleLocked() *segment[T] {
	var oldest *segment[T]
	for _, s := range db.mu.segments {
		if s.hasOpenTables() && s.unreferenced() && (oldest == nil || s.lastUsed.Load() < oldest.lastUsed.Load()) {
			oldest = s
		}
	}
	return oldest
}
