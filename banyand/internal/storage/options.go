package storage

import (
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/rs/zerolog"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// DefaultRetentionCheckInterval is the default period of the retention sweep.
const DefaultRetentionCheckInterval = time.Minute

// TSDBOpts configures OpenTSDB.
type TSDBOpts[T TSTable] struct {
	// Location is the directory of the TSDB, conventionally <root>/<group>. It is created if missing. Required.
	Location string
	// ShardNum is the number of shards of newly created segments. Required, > 0.
	ShardNum uint32
	// SegmentInterval is the length of newly created segments. Required.
	SegmentInterval IntervalRule
	// TTL is how long data is kept: a segment is dropped once its end is at or before now-TTL. Required.
	TTL IntervalRule
	// OpenTable opens the table of one (segment, shard). Required.
	OpenTable TableOpener[T]
	// Logger receives the TSDB's logs. The default value (nil) discards them.
	Logger *zerolog.Logger
	// Clock tells "now" for TTL decisions. The default value (nil) is the real clock.
	Clock timestamp.Clock
	// RetentionCheckInterval is the period of the background retention sweep; the first sweep
	// runs one period after OpenTSDB. The default value (0) is DefaultRetentionCheckInterval.
	RetentionCheckInterval time.Duration
	// IdleTimeout, when > 0, closes the tables of a segment that nobody has referenced for this
	// long (a sweep runs every IdleTimeout/4, at least every second and at most every minute);
	// they open again on demand. The default value (0) never closes a segment for being idle.
	IdleTimeout time.Duration
	// MaxOpenSegments, when > 0, bounds the segments whose tables are open: each time a table
	// opens while more segments than this have open tables, the least recently used segments
	// that nobody references are closed until the count is back within the bound. Segments in
	// use are never closed, so the count may pass the bound while they are. The default value
	// (0) sets no bound.
	MaxOpenSegments int
	// Descriptors keeps the tables within the process's file descriptors, closing idle
	// segments of any TSDB it guards and refusing a table when none is left. The default value
	// (nil) is ProcessDescriptors(), shared by every TSDB of the process.
	Descriptors *DescriptorGuard
}

// withDefaults returns a copy of o with zero optional fields replaced by their defaults.
func (o TSDBOpts[T]) withDefaults() TSDBOpts[T] {
	if o.Logger == nil {
		nop := zerolog.Nop()
		o.Logger = &nop
	}
	if o.Clock == nil {
		o.Clock = timestamp.RealClock()
	}
	if o.RetentionCheckInterval == 0 {
		o.RetentionCheckInterval = DefaultRetentionCheckInterval
	}
	if o.Descriptors == nil {
		o.Descriptors = ProcessDescriptors()
	}
	return o
}

// validate reports every problem of o at once, wrapped in ErrInvalidOptions. It has no side effects.
func (o TSDBOpts[T]) validate() error {
	var problems []string
	if o.Location == "" {
		problems = append(problems, "Location is empty")
	}
	if o.ShardNum == 0 {
		problems = append(problems, "ShardNum must be positive")
	}
	if err := o.SegmentInterval.Validate(); err != nil {
		problems = append(problems, "SegmentInterval: "+err.Error())
	}
	if err := o.TTL.Validate(); err != nil {
		problems = append(problems, "TTL: "+err.Error())
	}
	if o.OpenTable == nil {
		problems = append(problems, "OpenTable is nil")
	}
	if o.RetentionCheckInterval < 0 {
		problems = append(problems, "RetentionCheckInterval must not be negative")
	}
	if o.IdleTimeout < 0 {
		problems = append(problems, "IdleTimeout must not be negative")
	}
	if o.MaxOpenSegments < 0 {
		problems = append(problems, "MaxOpenSegments must not be negative")
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.Wrap(ErrInvalidOptions, strings.Join(problems, "; "))
}

// dynamicOptions are the options UpdateOptions may change; an instance is never mutated once published.
type dynamicOptions struct {
	shardNum        uint32
	segmentInterval IntervalRule
	ttl             IntervalRule
}
