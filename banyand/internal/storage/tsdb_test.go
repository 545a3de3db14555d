package storage

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

func day(d int) time.Time { return utc(2026, 11, d, 0, 0, 0, 0) }

func TestCreateSegmentBoundaries(t *testing.T) {
	db := newTestDB(t)
	tests := []struct {
		ts        time.Time
		wantName  string
		wantRange timestamp.TimeRange
	}{
		{day(25), "seg-2026112500", timestamp.NewSectionTimeRange(day(25), day(26))},
		{day(25).Add(13 * time.Hour), "seg-2026112500", timestamp.NewSectionTimeRange(day(25), day(26))},
		{day(26).Add(-time.Millisecond), "seg-2026112500", timestamp.NewSectionTimeRange(day(25), day(26))},
		{day(26), "seg-2026112600", timestamp.NewSectionTimeRange(day(26), day(27))},
		{day(25).Add(-time.Millisecond), "seg-2026112400", timestamp.NewSectionTimeRange(day(24), day(25))},
	}
	for _, tt := range tests {
		s := db.create(t, tt.ts)
		if got := filepath.Base(s.Dir()); got != tt.wantName {
			t.Errorf("segment of %s is %s, want %s", tt.ts.Format(time.RFC3339Nano), got, tt.wantName)
		}
		if got := s.TimeRange(); got != tt.wantRange {
			t.Errorf("segment of %s has range %s, want %s", tt.ts.Format(time.RFC3339Nano), got, tt.wantRange)
		}
		if s.ShardNum() != 2 {
			t.Errorf("ShardNum = %d, want 2", s.ShardNum())
		}
		s.DecRef()
	}
	if got, want := names(db.Segments()), []string{"seg-2026112400", "seg-2026112500", "seg-2026112600"}; !slices.Equal(got, want) {
		t.Fatalf("segments %v, want %v", got, want)
	}
	if got, want := entries(t, db.opts.Location), []string{"lock", "seg-2026112400", "seg-2026112500", "seg-2026112600"}; !slices.Equal(got, want) {
		t.Fatalf("location holds %v, want %v", got, want)
	}

	data, err := os.ReadFile(filepath.Join(db.opts.Location, "seg-2026112500", metadataFile))
	if err != nil {
		t.Fatal(err)
	}
	var m segmentMeta
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := segmentMeta{Version: 1, Start: day(25), End: day(26), Interval: intervalMeta{Unit: "day", Num: 1}, ShardNum: 2}
	if !m.Start.Equal(want.Start) || !m.End.Equal(want.End) || m.Interval != want.Interval || m.ShardNum != want.ShardNum || m.Version != want.Version {
		t.Fatalf("metadata %s, want %+v", data, want)
	}
}

func TestCreateSegmentHourly(t *testing.T) {
	db := newTestDB(t, func(o *TSDBOpts[*fakeTable]) { o.SegmentInterval = IntervalRule{Unit: HOUR, Num: 2} })
	for _, ts := range []time.Time{
		utc(2026, 11, 25, 10, 0, 0, 0), utc(2026, 11, 25, 11, 59, 59, 999_000_000),
		utc(2026, 11, 25, 12, 0, 0, 0), utc(2026, 11, 25, 9, 59, 59, 999_000_000),
	} {
		db.create(t, ts).DecRef()
	}
	if got, want := names(db.Segments()), []string{"seg-2026112508", "seg-2026112510", "seg-2026112512"}; !slices.Equal(got, want) {
		t.Fatalf("segments %v, want %v", got, want)
	}
}

func TestCreateSegmentErrors(t *testing.T) {
	db := newTestDB(t)
	deadline := testNow.Add(-7 * 24 * time.Hour)
	tests := []struct {
		name    string
		ts      time.Time
		wantErr error
	}{
		{"at the deadline", deadline, nil},
		{"one ms before the deadline", deadline.Add(-time.Millisecond), ErrSegmentExpired},
		{"long ago", utc(2000, 1, 1, 0, 0, 0, 0), ErrSegmentExpired},
		{"future", testNow.Add(365 * 24 * time.Hour), nil},
		{"beyond int64 nanos", utc(2300, 1, 1, 0, 0, 0, 0), timestamp.ErrTimeOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := db.CreateSegmentIfNotExist(tt.ts)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				s.DecRef()
				return
			}
			if !errors.Is(err, tt.wantErr) || s != nil {
				t.Fatalf("got (%v, %v), want error %v", s, err, tt.wantErr)
			}
		})
	}
}

