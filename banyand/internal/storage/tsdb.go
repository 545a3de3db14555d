package storage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"
	"github.com/rs/zerolog"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// closeWaitWarnPeriod is how often Close logs while waiting for segment references.
const closeWaitWarnPeriod = 10 * time.Second

// database is the implementation of TSDB.
type database[T TSTable] struct {
	location  string
	openTable TableOpener[T]
	clock     timestamp.Clock
	l         *zerolog.Logger
	lock      *dirLock

	// dyn holds the options UpdateOptions may change. Readers load it without the lock;
	// UpdateOptions replaces it while holding mu so concurrent updates do not lose fields.
	dyn atomic.Pointer[dynamicOptions]

	// unreleased counts segment objects whose last reference has not been released yet,
	// live or detached; Close waits for it to drain. segmentsAlive mirrors it for logs.
	unreleased    sync.WaitGroup
	segmentsAlive atomic.Int64

	stopRetention chan struct{}
	retentionDone chan struct{}
	idleDone      chan struct{}

	// idleTimeout and maxOpenSegments are TSDBOpts.IdleTimeout and MaxOpenSegments.
	idleTimeout     time.Duration
	maxOpenSegments int
	// descriptors is TSDBOpts.Descriptors: it admits every table open of the TSDB's segments and
	// may close the TSDB's idle segments for another TSDB's table.
	descriptors *DescriptorGuard

	// mu guards the segment list. The write lock is held to add or remove segments, including
	// the directory creation of a new segment (rare: once per interval), so that two writers
	// cannot create the same segment. Closing and deleting happen outside the lock.
	mu struct {
		sync.RWMutex
		// segments is sorted by start and non-overlapping; each element holds the list reference.
		segments []*segment[T]
		// dropping holds the segments removed by retention whose directory is not deleted yet
		// because a caller still references them. New segments must not overlap them, or the
		// new directory could take the name of one that is about to be deleted.
		dropping []*segment[T]
		closed   bool
	}
}

var _ TSDB[TSTable] = (*database[TSTable])(nil)

// OpenTSDB opens, creating if needed, the TSDB at opts.Location.
//
// It validates opts (errors wrap ErrInvalidOptions), takes the location's lock file (ErrLocked
// if another TSDB holds it), deletes debris of interrupted creations and deletions, reopens
// every segment directory with the tables of its existing shards (errors wrap ErrCorruptSegment
// for unreadable segments), and starts the retention sweep. On error nothing stays open.
func OpenTSDB[T TSTable](opts TSDBOpts[T]) (_ TSDB[T], err error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Location, 0o755); err != nil {
		return nil, errors.Wrapf(err, "create tsdb location %s", opts.Location)
	}
	lock, err := lockDir(opts.Location)
	if err != nil {
		return nil, err
	}
	db := &database[T]{
		location:      opts.Location,
		openTable:     opts.OpenTable,
		clock:         opts.Clock,
		l:             opts.Logger,
		lock:          lock,
		stopRetention: make(chan struct{}),
		retentionDone: make(chan struct{}),
		idleDone:      make(chan struct{}),

		idleTimeout:     opts.IdleTimeout,
		maxOpenSegments: opts.MaxOpenSegments,
		descriptors:     opts.Descriptors,
	}
	db.dyn.Store(&dynamicOptions{shardNum: opts.ShardNum, segmentInterval: opts.SegmentInterval, ttl: opts.TTL})
	defer func() {
		if err == nil {
			return
		}
		// Nothing is shared yet: release the segments loaded so far (closing their tables,
		// deleting nothing) and the lock, so that the caller can retry.
		for _, s := range db.mu.segments {
			if rerr := s.release(); rerr != nil {
				db.l.Error().Err(rerr).Msg("release segment after failed open")
			}
		}
		db.mu.segments = nil
		if lerr := lock.release(); lerr != nil {
			db.l.Error().Err(lerr).Msg("release lock after failed open")
		}
	}()
	if err := db.removeLeftovers(); err != nil {
		return nil, err
	}
	if err := db.loadSegments(); err != nil {
		return nil, errors.Wrapf(err, "open tsdb %s", opts.Location)
	}
	db.descriptors.register(db)
	go db.retentionLoop(opts.RetentionCheckInterval, db.stopRetention, db.retentionDone)
	go db.idleLoop(db.stopRetention, db.idleDone)
	db.l.Info().Str("location", db.location).Int("segments", len(db.mu.segments)).Msg("tsdb opened")
	return db, nil
}

