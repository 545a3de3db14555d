package timestamp

import (
	"testing"
	"time"

	"github.com/pkg/errors"
)

func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return ts
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		got  time.Time
		want string
	}{
		{"MinNanoTime", MinNanoTime, "1677-09-21T00:12:43.145224192Z"},
		{"MaxNanoTime", MaxNanoTime, "2262-04-11T23:47:16.854775807Z"},
		{"MinMilli", MinMilli, "1677-09-21T00:12:43.146Z"},
		{"MaxMilli", MaxMilli, "2262-04-11T23:47:16.854Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.got.Equal(mustParse(t, tt.want)) {
				t.Fatalf("got %s, want %s", tt.got.Format(time.RFC3339Nano), tt.want)
			}
		})
	}
	if err := Check(MinMilli); err != nil {
		t.Errorf("Check(MinMilli) = %v", err)
	}
	if err := Check(MaxMilli); err != nil {
		t.Errorf("Check(MaxMilli) = %v", err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"epoch", "1970-01-01T00:00:00Z", nil},
		{"ms precision", "2026-11-25T10:11:12.345Z", nil},
		{"before epoch ms precision", "1960-01-01T00:00:00.001Z", nil},
		{"min nano is not ms", "1677-09-21T00:12:43.145224192Z", ErrTimeNotMillisecond},
		{"max nano is not ms", "2262-04-11T23:47:16.854775807Z", ErrTimeNotMillisecond},
		{"one ns before min", "1677-09-21T00:12:43.145224191Z", ErrTimeOutOfRange},
		{"one ns after max", "2262-04-11T23:47:16.854775808Z", ErrTimeOutOfRange},
		{"year 1", "0001-01-01T00:00:00Z", ErrTimeOutOfRange},
		{"year 3000", "3000-01-01T00:00:00Z", ErrTimeOutOfRange},
		{"microsecond", "2026-11-25T10:11:12.000001Z", ErrTimeNotMillisecond},
		{"nanosecond before epoch", "1969-12-31T23:59:59.999999999Z", ErrTimeNotMillisecond},
		{"other zone, ms precision", "2026-11-25T10:11:12.345+08:00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(mustParse(t, tt.in))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want nil", tt.in, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check(%s) = %v, want %v", tt.in, err, tt.wantErr)
			}
		})
	}
}
