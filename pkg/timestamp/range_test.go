package timestamp

import (
	"testing"
	"time"
)

var base = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func TestConstructors(t *testing.T) {
	s, e := at(0), at(time.Hour)
	tests := []struct {
		name string
		got  TimeRange
		want TimeRange
	}{
		{"inclusive", NewInclusiveTimeRange(s, e), TimeRange{Start: s, End: e, IncludeStart: true, IncludeEnd: true}},
		{"section", NewSectionTimeRange(s, e), TimeRange{Start: s, End: e, IncludeStart: true}},
		{"duration open", NewTimeRangeDuration(s, time.Hour, false, false), TimeRange{Start: s, End: e}},
		{"duration closed", NewTimeRangeDuration(s, time.Hour, true, true), NewInclusiveTimeRange(s, e)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	s, e := at(0), at(time.Hour)
	tests := []struct {
		name string
		tr   TimeRange
		ts   time.Time
		want bool
	}{
		{"section start", NewSectionTimeRange(s, e), s, true},
		{"section last ns", NewSectionTimeRange(s, e), e.Add(-time.Nanosecond), true},
		{"section end", NewSectionTimeRange(s, e), e, false},
		{"section before", NewSectionTimeRange(s, e), s.Add(-time.Nanosecond), false},
		{"inclusive end", NewInclusiveTimeRange(s, e), e, true},
		{"inclusive after end", NewInclusiveTimeRange(s, e), e.Add(time.Nanosecond), false},
		{"open start", TimeRange{Start: s, End: e}, s, false},
		{"open first ns", TimeRange{Start: s, End: e}, s.Add(time.Nanosecond), true},
		{"middle", NewTimeRangeDuration(s, time.Hour, false, false), at(30 * time.Minute), true},
		{"single point", NewInclusiveTimeRange(s, s), s, true},
		{"empty half-open", NewSectionTimeRange(s, s), s, false},
		{"inverted", NewInclusiveTimeRange(e, s), at(30 * time.Minute), false},
		{"unbounded", NewInclusiveTimeRange(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), s, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tr.Contains(tt.ts.UnixNano()); got != tt.want {
				t.Fatalf("%s.Contains(%s) = %v, want %v", tt.tr, tt.ts.Format(time.RFC3339Nano), got, tt.want)
			}
		})
	}
}

func TestOverlapping(t *testing.T) {
	h := func(n int) time.Time { return at(time.Duration(n) * time.Hour) }
	tests := []struct {
		name string
		a, b TimeRange
		want bool
	}{
		{"disjoint", NewSectionTimeRange(h(0), h(1)), NewSectionTimeRange(h(2), h(3)), false},
		{"adjacent half-open", NewSectionTimeRange(h(0), h(1)), NewSectionTimeRange(h(1), h(2)), false},
		{"adjacent inclusive touch", NewInclusiveTimeRange(h(0), h(1)), NewSectionTimeRange(h(1), h(2)), true},
		{"adjacent end included start excluded", NewInclusiveTimeRange(h(0), h(1)), TimeRange{Start: h(1), End: h(2)}, false},
		{"nested", NewSectionTimeRange(h(0), h(10)), NewInclusiveTimeRange(h(2), h(3)), true},
		{"partial", NewSectionTimeRange(h(0), h(2)), NewSectionTimeRange(h(1), h(3)), true},
		{"identical", NewSectionTimeRange(h(0), h(1)), NewSectionTimeRange(h(0), h(1)), true},
		{"point inside", NewSectionTimeRange(h(0), h(2)), NewInclusiveTimeRange(h(1), h(1)), true},
		{"point at excluded end", NewSectionTimeRange(h(0), h(2)), NewInclusiveTimeRange(h(2), h(2)), false},
		{"empty range", NewSectionTimeRange(h(0), h(2)), NewSectionTimeRange(h(1), h(1)), false},
		{"one ns open range is empty", NewSectionTimeRange(h(0), h(2)), TimeRange{Start: h(1), End: h(1).Add(time.Nanosecond)}, false},
		{"inverted", NewSectionTimeRange(h(0), h(2)), NewInclusiveTimeRange(h(2), h(0)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Overlapping(tt.b); got != tt.want {
				t.Fatalf("%s.Overlapping(%s) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := tt.b.Overlapping(tt.a); got != tt.want {
				t.Fatalf("not symmetric: %s.Overlapping(%s) = %v, want %v", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	loc := time.FixedZone("x", 8*3600)
	tests := []struct {
		tr   TimeRange
		want string
	}{
		{NewSectionTimeRange(at(0), at(24*time.Hour)), "[2026-11-25T00:00:00Z, 2026-11-26T00:00:00Z)"},
		{NewInclusiveTimeRange(at(0), at(time.Millisecond)), "[2026-11-25T00:00:00Z, 2026-11-25T00:00:00.001Z]"},
		{TimeRange{Start: at(0).In(loc), End: at(time.Hour)}, "(2026-11-25T00:00:00Z, 2026-11-25T01:00:00Z)"},
	}
	for _, tt := range tests {
		if got := tt.tr.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