func TestReopenFindsSegmentsAndData(t *testing.T) {
	db := newTestDB(t)
	s1 := db.create(t, day(24).Add(time.Hour))
	tb, err := s1.Table(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Put("a"); err != nil {
		t.Fatal(err)
	}
	s1.DecRef()
	s2 := db.create(t, day(25).Add(time.Hour))
	tb, err = s2.Table(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Put("b"); err != nil {
		t.Fatal(err)
	}
	s2.DecRef()
	db.create(t, day(26)).DecRef() // a segment without tables

	db = db.reopen(t)
	segs := db.Segments()
	defer func() { names(segs) }()
	if len(segs) != 3 {
		t.Fatalf("reopened %d segments, want 3", len(segs))
	}
	wantRanges := []timestamp.TimeRange{
		timestamp.NewSectionTimeRange(day(24), day(25)),
		timestamp.NewSectionTimeRange(day(25), day(26)),
		timestamp.NewSectionTimeRange(day(26), day(27)),
	}
	wantShards := [][]ShardID{{0}, {1}, {}}
	wantValues := [][]string{{"a"}, {"b"}, {}}
	for i, s := range segs {
		if s.TimeRange() != wantRanges[i] {
			t.Errorf("segment %d range %s, want %s", i, s.TimeRange(), wantRanges[i])
		}
		tables := mustTables(t, s)
		if len(tables) != len(wantShards[i]) {
			t.Fatalf("segment %d has %d tables, want %d", i, len(tables), len(wantShards[i]))
		}
		for j, tb := range tables {
			if tb.shard != wantShards[i][j] {
				t.Errorf("segment %d table %d is shard %d, want %d", i, j, tb.shard, wantShards[i][j])
			}
			if got := tb.Values(); !slices.Equal(got, wantValues[i]) {
				t.Errorf("segment %d shard %d values %v, want %v", i, tb.shard, got, wantValues[i])
			}
			if tb.segment != wantRanges[i] {
				t.Errorf("table opened with range %s, want %s", tb.segment, wantRanges[i])
			}
		}
	}
	// The segment found again is the one CreateSegmentIfNotExist returns.
	s := db.create(t, day(24).Add(23*time.Hour))
	if s.Dir() != segs[0].Dir() {
		t.Fatalf("create after reopen returned %s, want %s", s.Dir(), segs[0].Dir())
	}
	s.DecRef()
}

func TestSelectSegments(t *testing.T) {
	db := newTestDB(t)
	for d := 20; d <= 24; d++ {
		db.create(t, day(d)).DecRef()
	}
	tests := []struct {
		name string
		tr   timestamp.TimeRange
		want []string
	}{
		{"half-open ends at a boundary", timestamp.NewSectionTimeRange(day(21).Add(12*time.Hour), day(23)),
			[]string{"seg-2026112100", "seg-2026112200"}},
		{"inclusive end touches the next", timestamp.NewInclusiveTimeRange(day(21).Add(12*time.Hour), day(23)),
			[]string{"seg-2026112100", "seg-2026112200", "seg-2026112300"}},
		{"last ms of a segment", timestamp.NewInclusiveTimeRange(day(22).Add(-time.Millisecond), day(22).Add(-time.Millisecond)),
			[]string{"seg-2026112100"}},
		{"everything", timestamp.NewInclusiveTimeRange(day(1), day(30)),
			[]string{"seg-2026112000", "seg-2026112100", "seg-2026112200", "seg-2026112300", "seg-2026112400"}},
		{"after all", timestamp.NewInclusiveTimeRange(day(25), day(30)), []string{}},
		{"empty range", timestamp.NewSectionTimeRange(day(21), day(21)), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(db.SelectSegments(tt.tr)); !slices.Equal(got, tt.want) {
				t.Fatalf("SelectSegments(%s) = %v, want %v", tt.tr, got, tt.want)
			}
		})
	}
}

func TestRetention(t *testing.T) {
	db := newTestDB(t)
	for d := 19; d <= 25; d++ {
		s := db.create(t, day(d))
		if _, err := s.Table(0); err != nil {
			t.Fatal(err)
		}
		s.DecRef()
	}
	steps := []struct {
		now         time.Time
		wantRange   *timestamp.TimeRange
		wantRemoved int
		wantFirst   string
	}{
		{testNow, nil, 0, "seg-2026111900"},
		// deadline 2026-11-20T00:00 - 1ns: the first segment still holds its last nanosecond.
		{day(27).Add(-time.Nanosecond), nil, 0, "seg-2026111900"},
		// deadline 2026-11-20T00:00 == end of the first segment.
		{day(27), &timestamp.TimeRange{Start: day(19), End: day(20), IncludeStart: true}, 1, "seg-2026112000"},
		{day(29).Add(12 * time.Hour), &timestamp.TimeRange{Start: day(20), End: day(22), IncludeStart: true}, 2, "seg-2026112200"},
	}
	for _, st := range steps {
		db.clock.Set(st.now)
		got := db.GetExpiredSegmentsTimeRange()
		if (got == nil) != (st.wantRange == nil) || (got != nil && *got != *st.wantRange) {
			t.Fatalf("now %s: GetExpiredSegmentsTimeRange = %v, want %v", st.now, got, st.wantRange)
		}
		n, err := db.DeleteExpiredSegments()
		if err != nil || n != st.wantRemoved {
			t.Fatalf("now %s: DeleteExpiredSegments = %d, %v; want %d", st.now, n, err, st.wantRemoved)
		}
		if got := names(db.Segments()); got[0] != st.wantFirst {
			t.Fatalf("now %s: first segment %s, want %s", st.now, got[0], st.wantFirst)
		}
		if r := db.GetExpiredSegmentsTimeRange(); r != nil {
			t.Fatalf("now %s: after the sweep %s is still expired", st.now, r)
		}
	}
	if got, want := entries(t, db.opts.Location), []string{"lock", "seg-2026112200", "seg-2026112300", "seg-2026112400", "seg-2026112500"}; !slices.Equal(got, want) {
		t.Fatalf("location holds %v, want %v", got, want)
	}
	for _, tb := range db.rec.all() {
		dropped := tb.segment.End.Before(day(22).Add(time.Nanosecond))
		if want := map[bool]int32{true: 1, false: 0}[dropped]; tb.closes.Load() != want {
			t.Errorf("table %s closed %d times, want %d", tb.dir, tb.closes.Load(), want)
		}
	}
}

func TestRefcountDefersDeletion(t *testing.T) {
	db := newTestDB(t)
	s := db.create(t, day(20))
	tb, err := s.Table(1)
	if err != nil {
		t.Fatal(err)
	}
	held := db.SelectSegments(timestamp.NewInclusiveTimeRange(day(20), day(20)))
	if len(held) != 1 {
		t.Fatalf("selected %d segments, want 1", len(held))
	}
	s.DecRef()

	db.clock.Set(day(28))
	if n, err := db.DeleteExpiredSegments(); n != 1 || err != nil {
		t.Fatalf("DeleteExpiredSegments = %d, %v; want 1", n, err)
	}
	if got := names(db.Segments()); len(got) != 0 {
		t.Fatalf("expired segment still listed: %v", got)
	}
	// Still referenced: open and usable.
	if !exists(held[0].Dir()) {
		t.Fatal("segment dir deleted while referenced")
	}
	if tb.closes.Load() != 0 {
		t.Fatal("table closed while referenced")
	}
	if again, err := held[0].Table(1); err != nil || again != tb {
		t.Fatalf("Table on a held segment = %v, %v", again, err)
	}
	held[0].IncRef()
	held[0].DecRef()
	if !exists(held[0].Dir()) {
		t.Fatal("segment dir deleted before the last reference")
	}

	held[0].DecRef()
	if exists(held[0].Dir()) {
		t.Fatal("segment dir survived the last reference")
	}
	if tb.closes.Load() != 1 {
		t.Fatalf("table closed %d times, want 1", tb.closes.Load())
	}
	if got, want := entries(t, db.opts.Location), []string{"lock"}; !slices.Equal(got, want) {
		t.Fatalf("location holds %v, want %v", got, want)
	}
	if _, err := held[0].Table(0); !errors.Is(err, ErrSegmentClosed) {
		t.Fatalf("Table after release = %v, want ErrSegmentClosed", err)
	}

	mustPanicBUG(t, "negative DecRef", held[0].DecRef)
	mustPanicBUG(t, "IncRef after release", held[0].IncRef)
}

func mustPanicBUG(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, "BUG: ") {
			t.Fatalf("%s: recovered %v, want a BUG panic", name, r)
		}
	}()
	f()
}

