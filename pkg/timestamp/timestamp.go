// Package timestamp holds time ranges, timestamp validation and an injectable clock.
package timestamp

import (
	"math"
	"time"

	"github.com/pkg/errors"
)

var (
	// ErrTimeOutOfRange is returned by Check when a time cannot be represented as int64 Unix nanoseconds.
	ErrTimeOutOfRange = errors.New("timestamp: time out of range")
	// ErrTimeNotMillisecond is returned by Check when a time carries sub-millisecond precision.
	ErrTimeNotMillisecond = errors.New("timestamp: time is not in millisecond precision")
)

var (
	// MinNanoTime is the earliest time representable as int64 Unix nanoseconds (1677-09-21T00:12:43.145224192Z).
	MinNanoTime = time.Unix(0, math.MinInt64).UTC()
	// MaxNanoTime is the latest time representable as int64 Unix nanoseconds (2262-04-11T23:47:16.854775807Z).
	MaxNanoTime = time.Unix(0, math.MaxInt64).UTC()
	// MinMilli is the earliest millisecond-precision time that Check accepts (1677-09-21T00:12:43.146Z).
	MinMilli = time.UnixMilli(math.MinInt64 / int64(time.Millisecond)).UTC() // division truncates toward zero: rounds up
	// MaxMilli is the latest millisecond-precision time that Check accepts (2262-04-11T23:47:16.854Z).
	MaxMilli = time.UnixMilli(math.MaxInt64 / int64(time.Millisecond)).UTC()
)

// Check reports whether t lies in [MinNanoTime, MaxNanoTime] and has millisecond precision.
//
// It returns an error wrapping ErrTimeOutOfRange or ErrTimeNotMillisecond; test with errors.Is.
func Check(t time.Time) error {
	if t.Before(MinNanoTime) || t.After(MaxNanoTime) {
		return errors.Wrapf(ErrTimeOutOfRange, "%s is outside [%s, %s]",
			t.Format(time.RFC3339Nano), MinNanoTime.Format(time.RFC3339Nano), MaxNanoTime.Format(time.RFC3339Nano))
	}
	// Nanosecond() is always in [0, 1e9), also before the epoch, so the modulo is safe.
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		return errors.Wrapf(ErrTimeNotMillisecond, "%s", t.Format(time.RFC3339Nano))
	}
	return nil
}
