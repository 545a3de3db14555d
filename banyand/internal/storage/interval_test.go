package storage

import (
	"testing"
	"time"
)

func utc(year int, month time.Month, day, hour, minute, sec, nsec int) time.Time {
	return time.Date(year, month, day, hour, minute, sec, nsec, time.UTC)
}

func TestIntervalRuleValidate(t *testing.T) {
	tests := []struct {
		rule    IntervalRule
		wantErr bool
	}{
		{IntervalRule{Unit: HOUR, Num: 1}, false},
		{IntervalRule{Unit: DAY, Num: 30}, false},
		{IntervalRule{}, true},
		{IntervalRule{Unit: DAY}, true},
		{IntervalRule{Unit: HOUR, Num: -1}, true},
		{IntervalRule{Unit: 7, Num: 1}, true},
	}
	for _, tt := range tests {
		if err := tt.rule.Validate(); (err != nil) != tt.wantErr {
			t.Errorf("%+v.Validate() = %v, wantErr %v", tt.rule, err, tt.wantErr)
		}
	}
}

func TestIntervalRuleDurationAndString(t *testing.T) {
	tests := []struct {
		rule IntervalRule
		dur  time.Duration
		str  string
	}{
		{IntervalRule{Unit: HOUR, Num: 1}, time.Hour, "1h"},
		{IntervalRule{Unit: HOUR, Num: 12}, 12 * time.Hour, "12h"},
		{IntervalRule{Unit: DAY, Num: 1}, 24 * time.Hour, "1d"},
		{IntervalRule{Unit: DAY, Num: 7}, 7 * 24 * time.Hour, "7d"},
		{IntervalRule{Unit: 9, Num: 2}, 0, "2 unknown(9)"},
	}
	for _, tt := range tests {
		if got := tt.rule.Duration(); got != tt.dur {
			t.Errorf("%+v.Duration() = %s, want %s", tt.rule, got, tt.dur)
		}
		if got := tt.rule.EstimatedDuration(); got != tt.dur {
			t.Errorf("%+v.EstimatedDuration() = %s, want %s", tt.rule, got, tt.dur)
		}
		if got := tt.rule.String(); got != tt.str {
			t.Errorf("%+v.String() = %q, want %q", tt.rule, got, tt.str)
		}
	}
}

func TestIntervalRuleNextTime(t *testing.T) {
	// 2026-03-29 is a DST change day in Europe; UTC arithmetic must ignore it.
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		rule IntervalRule
		in   time.Time
		want time.Time
	}{
		{IntervalRule{Unit: HOUR, Num: 1}, utc(2026, 11, 25, 23, 0, 0, 0), utc(2026, 11, 26, 0, 0, 0, 0)},
		{IntervalRule{Unit: DAY, Num: 1}, utc(2026, 3, 28, 0, 0, 0, 0), utc(2026, 3, 29, 0, 0, 0, 0)},
		{IntervalRule{Unit: DAY, Num: 2}, utc(2026, 12, 31, 0, 0, 0, 0), utc(2027, 1, 2, 0, 0, 0, 0)},
		{IntervalRule{Unit: DAY, Num: 1}, time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), utc(2026, 3, 29, 23, 0, 0, 0)},
	}
	for _, tt := range tests {
		if got := tt.rule.NextTime(tt.in); !got.Equal(tt.want) {
			t.Errorf("%s.NextTime(%s) = %s, want %s", tt.rule, tt.in, got, tt.want)
		}
	}
}

