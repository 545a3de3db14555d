package storage

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/pkg/errors"
	"github.com/rs/zerolog"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// segment is the implementation of Segment.
//
// Reference states:
//
//	live:     in the TSDB's list; refCount >= 1 because the list holds one reference.
//	detached: removed from the list (under the TSDB lock) by retention, Close or Drop; the list
//	          reference is then released outside the lock. refCount counts only callers now,
//	          and because the segment is unreachable it can only go down.
//	released: refCount reached 0. The release that got there closed the tables and, when
//	          mustDrop is set, deleted the directory, then called onReleased.
//
// A new reference is only taken while the segment is live (under the TSDB lock) or by a caller
// already holding one, so the count never rises from zero; IncRef and release panic with "BUG:"
// if it would.
type segment[T TSTable] struct {
	dir        string
	tr         timestamp.TimeRange
	shardNum   uint32
	openTable  TableOpener[T]
	l          *zerolog.Logger
	onReleased func()

	refCount atomic.Int32
	// mustDrop is set before the list reference is released; the last release then deletes dir.
	mustDrop atomic.Bool
	// released is set by the last release before it closes the tables; Table refuses to open after it.
	released atomic.Bool

	// shards has one slot per shard; each slot has its own lock so that opening a slow table
	// (e.g. Pebble replaying its WAL) blocks neither other shards nor the TSDB.
	shards []shardSlot[T]
}

// shardSlot holds the table of one shard once it is open.
type shardSlot[T TSTable] struct {
	mu     sync.Mutex
	table  T    // guarded by mu
	opened bool // guarded by mu
}

var _ Segment[TSTable] = (*segment[TSTable])(nil)

// newSegment returns a live segment holding the list reference. onReleased runs once, after the
// last reference is released and the resources are freed.
func newSegment[T TSTable](dir string, m segmentMeta, openTable TableOpener[T], l *zerolog.Logger, onReleased func()) *segment[T] {
	sl := l.With().Str("segment", filepath.Base(dir)).Logger()
	s := &segment[T]{
		dir:        dir,
		tr:         timestamp.NewSectionTimeRange(m.Start, m.End),
		shardNum:   m.ShardNum,
		openTable:  openTable,
		l:          &sl,
		onReleased: onReleased,
		shards:     make([]shardSlot[T], m.ShardNum),
	}
	s.refCount.Store(1)
	return s
}

// TimeRange returns [start, end).
func (s *segment[T]) TimeRange() timestamp.TimeRange { return s.tr }

// ShardNum returns the number of shards the segment was created with.
func (s *segment[T]) ShardNum() uint32 { return s.shardNum }

// Dir returns the segment directory.
func (s *segment[T]) Dir() string { return s.dir }

// Table returns the table of shard, opening it on first use.
func (s *segment[T]) Table(shard ShardID) (T, error) {
	var zero T
	if uint32(shard) >= s.shardNum {
		return zero, errors.Wrapf(ErrShardOutOfRange, "shard %d, segment %s has %d shards", shard, s.dir, s.shardNum)
	}
	slot := &s.shards[shard]
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.opened {
		return slot.table, nil
	}
	// Checked under the slot lock: the last release sets released before it takes the slot
	// locks to close the tables, so a table is either refused here or seen and closed there.
	if s.released.Load() {
		return zero, errors.Wrapf(ErrSegmentClosed, "open shard %d of %s", shard, s.dir)
	}
	dir := filepath.Join(s.dir, shardName(shard))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return zero, errors.Wrapf(err, "create shard dir %s", dir)
	}
	t, err := s.openTable(dir, s.tr, shard)
	if err != nil {
		return zero, errors.Wrapf(err, "open table %s", dir)
	}
	slot.table, slot.opened = t, true
	return t, nil
}

// OpenedTable returns the table of shard if it is open (every shard present on disk is), without
// creating it: readers use it so that a query never creates empty tables.
func (s *segment[T]) OpenedTable(shard ShardID) (T, bool) {
	var zero T
	if uint32(shard) >= s.shardNum {
		return zero, false
	}
	slot := &s.shards[shard]
	slot.mu.Lock()
	defer slot.mu.Unlock()
	return slot.table, slot.opened
}

// Tables returns the open tables in shard order.
func (s *segment[T]) Tables() []T {
	tables := make([]T, 0, len(s.shards))
	for i := range s.shards {
		slot := &s.shards[i]
		slot.mu.Lock()
		if slot.opened {
			tables = append(tables, slot.table)
		}
		slot.mu.Unlock()
	}
	return tables
}

// IncRef takes another reference; the caller must already hold one.
func (s *segment[T]) IncRef() {
	if n := s.refCount.Add(1); n <= 1 {
		panic("BUG: segment " + s.dir + " referenced after its last reference was released")
	}
}

// DecRef releases a reference and logs a failure of the final close or delete.
func (s *segment[T]) DecRef() {
	if err := s.release(); err != nil {
		s.l.Error().Err(err).Msg("release segment")
	}
}

// release drops one reference. The call that drops the last one closes the tables, deletes the
// directory if mustDrop is set, and returns what went wrong doing so.
func (s *segment[T]) release() error {
	n := s.refCount.Add(-1)
	if n > 0 {
		return nil
	}
	if n < 0 {
		panic("BUG: segment " + s.dir + " reference count went negative")
	}
	s.released.Store(true)
	err := s.closeTables()
	if s.mustDrop.Load() {
		if rerr := removeDir(s.dir); rerr != nil {
			err = multierr.Append(err, rerr)
		} else {
			s.l.Info().Msg("segment deleted")
		}
	}
	s.onReleased()
	return err
}

func (s *segment[T]) closeTables() error {
	var err error
	for i := range s.shards {
		slot := &s.shards[i]
		slot.mu.Lock()
		if slot.opened {
			if cerr := slot.table.Close(); cerr != nil {
				err = multierr.Append(err, errors.Wrapf(cerr, "close table %s", filepath.Join(s.dir, shardName(ShardID(i)))))
			}
			var zero T
			slot.table, slot.opened = zero, false
		}
		slot.mu.Unlock()
	}
	return err
}