// removeLeftovers deletes the ".creating-" and ".deleting-" entries of interrupted operations.
func (db *database[T]) removeLeftovers() error {
	entries, err := os.ReadDir(db.location)
	if err != nil {
		return errors.Wrapf(err, "read tsdb location %s", db.location)
	}
	for _, e := range entries {
		if !isLeftover(e.Name()) {
			continue
		}
		path := filepath.Join(db.location, e.Name())
		if err := os.RemoveAll(path); err != nil {
			return errors.Wrapf(err, "remove leftover %s", path)
		}
		db.l.Info().Str("path", path).Msg("removed leftover of an interrupted operation")
	}
	return nil
}

// loadSegments reopens every segment directory into db.mu.segments. On error the segments
// loaded so far stay in db.mu.segments for the caller to release.
func (db *database[T]) loadSegments() error {
	entries, err := os.ReadDir(db.location)
	if err != nil {
		return errors.Wrapf(err, "read tsdb location %s", db.location)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, segmentPrefix) {
			if name != lockFileName {
				db.l.Warn().Str("entry", name).Msg("ignoring unknown entry in tsdb location")
			}
			continue
		}
		dir := filepath.Join(db.location, name)
		start, err := parseSegmentName(name)
		if err != nil {
			return &corruptSegmentError{dir: dir, cause: err}
		}
		m, err := readSegmentMeta(dir, start)
		if err != nil {
			return err
		}
		s := db.newSegment(dir, m)
		db.mu.segments = append(db.mu.segments, s)
		if err := findExistingShards(s); err != nil {
			return err
		}
	}
	sort.Slice(db.mu.segments, func(i, j int) bool {
		return db.mu.segments[i].tr.Start.Before(db.mu.segments[j].tr.Start)
	})
	for i := 1; i < len(db.mu.segments); i++ {
		prev, cur := db.mu.segments[i-1], db.mu.segments[i]
		if prev.tr.End.After(cur.tr.Start) {
			return &corruptSegmentError{dir: cur.dir, cause: errors.Errorf("overlaps %s %s", prev.dir, prev.tr)}
		}
	}
	return nil
}

// findExistingShards records every shard directory of s, so that Tables and OpenedTable open
// the data written before the TSDB was last closed. Nothing is opened here: a TSDB with
// hundreds of segments opens only those that are used.
func findExistingShards[T TSTable](s *segment[T]) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return errors.Wrapf(err, "read segment dir %s", s.dir)
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), shardPrefix) {
			continue
		}
		id, err := parseShardName(e.Name())
		if err != nil {
			return &corruptSegmentError{dir: s.dir, cause: err}
		}
		if uint32(id) >= s.shardNum {
			return &corruptSegmentError{dir: s.dir, cause: errors.Errorf("shard %d but shardNum is %d", id, s.shardNum)}
		}
		s.markOnDisk(id)
	}
	return nil
}

// newSegment builds a live segment and counts it in unreleased.
func (db *database[T]) newSegment(dir string, m segmentMeta) *segment[T] {
	db.unreleased.Add(1)
	db.segmentsAlive.Add(1)
	var s *segment[T]
	s = newSegment(dir, m, db.openTable, db.l, db.clock.Now, func() { db.segmentReleased(s) }, db.enforceOpenLimit, db.descriptors.admit)
	return s
}

// segmentReleased runs after the last reference of s is released and its resources are freed.
// It takes db.mu, so a segment must never be released while db.mu is held.
func (db *database[T]) segmentReleased(s *segment[T]) {
	db.mu.Lock()
	db.mu.dropping = slices.DeleteFunc(db.mu.dropping, func(d *segment[T]) bool { return d == s })
	db.mu.Unlock()
	db.segmentsAlive.Add(-1)
	db.unreleased.Done()
}

