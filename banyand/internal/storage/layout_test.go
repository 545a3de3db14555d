package storage

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
)

func TestSegmentNameRoundTrip(t *testing.T) {
	tests := []struct {
		start time.Time
		name  string
	}{
		{utc(2026, 11, 25, 0, 0, 0, 0), "seg-2026112500"},
		{utc(2026, 11, 25, 23, 0, 0, 0), "seg-2026112523"},
		{utc(1969, 12, 31, 23, 0, 0, 0), "seg-1969123123"},
		{utc(1677, 9, 21, 0, 0, 0, 0), "seg-1677092100"},
		{utc(2262, 4, 11, 23, 0, 0, 0), "seg-2262041123"},
		{time.Date(2026, 11, 25, 8, 0, 0, 0, time.FixedZone("+08", 8*3600)), "seg-2026112500"},
	}
	for _, tt := range tests {
		if got := segmentName(tt.start); got != tt.name {
			t.Errorf("segmentName(%s) = %q, want %q", tt.start, got, tt.name)
		}
		got, err := parseSegmentName(tt.name)
		if err != nil {
			t.Fatalf("parseSegmentName(%q): %v", tt.name, err)
		}
		if !got.Equal(tt.start) || got.Location() != time.UTC {
			t.Errorf("parseSegmentName(%q) = %s, want %s in UTC", tt.name, got, tt.start)
		}
	}
}

func TestParseSegmentNameRejects(t *testing.T) {
	for _, name := range []string{
		"", "seg-", "seg-20261125", "seg-202611250", "seg-2026112500x", "seg-2026112524",
		"seg-2026133100", "seg-2026022900", "segm-2026112500", "2026112500", "seg-+026112500",
		"shard-0", ".deleting-seg-2026112500",
	} {
		if got, err := parseSegmentName(name); err == nil {
			t.Errorf("parseSegmentName(%q) = %s, want error", name, got)
		}
	}
}

// TestSegmentBoundaries checks, for several intervals, that the last millisecond of a segment
// maps to that segment's directory and the next millisecond to the next one.
func TestSegmentBoundaries(t *testing.T) {
	tests := []struct {
		rule      IntervalRule
		segStart  time.Time
		wantName  string
		wantNext  string
		wantRange string
	}{
		{IntervalRule{Unit: DAY, Num: 1}, utc(2026, 11, 25, 0, 0, 0, 0), "seg-2026112500", "seg-2026112600",
			"[2026-11-25T00:00:00Z, 2026-11-26T00:00:00Z)"},
		{IntervalRule{Unit: HOUR, Num: 1}, utc(2026, 11, 25, 10, 0, 0, 0), "seg-2026112510", "seg-2026112511",
			"[2026-11-25T10:00:00Z, 2026-11-25T11:00:00Z)"},
		{IntervalRule{Unit: HOUR, Num: 6}, utc(2026, 12, 31, 18, 0, 0, 0), "seg-2026123118", "seg-2027010100",
			"[2026-12-31T18:00:00Z, 2027-01-01T00:00:00Z)"},
		{IntervalRule{Unit: DAY, Num: 1}, utc(2028, 2, 29, 0, 0, 0, 0), "seg-2028022900", "seg-2028030100",
			"[2028-02-29T00:00:00Z, 2028-03-01T00:00:00Z)"},
		{IntervalRule{Unit: DAY, Num: 1}, utc(1969, 12, 31, 0, 0, 0, 0), "seg-1969123100", "seg-1970010100",
			"[1969-12-31T00:00:00Z, 1970-01-01T00:00:00Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.wantName+"/"+tt.rule.String(), func(t *testing.T) {
			end := tt.rule.NextTime(tt.segStart)
			first := tt.segStart
			last := end.Add(-time.Millisecond)
			for _, ts := range []time.Time{first, last} {
				if got := segmentName(tt.rule.alignedStart(ts)); got != tt.wantName {
					t.Errorf("segment of %s = %s, want %s", ts.Format(time.RFC3339Nano), got, tt.wantName)
				}
			}
			if got := segmentName(tt.rule.alignedStart(end)); got != tt.wantNext {
				t.Errorf("segment of %s = %s, want %s", end.Format(time.RFC3339Nano), got, tt.wantNext)
			}
			if got := segmentName(tt.rule.alignedStart(first.Add(-time.Millisecond))); got >= tt.wantName {
				t.Errorf("ms before %s maps to %s, want an earlier segment", tt.wantName, got)
			}
			start, err := parseSegmentName(tt.wantName)
			if err != nil {
				t.Fatal(err)
			}
			if !start.Equal(tt.segStart) {
				t.Errorf("parsed start %s, want %s", start, tt.segStart)
			}
			m := segmentMeta{Start: start, End: tt.rule.NextTime(start), ShardNum: 1}
			r := newSegment[*fakeTable]("x", m, nil, nopLogger(), time.Now, func() {}, nil, nil).TimeRange()
			if r.String() != tt.wantRange {
				t.Errorf("range %s, want %s", r, tt.wantRange)
			}
			if !r.Contains(last.UnixNano()) || r.Contains(end.UnixNano()) {
				t.Errorf("range %s must contain %s and not %s", r, last, end)
			}
		})
	}
}

