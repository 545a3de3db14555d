package timestamp

import (
	"strings"
	"time"
)

// TimeRange is an interval of time whose ends are each either included or excluded.
type TimeRange struct {
	Start        time.Time
	End          time.Time
	IncludeStart bool
	IncludeEnd   bool
}

// NewInclusiveTimeRange returns the closed range [start, end].
func NewInclusiveTimeRange(start, end time.Time) TimeRange {
	return TimeRange{Start: start, End: end, IncludeStart: true, IncludeEnd: true}
}

// NewSectionTimeRange returns the half-open range [start, end), the shape of a storage segment.
func NewSectionTimeRange(start, end time.Time) TimeRange {
	return TimeRange{Start: start, End: end, IncludeStart: true, IncludeEnd: false}
}

// NewTimeRangeDuration returns the range from start to start+d with the given end inclusion.
func NewTimeRangeDuration(start time.Time, d time.Duration, includeStart, includeEnd bool) TimeRange {
	return TimeRange{Start: start, End: start.Add(d), IncludeStart: includeStart, IncludeEnd: includeEnd}
}

// closedBounds returns the first and last nanosecond that belong to the range.
//
// Time has nanosecond resolution, so an excluded end is the same as an included end one
// nanosecond inwards. Working on closed bounds keeps Contains and Overlapping consistent
// (for example (t, t+1ns) is empty for both), and time.Time arithmetic cannot overflow the
// way UnixNano does for times outside 1678..2262.
func (t TimeRange) closedBounds() (lo, hi time.Time) {
	lo, hi = t.Start, t.End
	if !t.IncludeStart {
		lo = lo.Add(time.Nanosecond)
	}
	if !t.IncludeEnd {
		hi = hi.Add(-time.Nanosecond)
	}
	return lo, hi
}

// Empty reports whether no instant belongs to the range.
func (t TimeRange) Empty() bool {
	lo, hi := t.closedBounds()
	return lo.After(hi)
}

// Contains reports whether the instant unixNano (Unix nanoseconds) belongs to the range.
func (t TimeRange) Contains(unixNano int64) bool {
	lo, hi := t.closedBounds()
	ts := time.Unix(0, unixNano)
	return !ts.Before(lo) && !ts.After(hi)
}

// Overlapping reports whether at least one instant belongs to both ranges.
func (t TimeRange) Overlapping(other TimeRange) bool {
	lo1, hi1 := t.closedBounds()
	lo2, hi2 := other.closedBounds()
	if lo1.After(hi1) || lo2.After(hi2) {
		return false
	}
	return !lo1.After(hi2) && !lo2.After(hi1)
}

// String formats the range in UTC with interval brackets, e.g. "[2026-11-25T00:00:00Z, 2026-11-26T00:00:00Z)".
func (t TimeRange) String() string {
	var b strings.Builder
	if t.IncludeStart {
		b.WriteByte('[')
	} else {
		b.WriteByte('(')
	}
	b.WriteString(t.Start.UTC().Format(time.RFC3339Nano))
	b.WriteString(", ")
	b.WriteString(t.End.UTC().Format(time.RFC3339Nano))
	if t.IncludeEnd {
		b.WriteByte(']')
	} else {
		b.WriteByte(')')
	}
	return b.String()
}
