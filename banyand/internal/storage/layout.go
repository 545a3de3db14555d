package storage

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"
)

// Names of the entries of a TSDB location; doc.go describes the layout.
const (
	segmentPrefix     = "seg-"
	segmentTimeLayout = "2006010215" // UTC start hour: YYYYMMDDHH
	segmentDayLayout  = "20060102"   // upstream's suffix of day segments: YYYYMMDD
	shardPrefix       = "shard-"
	metadataFile      = "metadata"
	lockFileName      = "lock"
	deletingPrefix    = ".deleting-"
	creatingPrefix    = ".creating-"
	tmpSuffix         = ".tmp"
	metadataVersion   = 1
)

// segmentName returns the directory name of a segment starting at start, e.g. "seg-2026112500".
// Segment starts are whole UTC hours, so the name identifies the start exactly.
func segmentName(start time.Time) string {
	return segmentPrefix + start.UTC().Format(segmentTimeLayout)
}

// SegmentSuffix returns the suffix of the directory name of a segment starting at start: its start
// hour in UTC as YYYYMMDDHH, e.g. "2026112500" for "seg-2026112500".
func SegmentSuffix(start time.Time) string {
	return start.UTC().Format(segmentTimeLayout)
}

// SegmentSuffixMatches reports whether suffix names the segment starting at start: its own suffix
// (SegmentSuffix), or, for a segment that starts at midnight UTC, upstream BanyanDB's day suffix
// YYYYMMDD.
func SegmentSuffixMatches(start time.Time, suffix string) bool {
	start = start.UTC()
	if suffix == SegmentSuffix(start) {
		return true
	}
	return start.Hour() == 0 && suffix == start.Format(segmentDayLayout)
}

// parseSegmentName is the inverse of segmentName. It rejects any name segmentName would not produce.
func parseSegmentName(name string) (time.Time, error) {
	s, ok := strings.CutPrefix(name, segmentPrefix)
	if !ok {
		return time.Time{}, errors.Errorf("segment name %q lacks prefix %q", name, segmentPrefix)
	}
	t, err := time.ParseInLocation(segmentTimeLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, errors.Wrapf(err, "parse segment name %q", name)
	}
	if segmentName(t) != name {
		return time.Time{}, errors.Errorf("segment name %q is not canonical", name)
	}
	return t, nil
}

// shardName returns the directory name of a shard, e.g. "shard-3".
func shardName(id ShardID) string {
	return shardPrefix + strconv.FormatUint(uint64(id), 10)
}

// parseShardName is the inverse of shardName. It rejects any name shardName would not produce.
func parseShardName(name string) (ShardID, error) {
	s, ok := strings.CutPrefix(name, shardPrefix)
	if !ok {
		return 0, errors.Errorf("shard name %q lacks prefix %q", name, shardPrefix)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errors.Wrapf(err, "parse shard name %q", name)
	}
	if shardName(ShardID(n)) != name {
		return 0, errors.Errorf("shard name %q is not canonical", name)
	}
	return ShardID(n), nil
}

// segmentMeta is the content of a segment's metadata file.
type segmentMeta struct {
	Version  int          `json:"version"`
	Start    time.Time    `json:"start"`
	End      time.Time    `json:"end"`
	Interval intervalMeta `json:"interval"`
	ShardNum uint32       `json:"shardNum"`
}

// intervalMeta records the segment interval that was in force when the segment was created.
type intervalMeta struct {
	Unit string `json:"unit"`
	Num  int    `json:"num"`
}

func newIntervalMeta(r IntervalRule) intervalMeta {
	return intervalMeta{Unit: r.Unit.String(), Num: r.Num}
}

func (m intervalMeta) rule() (IntervalRule, error) {
	r := IntervalRule{Num: m.Num}
	switch m.Unit {
	case HOUR.String():
		r.Unit = HOUR
	case DAY.String():
		r.Unit = DAY
	}
	return r, r.Validate()
}

