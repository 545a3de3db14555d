package storage

import (
	"slices"
	"testing"
	"time"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

func TestExpiredSegments(t *testing.T) {
	day := func(d int) time.Time { return utc(2026, 11, d, 0, 0, 0, 0) }
	seg := func(from, to int) timestamp.TimeRange { return timestamp.NewSectionTimeRange(day(from), day(to)) }
	ttl := IntervalRule{Unit: DAY, Num: 3}
	segs := []timestamp.TimeRange{seg(20, 21), seg(21, 22), seg(22, 23), seg(23, 24)}
	tests := []struct {
		name string
		segs []timestamp.TimeRange
		now  time.Time
		want []int
	}{
		{"none", segs, day(24).Add(-time.Nanosecond), nil},
		{"end equal to deadline is expired", segs, day(24), []int{0}},
		{"next end one ns after the deadline", segs, day(25).Add(-time.Nanosecond), []int{0}},
		{"next end reached", segs, day(25), []int{0, 1}},
		{"one ms after", segs, day(25).Add(time.Millisecond), []int{0, 1}},
		{"several", segs, day(26), []int{0, 1, 2}},
		{"all", segs, day(30), []int{0, 1, 2, 3}},
		{"empty input", nil, day(30), nil},
		{"included end is kept at the deadline", []timestamp.TimeRange{timestamp.NewInclusiveTimeRange(day(20), day(21))}, day(24), nil},
		{"included end expires after the deadline", []timestamp.TimeRange{timestamp.NewInclusiveTimeRange(day(20), day(21))}, day(24).Add(time.Nanosecond), []int{0}},
		{"unsorted input keeps input order", []timestamp.TimeRange{seg(23, 24), seg(20, 21), seg(25, 26), seg(21, 22)}, day(25), []int{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := expiredSegments(tt.segs, tt.now, ttl); !slices.Equal(got, tt.want) {
				t.Fatalf("expiredSegments(now=%s) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestRetentionDeadline(t *testing.T) {
	now := utc(2026, 11, 25, 12, 0, 0, 0)
	if got, want := retentionDeadline(now, IntervalRule{Unit: HOUR, Num: 5}), utc(2026, 11, 25, 7, 0, 0, 0); !got.Equal(want) {
		t.Fatalf("deadline = %s, want %s", got, want)
	}
	if got, want := retentionDeadline(now, IntervalRule{Unit: DAY, Num: 7}), utc(2026, 11, 18, 12, 0, 0, 0); !got.Equal(want) {
		t.Fatalf("deadline = %s, want %s", got, want)
	}
}