func TestDeleteSegmentsBySuffix(t *testing.T) {
	db := newTestDB(t)
	for d := 19; d <= 25; d++ {
		s := db.create(t, day(d))
		if _, err := s.Table(0); err != nil {
			t.Fatal(err)
		}
		s.DecRef()
	}
	// now - TTL = 2026-11-22T00:00: the segments of the 19th, 20th and 21st are expired.
	db.clock.Set(day(29))
	// 19 by our suffix, 20 by upstream's day suffix, 23 is listed but inside the TTL, 18 does not exist.
	n, err := db.DeleteSegmentsBySuffix([]string{"2026111900", "20261120", "2026112300", "2026111800", "junk"})
	if err != nil || n != 2 {
		t.Fatalf("DeleteSegmentsBySuffix = %d, %v; want 2", n, err)
	}
	want := []string{"seg-2026112100", "seg-2026112200", "seg-2026112300", "seg-2026112400", "seg-2026112500"}
	if got := names(db.Segments()); !slices.Equal(got, want) {
		t.Fatalf("segments %v, want %v", got, want)
	}
	if got := entries(t, db.opts.Location); !slices.Equal(got, append([]string{"lock"}, want...)) {
		t.Fatalf("location holds %v", got)
	}
	if n, err = db.DeleteSegmentsBySuffix(nil); err != nil || n != 0 {
		t.Fatalf("nothing listed: %d, %v", n, err)
	}
	if err = db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err = db.DeleteSegmentsBySuffix([]string{"2026112100"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}

func TestDropSegments(t *testing.T) {
	db := newTestDB(t)
	for d := 23; d <= 25; d++ {
		s := db.create(t, day(d))
		if _, err := s.Table(0); err != nil {
			t.Fatal(err)
		}
		s.DecRef()
	}
	held := db.create(t, day(25)) // a reader's reference: its segment goes when released
	n, err := db.DropSegments()
	if err != nil || n != 3 {
		t.Fatalf("DropSegments = %d, %v; want 3", n, err)
	}
	if got := db.Segments(); len(got) != 0 {
		t.Fatalf("segments left: %v", names(got))
	}
	held.DecRef()
	if got := entries(t, db.opts.Location); !slices.Equal(got, []string{"lock"}) {
		t.Fatalf("location holds %v after DropSegments", got)
	}
	// The TSDB takes new data.
	s := db.create(t, day(25))
	s.DecRef()
	if got := names(db.Segments()); !slices.Equal(got, []string{"seg-2026112500"}) {
		t.Fatalf("segments after a new write: %v", got)
	}
}

func TestSegmentSuffix(t *testing.T) {
	start := day(25)
	if got := SegmentSuffix(start); got != "2026112500" {
		t.Fatalf("SegmentSuffix = %s", got)
	}
	for suffix, want := range map[string]bool{"2026112500": true, "20261125": true, "2026112501": false, "20261124": false, "": false} {
		if got := SegmentSuffixMatches(start, suffix); got != want {
			t.Fatalf("SegmentSuffixMatches(%s) = %v", suffix, got)
		}
	}
	if SegmentSuffixMatches(start.Add(time.Hour), "20261125") {
		t.Fatal("a day suffix names only a segment starting at midnight")
	}
}

func TestDrop(t *testing.T) {
	db := newTestDB(t)
	for d := 23; d <= 25; d++ {
		s := db.create(t, day(d))
		if _, err := s.Table(ShardID(d % 2)); err != nil {
			t.Fatal(err)
		}
		s.DecRef()
	}
	if err := db.Drop(); err != nil {
		t.Fatal(err)
	}
	if exists(db.opts.Location) {
		t.Fatalf("location %s survived Drop", db.opts.Location)
	}
	if got := entries(t, filepath.Dir(db.opts.Location)); len(got) != 0 {
		t.Fatalf("parent holds %v after Drop", got)
	}
	db.rec.checkClosed(t)
	if err := db.Drop(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Drop = %v, want ErrClosed", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close after Drop = %v", err)
	}
}

func TestCloseAndDropWaitForReferences(t *testing.T) {
	for _, drop := range []bool{false, true} {
		name := map[bool]string{false: "close", true: "drop"}[drop]
		t.Run(name, func(t *testing.T) {
			db := newTestDB(t)
			s := db.create(t, day(25))
			tb, err := s.Table(0)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				if drop {
					done <- db.Drop()
				} else {
					done <- db.Close()
				}
			}()
			select {
			case err := <-done:
				t.Fatalf("%s returned (%v) while a segment was referenced", name, err)
			case <-time.After(50 * time.Millisecond):
			}
			if tb.closes.Load() != 0 || !exists(s.Dir()) {
				t.Fatal("segment released while referenced")
			}
			// New references are refused while closing.
			if _, err := db.CreateSegmentIfNotExist(day(25)); !errors.Is(err, ErrClosed) {
				t.Fatalf("create while closing = %v, want ErrClosed", err)
			}
			s.DecRef()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			db.rec.checkClosed(t)
			if exists(db.opts.Location) == drop {
				t.Fatalf("after %s location exists = %v", name, !drop)
			}
		})
	}
}