// CreateSegmentIfNotExist returns the segment covering ts, creating it if needed.
func (db *database[T]) CreateSegmentIfNotExist(ts time.Time) (Segment[T], error) {
	if ts.Before(timestamp.MinNanoTime) || ts.After(timestamp.MaxNanoTime) {
		return nil, errors.Wrapf(timestamp.ErrTimeOutOfRange, "segment for %s", ts.Format(time.RFC3339Nano))
	}
	dyn := db.dyn.Load()
	if deadline := retentionDeadline(db.clock.Now(), dyn.ttl); ts.Before(deadline) {
		return nil, errors.Wrapf(ErrSegmentExpired, "%s is before %s (ttl %s)",
			ts.Format(time.RFC3339Nano), deadline.Format(time.RFC3339Nano), dyn.ttl)
	}

	db.mu.RLock()
	if db.mu.closed {
		db.mu.RUnlock()
		return nil, errors.Wrapf(ErrClosed, "create segment in %s", db.location)
	}
	if s, _ := db.findLocked(ts); s != nil {
		s.IncRef()
		db.mu.RUnlock()
		return s, nil
	}
	db.mu.RUnlock()

	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return nil, errors.Wrapf(ErrClosed, "create segment in %s", db.location)
	}
	// Another writer may have created it between the two locks.
	s, idx := db.findLocked(ts)
	if s == nil {
		var err error
		if s, err = db.createSegmentLocked(ts, idx, db.dyn.Load()); err != nil {
			return nil, err
		}
	}
	s.IncRef()
	return s, nil
}

// findLocked returns the segment containing ts, if any, and the index of the first segment
// starting after ts (the insertion point for a new one). db.mu must be held.
func (db *database[T]) findLocked(ts time.Time) (*segment[T], int) {
	segs := db.mu.segments
	idx := sort.Search(len(segs), func(i int) bool { return segs[i].tr.Start.After(ts) })
	if idx > 0 && ts.Before(segs[idx-1].tr.End) {
		return segs[idx-1], idx
	}
	return nil, idx
}

// createSegmentLocked creates the segment for ts on disk and inserts it at idx. db.mu must be
// held for writing.
//
// The range is one interval aligned to the epoch, clipped by the neighbours (live segments and
// those still being dropped) so that segments never overlap, also after UpdateOptions changed
// the interval. All boundaries are whole UTC hours, so segment names stay unique. If ts falls in
// a segment being dropped, retention overtook the caller's TTL check and ts is expired.
func (db *database[T]) createSegmentLocked(ts time.Time, idx int, dyn *dynamicOptions) (*segment[T], error) {
	start := dyn.segmentInterval.alignedStart(ts)
	end := dyn.segmentInterval.NextTime(start)
	clip := func(tr timestamp.TimeRange) {
		if !tr.Start.After(ts) && tr.End.After(start) {
			start = tr.End
		}
		if tr.Start.After(ts) && tr.Start.Before(end) {
			end = tr.Start
		}
	}
	segs := db.mu.segments
	if idx > 0 {
		clip(segs[idx-1].tr)
	}
	if idx < len(segs) {
		clip(segs[idx].tr)
	}
	for _, d := range db.mu.dropping {
		if d.tr.Contains(ts.UnixNano()) {
			return nil, errors.Wrapf(ErrSegmentExpired, "%s is in segment %s being dropped by retention",
				ts.Format(time.RFC3339Nano), d.tr)
		}
		clip(d.tr)
	}
	m := segmentMeta{
		Version:  metadataVersion,
		Start:    start,
		End:      end,
		Interval: newIntervalMeta(dyn.segmentInterval),
		ShardNum: dyn.shardNum,
	}
	dir, err := createSegmentDir(db.location, m)
	if err != nil {
		return nil, err
	}
	s := db.newSegment(dir, m)
	db.mu.segments = slices.Insert(segs, idx, s)
	s.l.Info().Str("range", s.tr.String()).Uint32("shards", m.ShardNum).Msg("segment created")
	return s, nil
}

// createSegmentDir makes the directory of a new segment with its metadata file. It builds the
// directory under a ".creating-" name and renames it into place, so a "seg-" directory always
// has its metadata.
func createSegmentDir(location string, m segmentMeta) (_ string, err error) {
	name := segmentName(m.Start)
	dir := filepath.Join(location, name)
	tmp := filepath.Join(location, creatingPrefix+name)
	if err := os.RemoveAll(tmp); err != nil {
		return "", errors.Wrapf(err, "remove stale %s", tmp)
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", errors.Wrapf(err, "create segment dir %s", tmp)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", errors.Wrapf(err, "encode metadata of %s", name)
	}
	if err := writeFileAtomic(filepath.Join(tmp, metadataFile), data); err != nil {
		return "", err
	}
	if _, err := os.Stat(dir); err == nil {
		return "", errors.Errorf("segment dir %s already exists", dir)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", errors.Wrapf(err, "rename %s to %s", tmp, dir)
	}
	if err := syncDir(location); err != nil {
		return "", err
	}
	return dir, nil
}