func TestShardNameRoundTrip(t *testing.T) {
	for _, id := range []ShardID{0, 1, 9, 10, 4294967295} {
		got, err := parseShardName(shardName(id))
		if err != nil || got != id {
			t.Errorf("parseShardName(shardName(%d)) = %d, %v", id, got, err)
		}
	}
	for _, name := range []string{"shard-", "shard-01", "shard--1", "shard-4294967296", "shard-a", "seg-1", "shard-+1"} {
		if got, err := parseShardName(name); err == nil {
			t.Errorf("parseShardName(%q) = %d, want error", name, got)
		}
	}
}

func writeMeta(t *testing.T, dir string, m any) {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, metadataFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReadSegmentMeta(t *testing.T) {
	start := utc(2026, 11, 25, 0, 0, 0, 0)
	good := segmentMeta{Version: 1, Start: start, End: start.Add(24 * time.Hour),
		Interval: intervalMeta{Unit: "day", Num: 1}, ShardNum: 2}
	mod := func(f func(*segmentMeta)) segmentMeta {
		m := good
		f(&m)
		return m
	}
	tests := []struct {
		name      string
		content   any // nil: no metadata file
		raw       string
		wantErr   string
		notExists bool
	}{
		{name: "good", content: good},
		{name: "missing", notExists: true, wantErr: "no such file"},
		{name: "not json", raw: "{", wantErr: "decode metadata"},
		{name: "version", content: mod(func(m *segmentMeta) { m.Version = 2 }), wantErr: "version"},
		{name: "start mismatch", content: mod(func(m *segmentMeta) { m.Start = start.Add(time.Hour) }), wantErr: "does not match"},
		{name: "end before start", content: mod(func(m *segmentMeta) { m.End = start }), wantErr: "not after start"},
		{name: "end not whole hour", content: mod(func(m *segmentMeta) { m.End = start.Add(90 * time.Minute) }), wantErr: "whole hour"},
		{name: "no shards", content: mod(func(m *segmentMeta) { m.ShardNum = 0 }), wantErr: "shardNum"},
		{name: "bad interval", content: mod(func(m *segmentMeta) { m.Interval.Unit = "week" }), wantErr: "interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), segmentName(start))
			switch {
			case tt.raw != "":
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, metadataFile), []byte(tt.raw), 0o600); err != nil {
					t.Fatal(err)
				}
			case tt.content != nil:
				writeMeta(t, dir, tt.content)
			}
			m, err := readSegmentMeta(dir, start)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !m.End.Equal(good.End) || m.ShardNum != 2 {
					t.Fatalf("got %+v", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrCorruptSegment) {
				t.Fatalf("err %v does not match ErrCorruptSegment", err)
			}
			if tt.notExists && !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("err %v lost its cause fs.ErrNotExist", err)
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metadata")
	for _, content := range []string{"one", "two, longer", "3"} {
		if err := writeFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("content = %q, %v; want %q", got, err, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := writeFileAtomic(filepath.Join(dir, "missing", "x"), []byte("x")); err == nil {
		t.Fatal("want error writing into a missing directory")
	}
}

func TestRemoveDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "seg-2026112500")
	if err := os.MkdirAll(filepath.Join(dir, "shard-0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shard-0", "data"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := removeDir(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(parent)
	if err != nil || len(entries) != 0 {
		t.Fatalf("parent has %v, %v; want empty", entries, err)
	}
	if err := removeDir(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("removing a missing dir: %v, want fs.ErrNotExist", err)
	}
}

func TestIsLeftover(t *testing.T) {
	tests := map[string]bool{
		".deleting-seg-2026112500-1-2": true,
		".creating-seg-2026112500":     true,
		"seg-2026112500":               false,
		"lock":                         false,
		"deleting-x":                   false,
	}
	for name, want := range tests {
		if got := isLeftover(name); got != want {
			t.Errorf("isLeftover(%q) = %v, want %v", name, got, want)
		}
	}
}