func TestIntervalRuleStandard(t *testing.T) {
	plus8 := time.FixedZone("+08", 8*3600)
	hour := IntervalRule{Unit: HOUR, Num: 1}
	day := IntervalRule{Unit: DAY, Num: 1}
	tests := []struct {
		name string
		rule IntervalRule
		in   time.Time
		want time.Time
	}{
		{"hour start", hour, utc(2026, 11, 25, 10, 0, 0, 0), utc(2026, 11, 25, 10, 0, 0, 0)},
		{"hour last ms", hour, utc(2026, 11, 25, 10, 59, 59, 999_000_000), utc(2026, 11, 25, 10, 0, 0, 0)},
		{"day last ns", day, utc(2026, 11, 25, 23, 59, 59, 999_999_999), utc(2026, 11, 25, 0, 0, 0, 0)},
		{"day ignores num", IntervalRule{Unit: DAY, Num: 3}, utc(2026, 11, 25, 5, 0, 0, 0), utc(2026, 11, 25, 0, 0, 0, 0)},
		{"non-UTC input uses the UTC day", day, time.Date(2026, 11, 25, 1, 30, 0, 0, plus8), utc(2026, 11, 24, 0, 0, 0, 0)},
		{"before epoch hour", hour, utc(1969, 12, 31, 23, 30, 0, 0), utc(1969, 12, 31, 23, 0, 0, 0)},
		{"before epoch day", day, utc(1969, 12, 31, 23, 30, 0, 0), utc(1969, 12, 31, 0, 0, 0, 0)},
		{"leap day", day, utc(2028, 2, 29, 12, 0, 0, 0), utc(2028, 2, 29, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rule.Standard(tt.in)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("Standard(%s) = %s, want %s in UTC", tt.in, got, tt.want)
			}
		})
	}
}

func TestIntervalRuleAlignedStart(t *testing.T) {
	tests := []struct {
		name string
		rule IntervalRule
		in   time.Time
		want time.Time
	}{
		{"1h", IntervalRule{Unit: HOUR, Num: 1}, utc(2026, 11, 25, 10, 59, 59, 999_000_000), utc(2026, 11, 25, 10, 0, 0, 0)},
		{"3h", IntervalRule{Unit: HOUR, Num: 3}, utc(2026, 11, 25, 13, 0, 0, 0), utc(2026, 11, 25, 12, 0, 0, 0)},
		{"3h boundary", IntervalRule{Unit: HOUR, Num: 3}, utc(2026, 11, 25, 15, 0, 0, 0), utc(2026, 11, 25, 15, 0, 0, 0)},
		{"1d", IntervalRule{Unit: DAY, Num: 1}, utc(2026, 11, 25, 23, 59, 59, 999_000_000), utc(2026, 11, 25, 0, 0, 0, 0)},
		// 2026-11-25 is day 20782 after the epoch; 20782 mod 7 = 6.
		{"7d counts from the epoch", IntervalRule{Unit: DAY, Num: 7}, utc(2026, 11, 25, 8, 0, 0, 0), utc(2026, 11, 19, 0, 0, 0, 0)},
		{"before epoch 1d", IntervalRule{Unit: DAY, Num: 1}, utc(1969, 12, 31, 23, 0, 0, 0), utc(1969, 12, 31, 0, 0, 0, 0)},
		{"before epoch 2d", IntervalRule{Unit: DAY, Num: 2}, utc(1969, 12, 31, 23, 0, 0, 0), utc(1969, 12, 30, 0, 0, 0, 0)},
		{"near min", IntervalRule{Unit: DAY, Num: 1}, utc(1677, 9, 21, 0, 12, 44, 0), utc(1677, 9, 21, 0, 0, 0, 0)},
		{"near max", IntervalRule{Unit: DAY, Num: 1}, utc(2262, 4, 11, 23, 47, 16, 0), utc(2262, 4, 11, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.alignedStart(tt.in); !got.Equal(tt.want) {
				t.Fatalf("alignedStart(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	// For Num == 1 the aligned start is the standard time.
	for _, unit := range []IntervalUnit{HOUR, DAY} {
		r := IntervalRule{Unit: unit, Num: 1}
		for ts := utc(1969, 12, 30, 0, 0, 0, 0); ts.Before(utc(1970, 1, 3, 0, 0, 0, 0)); ts = ts.Add(37 * time.Minute) {
			if a, s := r.alignedStart(ts), r.Standard(ts); !a.Equal(s) {
				t.Fatalf("%s: alignedStart(%s) = %s, Standard = %s", r, ts, a, s)
			}
		}
	}
}