// SelectSegments returns the live segments overlapping tr, referenced.
func (db *database[T]) SelectSegments(tr timestamp.TimeRange) []Segment[T] {
	db.mu.RLock()
	defer db.mu.RUnlock()
	var out []Segment[T]
	for _, s := range db.mu.segments {
		if s.tr.Overlapping(tr) {
			s.IncRef()
			out = append(out, s)
		}
	}
	return out
}

// Segments returns all live segments, referenced.
func (db *database[T]) Segments() []Segment[T] {
	db.mu.RLock()
	defer db.mu.RUnlock()
	out := make([]Segment[T], 0, len(db.mu.segments))
	for _, s := range db.mu.segments {
		s.IncRef()
		out = append(out, s)
	}
	return out
}

// expiredLocked returns the indexes of the live segments expired at now. db.mu must be held.
func (db *database[T]) expiredLocked(now time.Time, ttl IntervalRule) []int {
	ranges := make([]timestamp.TimeRange, len(db.mu.segments))
	for i, s := range db.mu.segments {
		ranges[i] = s.tr
	}
	return expiredSegments(ranges, now, ttl)
}

// GetExpiredSegmentsTimeRange returns [first expired start, last expired end), or nil.
func (db *database[T]) GetExpiredSegmentsTimeRange() *timestamp.TimeRange {
	ttl := db.dyn.Load().ttl
	now := db.clock.Now()
	db.mu.RLock()
	defer db.mu.RUnlock()
	idx := db.expiredLocked(now, ttl)
	if len(idx) == 0 {
		return nil
	}
	// Segments are sorted and disjoint, so the expired ones are a prefix; the span is exact.
	tr := timestamp.NewSectionTimeRange(db.mu.segments[idx[0]].tr.Start, db.mu.segments[idx[len(idx)-1]].tr.End)
	return &tr
}

// DeleteExpiredSegments detaches the expired segments under the lock and releases them after it.
func (db *database[T]) DeleteExpiredSegments() (int, error) {
	ttl := db.dyn.Load().ttl
	now := db.clock.Now()
	return db.removeSegments("retention", func(segs []*segment[T]) []int {
		ranges := make([]timestamp.TimeRange, len(segs))
		for i, s := range segs {
			ranges[i] = s.tr
		}
		return expiredSegments(ranges, now, ttl)
	}, func(s *segment[T]) {
		s.l.Info().Str("range", s.tr.String()).Str("ttl", ttl.String()).Msg("segment expired")
	})
}

// DeleteSegmentsBySuffix removes the listed expired segments; see TSDB.DeleteSegmentsBySuffix.
func (db *database[T]) DeleteSegmentsBySuffix(suffixes []string) (int, error) {
	ttl := db.dyn.Load().ttl
	now := db.clock.Now()
	return db.removeSegments("delete segments", func(segs []*segment[T]) []int {
		ranges := make([]timestamp.TimeRange, len(segs))
		for i, s := range segs {
			ranges[i] = s.tr
		}
		var idx []int
		for _, i := range expiredSegments(ranges, now, ttl) {
			for _, suffix := range suffixes {
				if SegmentSuffixMatches(segs[i].tr.Start, suffix) {
					idx = append(idx, i)
					break
				}
			}
		}
		return idx
	}, func(s *segment[T]) {
		s.l.Info().Str("range", s.tr.String()).Msg("segment deleted by request")
	})
}

// DropSegments removes every live segment; see TSDB.DropSegments.
func (db *database[T]) DropSegments() (int, error) {
	return db.removeSegments("drop segments", func(segs []*segment[T]) []int {
		idx := make([]int, len(segs))
		for i := range segs {
			idx[i] = i
		}
		return idx
	}, func(s *segment[T]) {
		s.l.Info().Str("range", s.tr.String()).Msg("segment dropped with the group's data")
	})
}

