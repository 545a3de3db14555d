package storage

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

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
	// onOpened runs after a table of the segment was opened, outside every lock of the segment;
	// the TSDB uses it to keep the number of segments with open tables within its limit.
	onOpened func()
	// admit is asked before a table opens; an error refuses the open (DescriptorGuard.admit).
	admit func() error
	// now tells the time recorded in lastUsed.
	now func() time.Time

	// lastUsed is when the segment's tables were last asked for or a reference was last
	// released, in Unix nanoseconds: what the idle sweep compares with the idle timeout.
	lastUsed atomic.Int64
	// openCount is the number of shards whose table is open; changed under the shard's lock.
	openCount atomic.Int32

	refCount atomic.Int32
	// mustDrop is set before the list reference is released; the last release then deletes dir.
	mustDrop atomic.Bool
	// released is set by the last release before it closes the tables; Table refuses to open after it.
	released atomic.Bool

	// shards has one slot per shard; each slot has its own lock so that opening a slow table
	// (e.g. Pebble replaying its WAL) blocks neither other shards nor the TSDB.
	shards []shardSlot[T]
}

// shardSlot holds the table of one shard once it is open. A shard whose directory exists has
// onDisk set; its table may be closed while the segment is idle and is opened again on demand.
type shardSlot[T TSTable] struct {
	mu     sync.Mutex
	table  T    // guarded by mu
	opened bool // guarded by mu
	onDisk bool // guarded by mu
}

var _ Segment[TSTable] = (*segment[TSTable])(nil)

// newSegment returns a live segment holding the list reference. onReleased runs once, after the
// last reference is released and the resources are freed.
func newSegment[T TSTable](dir string, m segmentMeta, openTable TableOpener[T], l *zerolog.Logger,
	now func() time.Time, onReleased, onOpened func(), admit func() error,
) *segment[T] {
	sl := l.With().Str("segment", filepath.Base(dir)).Logger()
	s := &segment[T]{
		dir:        dir,
		tr:         timestamp.NewSectionTimeRange(m.Start, m.End),
		shardNum:   m.ShardNum,
		openTable:  openTable,
		l:          &sl,
		onReleased: onReleased,
		onOpened:   onOpened,
		admit:      admit,
		now:        now,
		shards:     make([]shardSlot[T], m.ShardNum),
	}
	s.refCount.Store(1)
	s.touch()
	return s
}

// touch records that the segment is being used now.
func (s *segment[T]) touch() { s.lastUsed.Store(s.now().UnixNano()) }

// markOnDisk records the shards whose directories exist, so that their tables open on demand.
func (s *segment[T]) markOnDisk(shard ShardID) {
	slot := &s.shards[shard]
	slot.mu.Lock()
	slot.onDisk = true
	slot.mu.Unlock()
}

// TimeRange returns [start, end).
func (s *segment[T]) TimeRange() timestamp.TimeRange { return s.tr }

// ShardNum returns the number of shards the segment was created with.
func (s *segment[T]) ShardNum() uint32 { return s.shardNum }

// Dir returns the segment directory.
func (s *segment[T]) Dir() string { return s.dir }

// Table returns the table of shard, creating or opening it on first use.
func (s *segment[T]) Table(shard ShardID) (T, error) {
	var zero T
	if uint32(shard) >= s.shardNum {
		return zero, errors.Wrapf(ErrShardOutOfRange, "shard %d, segment %s has %d shards", shard, s.dir, s.shardNum)
	}
	t, _, err := s.shardTable(shard, true)
	return t, err
}

// OpenedTable returns the table of shard if the shard exists on disk, opening it again if the
// idle sweep closed it, without creating it: readers use it so that a query never creates empty
// tables. ok is false when the shard has no table.
func (s *segment[T]) OpenedTable(shard ShardID) (T, bool, error) {
	var zero T
	if uint32(shard) >= s.shardNum {
		return zero, false, nil
	}
	return s.shardTable(shard, false)
}

// Tables returns, in shard order, the tables of every shard that exists on disk, opening those
// the idle sweep closed.
func (s *segment[T]) Tables() ([]T, error) {
	tables := make([]T, 0, len(s.shards))
	for i := range s.shards {
		t, ok, err := s.shardTable(ShardID(i), false)
		if err != nil {
			return nil, err
		}
		if ok {
			tables = append(tables, t)
		}
	}
	return tables, nil
}

// shardTable returns the table of shard, opening it if it is closed and either exists on disk
// or create is set (then its directory is created first). ok is false when the shard has no
// table and create is not set.
func (s *segment[T]) shardTable(shard ShardID, create bool) (_ T, ok bool, err error) {
	var zero T
	s.touch()
	slot := &s.shards[shard]
	slot.mu.Lock()
	if slot.opened {
		t := slot.table
		slot.mu.Unlock()
		return t, true, nil
	}
	opened := false
	defer func() {
		slot.mu.Unlock()
		if opened && s.onOpened != nil {
			s.onOpened()
		}
	}()
	if !slot.onDisk && !create {
		return zero, false, nil
	}
	// Checked under the slot lock: the last release sets released before it takes the slot
	// locks to close the tables, so a table is either refused here or seen and closed there.
	if s.released.Load() {
		return zero, false, errors.Wrapf(ErrSegmentClosed, "open shard %d of %s", shard, s.dir)
	}
	// The caller holds a reference to s, so the guard never closes s itself, and no TSDB lock:
	// the guard may take one to close another segment.
	if s.admit != nil {
		if err := s.admit(); err != nil {
			return zero, false, errors.WithMessagef(err, "open shard %d of %s", shard, filepath.Base(s.dir))
		}
	}
	dir := filepath.Join(s.dir, shardName(shard))
	if !slot.onDisk {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return zero, false, errors.Wrapf(err, "create shard dir %s", dir)
		}
		slot.onDisk = true
	}
	t, err := s.openTable(dir, s.tr, shard)
	if err != nil {
		return zero, false, errors.Wrapf(err, "open table %s", dir)
	}
	slot.table, slot.opened = t, true
	s.openCount.Add(1)
	opened = true
	return t, true, nil
}

// IncRef takes another reference; the caller must already hold one.
func (s *segment[T]) IncRef() {
	if n := s.refCount.Add(1); n <= 1 {
		panic("BUG: segment " + s.dir + " referenced after its last reference was released")
	}
}

// DecRef releases a reference and logs a failure of the final close or delete.
func (s *segment[T]) DecRef() {
	s.touch()
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

// closeTables closes every open table; shards on disk open again on demand unless the segment
// was released. It returns what went wrong closing them.
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
			s.openCount.Add(-1)
		}
		slot.mu.Unlock()
	}
	return err
}

// hasOpenTables reports whether any table of the segment is open.
func (s *segment[T]) hasOpenTables() bool { return s.openCount.Load() > 0 }

// unreferenced reports whether nobody but the TSDB's list holds a reference. The caller must hold
// the TSDB lock for writing, so that no new reference can be taken meanwhile.
func (s *segment[T]) unreferenced() bool { return s.refCount.Load() == 1 }
