package storage

import (
	"io"
	"time"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// Sentinel errors. Returned errors wrap them with context; test with errors.Is.
var (
	// ErrSegmentExpired is returned when a timestamp is older than now minus the TTL.
	ErrSegmentExpired = errors.New("storage: segment expired")
	// ErrClosed is returned by operations on a TSDB that has been closed or dropped.
	ErrClosed = errors.New("storage: tsdb closed")
	// ErrLocked is returned by OpenTSDB when another TSDB holds the location's lock file.
	ErrLocked = errors.New("storage: location is locked by another tsdb")
	// ErrInvalidOptions is returned by OpenTSDB when TSDBOpts fail validation.
	ErrInvalidOptions = errors.New("storage: invalid options")
	// ErrShardOutOfRange is returned by Segment.Table for a shard >= the segment's ShardNum.
	ErrShardOutOfRange = errors.New("storage: shard out of range")
	// ErrSegmentClosed is returned by Segment.Table after the segment's last reference was released.
	ErrSegmentClosed = errors.New("storage: segment closed")
	// ErrCorruptSegment is returned by OpenTSDB when a segment directory cannot be understood.
	ErrCorruptSegment = errors.New("storage: corrupt segment")
)

// ShardID identifies a shard of a segment, in [0, ShardNum).
type ShardID uint32

// TSTable is the per-(segment, shard) store supplied by the user of the package.
type TSTable interface {
	io.Closer
}

// TableOpener opens, creating if needed, the table stored in dir for one shard of one segment.
//
// dir exists when the opener is called. The opener owns the directory's content; the TSDB
// only creates and deletes the directory. A returned table is closed exactly once by the TSDB.
type TableOpener[T TSTable] func(dir string, segment timestamp.TimeRange, shard ShardID) (T, error)

// TSDB is a store of time segments, each split into shards, with TTL-based retention.
//
// Every Segment returned by a TSDB carries a reference that the caller owns and must release
// with DecRef exactly once. All methods are safe for concurrent use.
type TSDB[T TSTable] interface {
	// Close stops retention, closes every table and releases the lock file. It waits until
	// every outstanding segment reference has been released. Calling Close again returns nil.
	io.Closer
	// CreateSegmentIfNotExist returns, referenced, the segment covering ts, creating it if needed.
	// A new segment starts at the latest multiple of the segment interval (counted from the Unix
	// epoch) <= ts and ends one interval later, clipped so that it never overlaps a neighbour
	// (including a segment that retention removed but a caller still references).
	// Errors wrap ErrSegmentExpired if ts is before now-TTL or inside a segment being dropped by
	// retention, timestamp.ErrTimeOutOfRange if ts cannot be stored, and ErrClosed after Close or Drop.
	CreateSegmentIfNotExist(ts time.Time) (Segment[T], error)
	// SelectSegments returns, referenced and ordered by start, the segments overlapping tr.
	// It returns nil after Close. The caller must DecRef every returned segment.
	SelectSegments(tr timestamp.TimeRange) []Segment[T]
	// Segments returns, referenced and ordered by start, all live segments. The caller must DecRef each.
	Segments() []Segment[T]
	// GetExpiredSegmentsTimeRange returns the span of the segments the next retention sweep would
	// drop at the current time, or nil if there are none.
	GetExpiredSegmentsTimeRange() *timestamp.TimeRange
	// DeleteExpiredSegments runs one retention sweep now and returns how many segments it removed.
	// Removed segments still referenced are closed and deleted by their last DecRef.
	// It returns an error wrapping ErrClosed after Close.
	DeleteExpiredSegments() (int, error)
	// DeleteSegmentsBySuffix removes the segments whose name suffix (see SegmentSuffix) is listed
	// and which the retention sweep would remove now (expired by the TTL); a listed segment still
	// inside the TTL is kept. It returns how many it removed, and an error wrapping ErrClosed after
	// Close. Removed segments still referenced are closed and deleted by their last DecRef.
	DeleteSegmentsBySuffix(suffixes []string) (int, error)
	// DropSegments removes every live segment, keeping the TSDB open for new data; it returns how
	// many it removed, and an error wrapping ErrClosed after Close.
	DropSegments() (int, error)
	// Drop closes the TSDB like Close and then deletes its location with all data. A location
	// holding entries that no TSDB writes (another group's directory, say) is closed but not
	// deleted, with an error wrapping ErrUnsafeLocation.
	// It returns an error wrapping ErrClosed if the TSDB was already closed.
	Drop() error
	// UpdateOptions changes the shard number and segment interval of segments created from now on,
	// and the TTL of later sweeps. Existing segments keep their range and shard number.
	// Invalid values are logged and ignored, keeping the previous value of that field.
	UpdateOptions(shardNum uint32, segmentInterval, ttl IntervalRule)
}

// Segment is a time range of a TSDB holding one table per shard.
//
// A Segment is obtained with a reference. Its methods may be used until that reference is
// released with DecRef; after the last reference is gone the segment's tables are closed.
// While only the TSDB references it (nobody reads or writes it), the TSDB may close its tables
// to save file descriptors and memory (TSDBOpts.IdleTimeout, MaxOpenSegments); they open again
// on the next Table, Tables or OpenedTable.
type Segment[T TSTable] interface {
	// TimeRange returns the half-open range [start, end) the segment covers.
	TimeRange() timestamp.TimeRange
	// Table returns the table of shard, creating it on first use and opening it again if the
	// idle sweep closed it; concurrent callers share one open. Errors wrap ErrShardOutOfRange,
	// ErrSegmentClosed or the opener's error.
	Table(shard ShardID) (T, error)
	// Tables returns, in shard order, the tables of every shard that exists on disk (opening
	// those the idle sweep closed). Errors wrap ErrSegmentClosed or the opener's error.
	Tables() ([]T, error)
	// OpenedTable returns the table of shard without creating it (opening it again if the idle
	// sweep closed it); false if the shard has none.
	OpenedTable(shard ShardID) (T, bool, error)
	// ShardNum returns the number of shards the segment was created with.
	ShardNum() uint32
	// Dir returns the segment's directory.
	Dir() string
	// IncRef takes one more reference; only call it while already holding one.
	IncRef()
	// DecRef releases one reference; the last release closes the tables (and deletes the
	// directory if the segment was dropped).
	DecRef()
}
