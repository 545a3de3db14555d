package storage

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/errors"
	"github.com/rs/zerolog"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// fakeTable stands in for a real table: it appends values to a file in its directory, so that
// a reopened TSDB can show it finds data written before, and it counts Close calls.
type fakeTable struct {
	dir      string
	shard    ShardID
	segment  timestamp.TimeRange
	closeErr error
	closes   atomic.Int32
	mu       sync.Mutex
}

func (f *fakeTable) Close() error {
	f.closes.Add(1)
	return f.closeErr
}

// errUsedAfterClose reports a table written after it was closed: the TSDB closed it under a caller.
var errUsedAfterClose = errors.New("table used after close")

func (f *fakeTable) Put(v string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closes.Load() > 0 {
		return errors.Wrap(errUsedAfterClose, f.dir)
	}
	file, err := os.OpenFile(filepath.Join(f.dir, "data"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := file.WriteString(v + "\n"); err != nil {
		_ = file.Close()
		return err
	}
	return file.Close()
}

func (f *fakeTable) Values() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(filepath.Join(f.dir, "data"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(data))
}

// tableRecorder is a TableOpener that remembers every table it opened.
type tableRecorder struct {
	mu       sync.Mutex
	tables   []*fakeTable
	fail     func(dir string, shard ShardID) error
	closeErr error
}

var errInjected = errors.New("injected failure")

func (r *tableRecorder) open(dir string, segment timestamp.TimeRange, shard ShardID) (*fakeTable, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, errors.Errorf("table dir %s missing: %v", dir, err)
	}
	if r.fail != nil {
		if err := r.fail(dir, shard); err != nil {
			return nil, err
		}
	}
	t := &fakeTable{dir: dir, shard: shard, segment: segment, closeErr: r.closeErr}
	r.tables = append(r.tables, t)
	return t, nil
}

func (r *tableRecorder) all() []*fakeTable {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*fakeTable(nil), r.tables...)
}

func (r *tableRecorder) opensOf(dir string) int {
	n := 0
	for _, t := range r.all() {
		if t.dir == dir {
			n++
		}
	}
	return n
}

// checkClosed fails the test unless every opened table was closed exactly once.
func (r *tableRecorder) checkClosed(t *testing.T) {
	t.Helper()
	for _, tb := range r.all() {
		if n := tb.closes.Load(); n != 1 {
			t.Errorf("table %s closed %d times, want 1", tb.dir, n)
		}
	}
}

func nopLogger() *zerolog.Logger {
	l := zerolog.Nop()
	return &l
}

// testNow is the initial time of every test clock.
var testNow = utc(2026, 11, 25, 12, 0, 0, 0)

type testDB struct {
	TSDB[*fakeTable]
	opts  TSDBOpts[*fakeTable]
	rec   *tableRecorder
	clock *timestamp.MockClock
}

// newTestDB opens a TSDB in a temporary directory with 2 shards, 1-day segments, a 7-day TTL,
// a mock clock at testNow and a retention period long enough not to interfere. mods adjust the
// options. The TSDB is closed when the test ends.
func newTestDB(t *testing.T, mods ...func(*TSDBOpts[*fakeTable])) *testDB {
	t.Helper()
	rec := &tableRecorder{}
	clock := timestamp.NewMockClock(testNow)
	opts := TSDBOpts[*fakeTable]{
		Location:               filepath.Join(t.TempDir(), "group"),
		ShardNum:               2,
		SegmentInterval:        IntervalRule{Unit: DAY, Num: 1},
		TTL:                    IntervalRule{Unit: DAY, Num: 7},
		OpenTable:              rec.open,
		Clock:                  clock,
		RetentionCheckInterval: 24 * time.Hour,
	}
	for _, m := range mods {
		m(&opts)
	}
	db, err := OpenTSDB(opts)
	if err != nil {
		t.Fatalf("OpenTSDB: %v", err)
	}
	tdb := &testDB{TSDB: db, opts: opts, rec: rec, clock: clock}
	t.Cleanup(func() { _ = tdb.Close() })
	return tdb
}

// reopen closes d and opens the same location with the same options, clock and recorder.
func (d *testDB) reopen(t *testing.T) *testDB {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db, err := OpenTSDB(d.opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	tdb := &testDB{TSDB: db, opts: d.opts, rec: d.rec, clock: d.clock}
	t.Cleanup(func() { _ = tdb.Close() })
	return tdb
}

// create returns the segment for ts and fails the test on error.
func (d *testDB) create(t *testing.T, ts time.Time) Segment[*fakeTable] {
	t.Helper()
	s, err := d.CreateSegmentIfNotExist(ts)
	if err != nil {
		t.Fatalf("CreateSegmentIfNotExist(%s): %v", ts, err)
	}
	return s
}

// names returns the base names of the segments' directories and releases the segments.
func names[T TSTable](segs []Segment[T]) []string {
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		out = append(out, filepath.Base(s.Dir()))
		s.DecRef()
	}
	return out
}

// entries returns the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// mustTables returns the tables of s and fails the test on error.
func mustTables[T TSTable](t *testing.T, s Segment[T]) []T {
	t.Helper()
	tables, err := s.Tables()
	if err != nil {
		t.Fatalf("Tables of %s: %v", s.Dir(), err)
	}
	return tables
}
