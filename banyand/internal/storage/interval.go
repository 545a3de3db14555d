package storage

import (
	"fmt"
	"time"

	"github.com/pkg/errors"
)

// IntervalUnit is the unit of an IntervalRule.
type IntervalUnit int

// Interval units. The zero value is invalid so that a forgotten field is caught by validation.
const (
	// HOUR is a unit of one hour.
	HOUR IntervalUnit = iota + 1
	// DAY is a unit of one UTC day, always 24 hours.
	DAY
)

// String returns "hour", "day" or "unknown(<n>)".
func (u IntervalUnit) String() string {
	switch u {
	case HOUR:
		return "hour"
	case DAY:
		return "day"
	default:
		return fmt.Sprintf("unknown(%d)", int(u))
	}
}

func (u IntervalUnit) duration() time.Duration {
	switch u {
	case HOUR:
		return time.Hour
	case DAY:
		return 24 * time.Hour
	default:
		return 0
	}
}

// IntervalRule is a length of time counted in whole hours or days, such as a segment interval or a TTL.
//
// All calendar arithmetic is done in UTC. UTC has no daylight-saving shifts, so a day is always
// exactly 24 hours, every node cuts segments at the same instants whatever its local time zone,
// and segment directory names (which spell the UTC start hour) never repeat or skip an hour.
type IntervalRule struct {
	Unit IntervalUnit
	Num  int
}

// Validate returns an error if the unit is unknown or Num is not positive.
func (r IntervalRule) Validate() error {
	if r.Unit != HOUR && r.Unit != DAY {
		return errors.Errorf("unknown interval unit %s", r.Unit)
	}
	if r.Num <= 0 {
		return errors.Errorf("interval num must be positive, got %d", r.Num)
	}
	return nil
}

// Duration returns the exact length of the interval (zero for an invalid rule).
func (r IntervalRule) Duration() time.Duration {
	return time.Duration(r.Num) * r.Unit.duration()
}

// EstimatedDuration is Duration; since rules are evaluated in UTC the estimate is exact.
func (r IntervalRule) EstimatedDuration() time.Duration {
	return r.Duration()
}

// NextTime returns t moved forward by one interval.
func (r IntervalRule) NextTime(t time.Time) time.Time {
	return t.Add(r.Duration())
}

// Standard truncates t to the start of its UTC hour (HOUR) or UTC day (DAY), ignoring Num.
//
// time.Truncate counts from the zero Time, which is midnight UTC, so truncating to 1h or 24h
// lands on UTC hour and day boundaries, also for times before 1970. The result is in UTC.
func (r IntervalRule) Standard(t time.Time) time.Time {
	d := r.Unit.duration()
	if d == 0 {
		return t.UTC()
	}
	return t.UTC().Truncate(d)
}

// alignedStart returns the latest instant <= t that is a whole number of intervals away from
// the Unix epoch. For Num == 1 it equals Standard(t). Aligning to the epoch rather than to t makes
// segment boundaries independent of the order in which timestamps arrive.
func (r IntervalRule) alignedStart(t time.Time) time.Time {
	d := int64(r.Duration())
	n := t.UnixNano()
	mod := n % d
	if mod < 0 {
		mod += d
	}
	// Subtracting on time.Time instead of int64 cannot overflow near the int64 limits.
	return time.Unix(0, n).UTC().Add(-time.Duration(mod))
}

// String returns the rule in compact form, e.g. "1d" or "12h".
func (r IntervalRule) String() string {
	switch r.Unit {
	case HOUR:
		return fmt.Sprintf("%dh", r.Num)
	case DAY:
		return fmt.Sprintf("%dd", r.Num)
	default:
		return fmt.Sprintf("%d %s", r.Num, r.Unit)
	}
}