// corruptSegmentError marks a segment directory that cannot be loaded. It matches
// ErrCorruptSegment with errors.Is and unwraps to its cause (e.g. fs.ErrNotExist).
type corruptSegmentError struct {
	dir   string
	cause error
}

func (e *corruptSegmentError) Error() string {
	return fmt.Sprintf("%s: %s: %v", ErrCorruptSegment, e.dir, e.cause)
}

func (e *corruptSegmentError) Unwrap() error { return e.cause }

func (e *corruptSegmentError) Is(target error) bool { return target == ErrCorruptSegment }

// readSegmentMeta reads and checks the metadata file of the segment directory dir whose
// name spells start.
func readSegmentMeta(dir string, start time.Time) (segmentMeta, error) {
	var m segmentMeta
	data, err := os.ReadFile(filepath.Join(dir, metadataFile))
	if err != nil {
		return m, &corruptSegmentError{dir: dir, cause: err}
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, &corruptSegmentError{dir: dir, cause: errors.Wrap(err, "decode metadata")}
	}
	if err := m.check(start); err != nil {
		return m, &corruptSegmentError{dir: dir, cause: err}
	}
	return m, nil
}

func (m segmentMeta) check(start time.Time) error {
	if m.Version != metadataVersion {
		return errors.Errorf("unsupported metadata version %d", m.Version)
	}
	if !m.Start.Equal(start) {
		return errors.Errorf("metadata start %s does not match the directory name", m.Start.Format(time.RFC3339))
	}
	if !m.End.After(m.Start) {
		return errors.Errorf("metadata end %s is not after start %s", m.End.Format(time.RFC3339), m.Start.Format(time.RFC3339))
	}
	if !m.End.Truncate(time.Hour).Equal(m.End) {
		return errors.Errorf("metadata end %s is not a whole hour", m.End.Format(time.RFC3339Nano))
	}
	if m.ShardNum == 0 {
		return errors.New("metadata shardNum is 0")
	}
	if _, err := m.Interval.rule(); err != nil {
		return errors.Wrap(err, "metadata interval")
	}
	return nil
}

// writeFileAtomic replaces path with data: it writes a temporary file, fsyncs it, renames it
// over path and fsyncs the directory, so a crash leaves either the old or the new content.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return errors.Wrapf(err, "create %s", tmp)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return errors.Wrapf(err, "write %s", tmp)
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return errors.Wrapf(err, "sync %s", tmp)
	}
	if err = f.Close(); err != nil {
		return errors.Wrapf(err, "close %s", tmp)
	}
	if err = os.Rename(tmp, path); err != nil {
		return errors.Wrapf(err, "rename %s", tmp)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory so that entries created, renamed or removed in it are durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return errors.Wrapf(err, "open dir %s", dir)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return errors.Wrapf(err, "sync dir %s", dir)
	}
	return errors.Wrapf(f.Close(), "close dir %s", dir)
}

// removeSeq makes the names of directories being deleted unique within the process.
var removeSeq atomic.Uint64

// removeDir deletes dir crash-safely: it first renames dir to a ".deleting-" sibling, which is
// atomic, and then removes that. A crash during the removal leaves only a ".deleting-" entry,
// which the next OpenTSDB deletes; it never leaves a half-deleted directory under a live name.
func removeDir(dir string) error {
	parent := filepath.Dir(dir)
	trash := filepath.Join(parent, fmt.Sprintf("%s%s-%d-%d", deletingPrefix, filepath.Base(dir),
		time.Now().UnixNano(), removeSeq.Add(1)))
	if err := os.Rename(dir, trash); err != nil {
		return errors.Wrapf(err, "rename %s for deletion", dir)
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	return errors.Wrapf(os.RemoveAll(trash), "remove %s", trash)
}

// isLeftover reports whether name is debris of an interrupted creation or deletion.
func isLeftover(name string) bool {
	return strings.HasPrefix(name, deletingPrefix) || strings.HasPrefix(name, creatingPrefix)
}
