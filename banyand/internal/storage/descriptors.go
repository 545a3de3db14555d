// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package storage

import (
	"sync"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/pkg/fdlimit"
)

// ErrTooManyOpenFiles is returned when a table would open while the process holds nearly as
// many file descriptors as it may, and no idle segment is left to close.
var ErrTooManyOpenFiles = errors.New("storage: too many open files to open another table")

// Thresholds of a DescriptorGuard, in percent of the process's descriptor limit. Past
// closeIdlePercent a table opens only after the least recently used idle segments (of every
// TSDB of the process) are closed; past refusePercent it does not open. What stays above
// refusePercent is headroom for what opens files without asking: Pebble's flushes and
// compactions inside open tables, and client connections. Pebble panics when it cannot
// create a file it needs, so the headroom is what keeps the process alive.
const (
	closeIdlePercent = 80
	refusePercent    = 90
)

// idleCloser is a TSDB as the DescriptorGuard sees it: whatever its table type, it can name
// and close its least recently used segment that nobody references.
type idleCloser interface {
	// oldestIdle returns when the least recently used segment that has open tables and no
	// reference but the TSDB's list was last used (Unix nanoseconds); ok is false if none.
	oldestIdle() (lastUsed int64, ok bool)
	// closeOldestIdle closes the tables of that segment; false if there was none.
	closeOldestIdle() bool
}

// DescriptorGuard keeps the tables of every TSDB of a process within the process's file
// descriptor limit. Each table of a segment's shard holds several descriptors (a Pebble
// database: its lock, WAL, manifest, directory and open sstables), so a process with many
// groups, shards or segments can run out of them, and with them out of the files a table
// needs to go on (Pebble panics then). Before a table opens, the guard counts the descriptors
// the process holds; above closeIdlePercent of the limit it closes idle segments across TSDBs,
// least recently used first, and above refusePercent it refuses the open with
// ErrTooManyOpenFiles: the request that needed the table fails, nothing else does.
type DescriptorGuard struct {
	// limit and count return the process's descriptor limit and how many it holds; an error
	// from either turns the guard off for that open (the platform cannot tell).
	limit func() (int, error)
	count func() (int, error)
	mu    sync.Mutex
	dbs   map[idleCloser]struct{}
}

// NewDescriptorGuard returns a guard over the given limit and count functions.
func NewDescriptorGuard(limit, count func() (int, error)) *DescriptorGuard {
	return &DescriptorGuard{limit: limit, count: count, dbs: make(map[idleCloser]struct{})}
}

var processDescriptors = sync.OnceValue(func() *DescriptorGuard {
	return NewDescriptorGuard(fdlimit.Limit, fdlimit.InUse)
})

// ProcessDescriptors returns the guard of this process's descriptors, which every TSDB uses
// unless its options name another.
func ProcessDescriptors() *DescriptorGuard { return processDescriptors() }

func (g *DescriptorGuard) register(db idleCloser) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.dbs[db] = struct{}{}
}

func (g *DescriptorGuard) unregister(db idleCloser) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.dbs, db)
}

// admit returns nil when a table may open now, closing idle segments first if the process is
// near its limit, and ErrTooManyOpenFiles (with the counts) when it is too near even after that.
// The caller must not hold the lock of any TSDB, and must hold a reference to the segment
// whose table it opens (so that it is not among those closed).
func (g *DescriptorGuard) admit() error {
	limit, err := g.limit()
	if err != nil || limit <= 0 {
		return nil
	}
	closeAbove, refuseAbove := limit*closeIdlePercent/100, limit*refusePercent/100
	held, err := g.count()
	if err != nil {
		return nil
	}
	for held >= closeAbove && g.closeOldestIdle() {
		if held, err = g.count(); err != nil {
			return nil
		}
	}
	if held >= refuseAbove {
		return errors.Wrapf(ErrTooManyOpenFiles, "%d of %d descriptors in use, no idle segment to close", held, limit)
	}
	return nil
}

// closeOldestIdle closes the least recently used idle segment of all registered TSDBs.
func (g *DescriptorGuard) closeOldestIdle() bool {
	g.mu.Lock()
	dbs := make([]idleCloser, 0, len(g.dbs))
	for db := range g.dbs {
		dbs = append(dbs, db)
	}
	g.mu.Unlock()
	for {
		var oldest idleCloser
		var oldestUsed int64
		for _, db := range dbs {
			if used, ok := db.oldestIdle(); ok && (oldest == nil || used < oldestUsed) {
				oldest, oldestUsed = db, used
			}
		}
		if oldest == nil {
			return false
		}
		// Another caller may have closed it meanwhile: then look again.
		if oldest.closeOldestIdle() {
			return true
		}
	}
}
