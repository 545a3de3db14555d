// Package storage is a generic time-segmented store: a TSDB splits time into segments and each
// segment into shards, and keeps one user-supplied table per (segment, shard).
//
// # Layout on disk
//
//	<Location>/                      one TSDB, conventionally <root>/<group>
//	  lock                           flock'ed while the TSDB is open
//	  seg-2026112500/                a segment; the name is its UTC start hour, YYYYMMDDHH
//	    metadata                     JSON: version, start, end, interval, shardNum
//	    shard-0/ ... shard-<n-1>/    one table directory per shard, created on first use
//	  .creating-seg-*                a segment being created (deleted at open if left over)
//	  .deleting-seg-*                a segment being deleted (deleted at open if left over)
//
// A new segment starts at the latest multiple of the segment interval, counted from the Unix
// epoch in UTC, that is <= the timestamp it is created for, and ends one interval later. For a
// 1-day interval the segment of 2026-11-25T13:00Z is [2026-11-25T00:00Z, 2026-11-26T00:00Z),
// stored in seg-2026112500: its last millisecond 23:59:59.999 belongs to it and midnight to the
// next one. If UpdateOptions changed the interval, a new segment is clipped by its neighbours so
// that segments never overlap; segments removed by retention but still referenced count as
// neighbours until they are deleted, so a directory name is never reused while its old
// directory still exists. The end and the shard number are read back from metadata, which
// is written to a temporary file, fsynced and renamed, inside a directory that is itself built
// under a ".creating-" name and renamed into place: a "seg-" directory always has its metadata.
//
// # Retention
//
// With deadline = now - TTL (now from the injected timestamp.Clock), a segment is expired when
// its end <= deadline, i.e. when all its data is older than the deadline, and
// CreateSegmentIfNotExist rejects timestamps before the deadline with ErrSegmentExpired. A
// background sweep every RetentionCheckInterval removes expired segments; DeleteExpiredSegments
// runs one sweep on demand. Deleting a directory renames it to a ".deleting-" name first and
// then removes it, so a crash never leaves a half-deleted segment under its live name.
//
// # Ownership and references
//
// The TSDB owns its segments and their tables; the caller owns the table implementation (the
// TableOpener) and every reference it receives. Each Segment returned by
// CreateSegmentIfNotExist, SelectSegments or Segments carries one reference that the caller
// must release with DecRef exactly once, after it is done with the segment and its tables; do
// not keep tables obtained from a segment after releasing it.
//
// The TSDB's segment list holds one reference on each live segment. Retention, Close and Drop
// remove segments from the list under the TSDB lock and release the list's reference outside
// it; the last DecRef then closes the tables and, for dropped segments, deletes the directory.
// So a query that selected a segment keeps reading it safely while the segment expires. Close
// and Drop wait until every reference has been released (logging every 10 seconds while they
// wait), so that on return all tables are closed and the lock is free.
//
// Drop renames the whole location to a ".deleting-" sibling in its parent directory before
// removing it; after a crash during Drop that sibling is left for the owner of the parent. It
// refuses to delete a location holding entries no TSDB writes (ErrUnsafeLocation), and
// GroupLocation builds a group's location only from a name that is one plain directory entry.
//
// # Open tables
//
// Tables open on first use (Table, Tables, OpenedTable), not in OpenTSDB, so a TSDB with
// hundreds of segments starts with none open. A segment that only the list references is idle:
// after IdleTimeout without use its tables are closed, and when more than MaxOpenSegments
// segments have open tables the least recently used idle ones are closed right away. Closing
// happens under the TSDB lock for writing, when no caller can hold or take a reference, so a
// caller never sees its tables closed; they reopen on the next use. A long reader should release
// each segment once it is done with it, so that the ones it read may close while it reads on.
//
// # Usage
//
//	db, err := storage.OpenTSDB(storage.TSDBOpts[*myTable]{
//		Location:        filepath.Join(root, group),
//		ShardNum:        2,
//		SegmentInterval: storage.IntervalRule{Unit: storage.DAY, Num: 1},
//		TTL:             storage.IntervalRule{Unit: storage.DAY, Num: 7},
//		OpenTable:       openMyTable,
//	})
//	...
//	seg, err := db.CreateSegmentIfNotExist(spanTime)
//	if err != nil { ... }
//	defer seg.DecRef()
//	table, err := seg.Table(shard)
package storage