// removeSegments detaches, under the lock, the live segments whose indexes pick returns (in
// increasing order), and releases them after it: a segment still referenced is closed and deleted
// by its last DecRef. It returns how many were removed.
func (db *database[T]) removeSegments(op string, pick func([]*segment[T]) []int, logRemoved func(*segment[T])) (int, error) {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return 0, errors.Wrapf(ErrClosed, "%s of %s", op, db.location)
	}
	idx := pick(db.mu.segments)
	if len(idx) == 0 {
		db.mu.Unlock()
		return 0, nil
	}
	removed := make([]*segment[T], 0, len(idx))
	keep := make([]*segment[T], 0, len(db.mu.segments)-len(idx))
	next := 0
	for i, s := range db.mu.segments {
		if next < len(idx) && idx[next] == i {
			next++
			s.mustDrop.Store(true)
			removed = append(removed, s)
			continue
		}
		keep = append(keep, s)
	}
	db.mu.segments = keep
	db.mu.dropping = append(db.mu.dropping, removed...)
	db.mu.Unlock()

	var err error
	for _, s := range removed {
		logRemoved(s)
		err = multierr.Append(err, s.release())
	}
	return len(removed), errors.Wrapf(err, "%s of %s", op, db.location)
}

// UpdateOptions replaces the dynamic options, keeping the old value of each invalid field.
func (db *database[T]) UpdateOptions(shardNum uint32, segmentInterval, ttl IntervalRule) {
	db.mu.Lock()
	defer db.mu.Unlock()
	next := *db.dyn.Load()
	if shardNum == 0 {
		db.l.Error().Msg("UpdateOptions: ignoring shard number 0")
	} else {
		next.shardNum = shardNum
	}
	if err := segmentInterval.Validate(); err != nil {
		db.l.Error().Err(err).Msg("UpdateOptions: ignoring segment interval")
	} else {
		next.segmentInterval = segmentInterval
	}
	if err := ttl.Validate(); err != nil {
		db.l.Error().Err(err).Msg("UpdateOptions: ignoring ttl")
	} else {
		next.ttl = ttl
	}
	db.dyn.Store(&next)
	db.l.Info().Uint32("shards", next.shardNum).Str("segmentInterval", next.segmentInterval.String()).
		Str("ttl", next.ttl.String()).Msg("tsdb options updated")
}

// Close closes the TSDB; see TSDB.Close.
func (db *database[T]) Close() error {
	return db.shutdown(false)
}

// Drop closes the TSDB and deletes its location; see TSDB.Drop.
func (db *database[T]) Drop() error {
	return db.shutdown(true)
}

// shutdown detaches every segment, stops retention, releases the list references, waits for
// the callers' references, frees the lock and, when drop is set, deletes the location.
//
// On drop the whole location is renamed to a ".deleting-" sibling and then removed, so a crash
// cannot leave a partly deleted TSDB that would reopen with some of its segments missing.
func (db *database[T]) shutdown(drop bool) error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		if drop {
			return errors.Wrapf(ErrClosed, "drop %s", db.location)
		}
		return nil
	}
	db.mu.closed = true
	segs := db.mu.segments
	db.mu.segments = nil
	db.mu.Unlock()
	db.descriptors.unregister(db)

	close(db.stopRetention)
	<-db.retentionDone
	<-db.idleDone

	var err error
	for _, s := range segs {
		err = multierr.Append(err, s.release())
	}
	db.waitUnreleased()
	err = multierr.Append(err, db.lock.release())
	if drop {
		if cerr := checkDroppable(db.location); cerr != nil {
			err = multierr.Append(err, cerr)
		} else {
			err = multierr.Append(err, removeDir(db.location))
		}
	}
	if err != nil {
		return errors.Wrapf(err, "close tsdb %s", db.location)
	}
	db.l.Info().Str("location", db.location).Bool("dropped", drop).Msg("tsdb closed")
	return nil
}

// waitUnreleased blocks until every segment's last reference is released, logging periodically
// so that a caller leaking references shows up in the logs rather than as a silent hang.
func (db *database[T]) waitUnreleased() {
	done := make(chan struct{})
	go func() {
		db.unreleased.Wait()
		close(done)
	}()
	ticker := time.NewTicker(closeWaitWarnPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return
		case <-ticker.C:
			db.l.Warn().Int64("segments", db.segmentsAlive.Load()).
				Msg("close is waiting for segment references to be released (missing DecRef?)")
		}
	}
}