func TestClosedTSDB(t *testing.T) {
	db := newTestDB(t)
	db.create(t, day(25)).DecRef()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	if _, err := db.CreateSegmentIfNotExist(day(25)); !errors.Is(err, ErrClosed) {
		t.Fatalf("CreateSegmentIfNotExist = %v, want ErrClosed", err)
	}
	if segs := db.SelectSegments(timestamp.NewInclusiveTimeRange(day(1), day(30))); len(segs) != 0 {
		t.Fatalf("SelectSegments returned %d segments", len(segs))
	}
	if segs := db.Segments(); len(segs) != 0 {
		t.Fatalf("Segments returned %d segments", len(segs))
	}
	if r := db.GetExpiredSegmentsTimeRange(); r != nil {
		t.Fatalf("GetExpiredSegmentsTimeRange = %s", r)
	}
	if _, err := db.DeleteExpiredSegments(); !errors.Is(err, ErrClosed) {
		t.Fatalf("DeleteExpiredSegments = %v, want ErrClosed", err)
	}
	if err := db.Drop(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Drop = %v, want ErrClosed", err)
	}
	if !exists(filepath.Join(db.opts.Location, "seg-2026112500")) {
		t.Fatal("Close must keep data")
	}
}

func TestLocationLocked(t *testing.T) {
	db := newTestDB(t)
	if second, err := OpenTSDB(db.opts); !errors.Is(err, ErrLocked) {
		if second != nil {
			_ = second.Close()
		}
		t.Fatalf("second OpenTSDB = %v, want ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenTSDB(db.opts)
	if err != nil {
		t.Fatalf("open after Close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenOpensTablesOnDemand reopens a TSDB whose opener fails for one shard: the open itself
// opens no table (a TSDB with hundreds of segments must not need a descriptor for each), the
// failing shard reports the opener's error when it is read, and the others read normally.
func TestOpenOpensTablesOnDemand(t *testing.T) {
	db := newTestDB(t)
	for d := 23; d <= 25; d++ {
		s := db.create(t, day(d))
		for shard := range ShardID(2) {
			tb, err := s.Table(shard)
			if err != nil {
				t.Fatal(err)
			}
			if err := tb.Put(fmt.Sprintf("d%d-s%d", d, shard)); err != nil {
				t.Fatal(err)
			}
		}
		s.DecRef()
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	failing := &tableRecorder{fail: func(dir string, shard ShardID) error {
		if strings.Contains(dir, "seg-2026112400") && shard == 1 {
			return errInjected
		}
		return nil
	}}
	opts := db.opts
	opts.OpenTable = failing.open
	got, err := OpenTSDB(opts)
	if err != nil {
		t.Fatalf("OpenTSDB = %v", err)
	}
	if n := len(failing.all()); n != 0 {
		t.Fatalf("OpenTSDB opened %d tables, want none", n)
	}
	for _, s := range got.Segments() {
		tables, err := s.Tables()
		if strings.HasSuffix(s.Dir(), "seg-2026112400") {
			if !errors.Is(err, errInjected) {
				t.Errorf("Tables of %s = %v, want the injected error", s.Dir(), err)
			}
		} else if err != nil || len(tables) != 2 || tables[1].Values()[0] != fmt.Sprintf("d%d-s1", s.TimeRange().Start.Day()) {
			t.Errorf("Tables of %s = %v, %v", s.Dir(), tables, err)
		}
		if tb, ok, err := s.OpenedTable(0); err != nil || !ok || len(tb.Values()) != 1 {
			t.Errorf("OpenedTable(0) of %s = %v, %v, %v", s.Dir(), tb, ok, err)
		}
		s.DecRef()
	}
	if err := got.Close(); err != nil {
		t.Fatal(err)
	}
	failing.checkClosed(t)
}

func TestOpenCorruptSegment(t *testing.T) {
	start := day(25)
	goodMeta := segmentMeta{Version: 1, Start: start, End: day(26), Interval: intervalMeta{Unit: "day", Num: 1}, ShardNum: 2}
	tests := []struct {
		name  string
		setup func(t *testing.T, loc string)
	}{
		{"missing metadata", func(t *testing.T, loc string) {
			if err := os.MkdirAll(filepath.Join(loc, "seg-2026112500", "shard-0"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"bad name", func(t *testing.T, loc string) {
			writeMeta(t, filepath.Join(loc, "seg-20261125"), goodMeta)
		}},
		{"shard beyond shardNum", func(t *testing.T, loc string) {
			writeMeta(t, filepath.Join(loc, "seg-2026112500"), goodMeta)
			if err := os.MkdirAll(filepath.Join(loc, "seg-2026112500", "shard-2"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"bad shard name", func(t *testing.T, loc string) {
			writeMeta(t, filepath.Join(loc, "seg-2026112500"), goodMeta)
			if err := os.MkdirAll(filepath.Join(loc, "seg-2026112500", "shard-01"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"overlapping segments", func(t *testing.T, loc string) {
			writeMeta(t, filepath.Join(loc, "seg-2026112500"), goodMeta)
			m := goodMeta
			m.Start, m.End = start.Add(time.Hour), day(27)
			writeMeta(t, filepath.Join(loc, "seg-2026112501"), m)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &tableRecorder{}
			opts := TSDBOpts[*fakeTable]{
				Location: filepath.Join(t.TempDir(), "group"), ShardNum: 2,
				SegmentInterval: IntervalRule{Unit: DAY, Num: 1}, TTL: IntervalRule{Unit: DAY, Num: 7},
				OpenTable: rec.open, Clock: timestamp.NewMockClock(testNow),
			}
			tt.setup(t, opts.Location)
			for range 2 { // the second attempt proves the lock was released
				db, err := OpenTSDB(opts)
				if !errors.Is(err, ErrCorruptSegment) || db != nil {
					t.Fatalf("OpenTSDB = (%v, %v), want ErrCorruptSegment", db, err)
				}
			}
			rec.checkClosed(t)
		})
	}
}

func TestOpenRemovesLeftovers(t *testing.T) {
	loc := filepath.Join(t.TempDir(), "group")
	for _, d := range []string{".deleting-seg-2026112400-1-1/shard-0", ".creating-seg-2026112500"} {
		if err := os.MkdirAll(filepath.Join(loc, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(loc, "README"), []byte("operator notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := newTestDB(t, func(o *TSDBOpts[*fakeTable]) { o.Location = loc })
	if got, want := entries(t, loc), []string{"README", "lock"}; !slices.Equal(got, want) {
		t.Fatalf("location holds %v, want %v", got, want)
	}
	db.create(t, day(25)).DecRef()
}

func TestOpenInvalid(t *testing.T) {
	if db, err := OpenTSDB(TSDBOpts[*fakeTable]{}); !errors.Is(err, ErrInvalidOptions) || db != nil {
		t.Fatalf("OpenTSDB(zero opts) = (%v, %v), want ErrInvalidOptions", db, err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := TSDBOpts[*fakeTable]{
		Location: file, ShardNum: 1, SegmentInterval: IntervalRule{Unit: DAY, Num: 1},
		TTL: IntervalRule{Unit: DAY, Num: 1}, OpenTable: (&tableRecorder{}).open,
	}
	if db, err := OpenTSDB(opts); err == nil || db != nil {
		t.Fatalf("OpenTSDB on a file = (%v, %v), want an error", db, err)
	}
}

func TestUpdateOptions(t *testing.T) {
	db := newTestDB(t)
	db.create(t, day(24)).DecRef()
	db.UpdateOptions(4, IntervalRule{Unit: DAY, Num: 1}, IntervalRule{Unit: DAY, Num: 3})
	s := db.create(t, day(25))
	if s.ShardNum() != 4 {
		t.Fatalf("new segment has %d shards, want 4", s.ShardNum())
	}
	if _, err := s.Table(3); err != nil {
		t.Fatal(err)
	}
	s.DecRef()
	// The shorter TTL applies: 2026-11-22T11:59 is now expired.
	if _, err := db.CreateSegmentIfNotExist(day(22).Add(12*time.Hour - time.Minute)); !errors.Is(err, ErrSegmentExpired) {
		t.Fatalf("create with the new TTL = %v, want ErrSegmentExpired", err)
	}
	// Invalid values are ignored field by field.
	db.UpdateOptions(0, IntervalRule{}, IntervalRule{Unit: HOUR, Num: 1})
	s = db.create(t, day(26))
	if s.ShardNum() != 4 || s.TimeRange() != timestamp.NewSectionTimeRange(day(26), day(27)) {
		t.Fatalf("invalid update changed options: shards %d, range %s", s.ShardNum(), s.TimeRange())
	}
	s.DecRef()

	db = db.reopen(t)
	segs := db.Segments()
	var shards []uint32
	for _, s := range segs {
		shards = append(shards, s.ShardNum())
	}
	names(segs)
	if want := []uint32{2, 4, 4}; !slices.Equal(shards, want) {
		t.Fatalf("after reopen shard numbers %v, want %v", shards, want)
	}
}

func TestIntervalChangeClipsNewSegments(t *testing.T) {
	db := newTestDB(t, func(o *TSDBOpts[*fakeTable]) { o.TTL = IntervalRule{Unit: DAY, Num: 30} })
	db.create(t, day(25)).DecRef()
	week := IntervalRule{Unit: DAY, Num: 7}
	db.UpdateOptions(2, week, db.opts.TTL)
	steps := []struct {
		ts   time.Time
		want timestamp.TimeRange
	}{
		// The aligned week is [11-19, 11-26); it is clipped by the daily segment of 11-25.
		{day(24), timestamp.NewSectionTimeRange(day(19), day(25))},
		// The week [11-26, 12-03) starts where the daily segment ends.
		{day(26).Add(5 * time.Hour), timestamp.NewSectionTimeRange(day(26), utc(2026, 12, 3, 0, 0, 0, 0))},
	}
	for _, st := range steps {
		s := db.create(t, st.ts)
		if s.TimeRange() != st.want {
			t.Errorf("segment of %s = %s, want %s", st.ts, s.TimeRange(), st.want)
		}
		s.DecRef()
	}
	db.UpdateOptions(2, IntervalRule{Unit: HOUR, Num: 1}, db.opts.TTL)
	s := db.create(t, day(19).Add(-30*time.Minute))
	if want := timestamp.NewSectionTimeRange(day(19).Add(-time.Hour), day(19)); s.TimeRange() != want {
		t.Errorf("hourly segment = %s, want %s", s.TimeRange(), want)
	}
	s.DecRef()
	assertDisjointSorted(t, db.Segments())
	db = db.reopen(t)
	if got, want := names(db.Segments()), []string{"seg-2026111823", "seg-2026111900", "seg-2026112500", "seg-2026112600"}; !slices.Equal(got, want) {
		t.Fatalf("segments after reopen %v, want %v", got, want)
	}
}

// assertDisjointSorted checks the ordering invariant of a segment list and releases it.
func assertDisjointSorted[T TSTable](t *testing.T, segs []Segment[T]) {
	t.Helper()
	defer names(segs)
	for i := 1; i < len(segs); i++ {
		prev, cur := segs[i-1].TimeRange(), segs[i].TimeRange()
		if cur.Start.Before(prev.End) {
			t.Fatalf("segments %s and %s overlap or are unsorted", prev, cur)
		}
	}
}

func TestTableOpensOnce(t *testing.T) {
	db := newTestDB(t)
	s := db.create(t, day(25))
	defer s.DecRef()
	const workers = 16
	got := make([]*fakeTable, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tb, err := s.Table(1)
			if err != nil {
				t.Error(err)
			}
			got[i] = tb
		}()
	}
	wg.Wait()
	for _, tb := range got {
		if tb != got[0] {
			t.Fatal("concurrent Table calls returned different tables")
		}
	}
	if n := db.rec.opensOf(filepath.Join(s.Dir(), "shard-1")); n != 1 {
		t.Fatalf("table opened %d times, want 1", n)
	}
	if tables := mustTables(t, s); len(tables) != 1 || tables[0] != got[0] {
		t.Fatalf("Tables() = %v", tables)
	}
	if _, err := s.Table(2); !errors.Is(err, ErrShardOutOfRange) {
		t.Fatalf("Table(2) = %v, want ErrShardOutOfRange", err)
	}
}

func TestTableOpenError(t *testing.T) {
	fail := true
	db := newTestDB(t)
	db.rec.fail = func(string, ShardID) error {
		if fail {
			return errInjected
		}
		return nil
	}
	s := db.create(t, day(25))
	defer s.DecRef()
	if _, err := s.Table(0); !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "shard-0") {
		t.Fatalf("Table = %v, want the opener's error with context", err)
	}
	if tables, err := s.Tables(); !errors.Is(err, errInjected) || len(tables) != 0 {
		t.Fatalf("Tables() after a failed open = %v, %v; want the opener's error", tables, err)
	}
	db.rec.mu.Lock()
	fail = false
	db.rec.mu.Unlock()
	if _, err := s.Table(0); err != nil {
		t.Fatalf("retry after failure: %v", err)
	}
}

func TestCloseReportsTableErrors(t *testing.T) {
	db := newTestDB(t)
	db.rec.closeErr = errInjected
	s := db.create(t, day(25))
	if _, err := s.Table(0); err != nil {
		t.Fatal(err)
	}
	s.DecRef()
	if err := db.Close(); !errors.Is(err, errInjected) {
		t.Fatalf("Close = %v, want the table's close error", err)
	}
}

func TestRetentionLoop(t *testing.T) {
	db := newTestDB(t, func(o *TSDBOpts[*fakeTable]) { o.RetentionCheckInterval = 5 * time.Millisecond })
	db.create(t, day(19)).DecRef()
	db.create(t, day(25)).DecRef()
	db.clock.Set(day(27))
	deadline := time.Now().Add(10 * time.Second)
	dir := filepath.Join(db.opts.Location, "seg-2026111900")
	for {
		// The sweep detaches the segment first and deletes its directory right after.
		got := names(db.Segments())
		if slices.Equal(got, []string{"seg-2026112500"}) && !exists(dir) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention loop did not drop the expired segment: %v", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrentUse mixes writers, readers, retention, idle closing and option updates; run it
// with -race.
func TestConcurrentUse(t *testing.T) {
	db := newTestDB(t, func(o *TSDBOpts[*fakeTable]) {
		o.SegmentInterval = IntervalRule{Unit: HOUR, Num: 6}
		o.TTL = IntervalRule{Unit: DAY, Num: 2}
		o.ShardNum = 3
		o.RetentionCheckInterval = time.Millisecond
		// Segments close as soon as they are idle; a table closed under a caller fails its Put.
		o.MaxOpenSegments = 1
		o.IdleTimeout = time.Minute
	})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	run := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
					f(i)
				}
			}
		}()
	}
	for w := range 6 {
		run(func(i int) {
			now := db.clock.Now()
			ts := now.Add(-time.Duration((i*7919+w*104729)%(60*60)) * time.Minute)
			s, err := db.CreateSegmentIfNotExist(ts)
			if errors.Is(err, ErrSegmentExpired) {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			defer s.DecRef()
			if !s.TimeRange().Contains(ts.UnixNano()) {
				t.Errorf("segment %s does not contain %s", s.TimeRange(), ts)
			}
			tb, err := s.Table(ShardID(i) % ShardID(s.ShardNum()))
			if err != nil {
				t.Error(err)
				return
			}
			if err := tb.Put("v"); err != nil {
				t.Error(err)
			}
		})
	}
	for range 3 {
		run(func(i int) {
			now := db.clock.Now()
			segs := db.SelectSegments(timestamp.NewSectionTimeRange(now.Add(-time.Duration(i%72)*time.Hour), now))
			for _, s := range segs {
				tables, err := s.Tables()
				if err != nil {
					t.Error(err)
				}
				for _, tb := range tables {
					_ = tb.Values()
				}
			}
			assertDisjointSorted(t, segs)
		})
	}
	run(func(int) {
		db.clock.Add(10 * time.Minute)
		if _, err := db.DeleteExpiredSegments(); err != nil {
			t.Error(err)
		}
		_ = db.GetExpiredSegmentsTimeRange()
	})
	run(func(i int) {
		db.UpdateOptions(uint32(i%4+1), IntervalRule{Unit: HOUR, Num: i%3 + 1}, IntervalRule{Unit: DAY, Num: 2})
		time.Sleep(time.Millisecond)
	})
	run(func(int) {
		db.TSDB.(*database[*fakeTable]).closeIdleSegments()
	})
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	assertDisjointSorted(t, db.Segments())
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if len(db.rec.all()) == 0 {
		t.Fatal("no table was opened")
	}
	dirs := make(map[string]bool)
	for _, tb := range db.rec.all() {
		dirs[tb.dir] = true
	}
	if len(dirs) == len(db.rec.all()) {
		t.Fatal("no table was closed while idle and opened again; the test does not exercise idle closing")
	}
	db.rec.checkClosed(t)
	for _, name := range entries(t, db.opts.Location) {
		if isLeftover(name) {
			t.Errorf("leftover %s after Close", name)
		}
	}
}

// TestCreateAvoidsSegmentsBeingDropped covers a writer that passed the TTL check (here: because
// the TTL grew) while retention dropped the segment it needs, which a reader still holds.
func TestCreateAvoidsSegmentsBeingDropped(t *testing.T) {
	db := newTestDB(t)
	db.create(t, day(20)).DecRef()
	held := db.Segments()
	db.clock.Set(day(28))
	if n, err := db.DeleteExpiredSegments(); n != 1 || err != nil {
		t.Fatalf("DeleteExpiredSegments = %d, %v", n, err)
	}
	db.UpdateOptions(2, IntervalRule{Unit: DAY, Num: 7}, IntervalRule{Unit: DAY, Num: 30})

	if _, err := db.CreateSegmentIfNotExist(day(20).Add(12 * time.Hour)); !errors.Is(err, ErrSegmentExpired) {
		t.Fatalf("create inside a dropping segment = %v, want ErrSegmentExpired", err)
	}
	// The aligned week [11-19, 11-26) is clipped by the dropping [11-20, 11-21).
	s := db.create(t, day(21).Add(5*time.Hour))
	if want := timestamp.NewSectionTimeRange(day(21), day(26)); s.TimeRange() != want {
		t.Fatalf("new segment %s, want %s", s.TimeRange(), want)
	}
	s.DecRef()

	names(held)
	impl := db.TSDB.(*database[*fakeTable])
	impl.mu.RLock()
	dropping := len(impl.mu.dropping)
	impl.mu.RUnlock()
	if dropping != 0 || exists(filepath.Join(db.opts.Location, "seg-2026112000")) {
		t.Fatalf("after the last release: %d dropping, dir exists %v", dropping, exists(filepath.Join(db.opts.Location, "seg-2026112000")))
	}
	// Now the range is free again and usable if the TTL allows it.
	s = db.create(t, day(20).Add(12*time.Hour))
	if want := timestamp.NewSectionTimeRange(day(19), day(21)); s.TimeRange() != want {
		t.Fatalf("segment after the drop finished %s, want %s", s.TimeRange(), want)
	}
	s.DecRef()
}
