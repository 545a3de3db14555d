package storage

import (
	"time"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// retentionDeadline returns the instant before which data has outlived ttl at now.
func retentionDeadline(now time.Time, ttl IntervalRule) time.Time {
	return now.Add(-ttl.Duration())
}

// expiredSegments returns, in input order, the indexes of the segments whose data has all
// outlived ttl at now.
//
// The boundary: with deadline = now - ttl, a segment [start, end) is expired when
// end <= deadline, since its last instant (end - 1ns) is then before the deadline. A segment
// whose end is included is expired only when end < deadline. A segment that holds the deadline
// itself or anything later is kept; this matches CreateSegmentIfNotExist, which accepts exactly
// the timestamps >= deadline.
func expiredSegments(segments []timestamp.TimeRange, now time.Time, ttl IntervalRule) []int {
	deadline := retentionDeadline(now, ttl)
	var expired []int
	for i, tr := range segments {
		if tr.End.Before(deadline) || (tr.End.Equal(deadline) && !tr.IncludeEnd) {
			expired = append(expired, i)
		}
	}
	return expired
}

// retentionLoop sweeps every interval until stop is closed, then closes done.
func (db *database[T]) retentionLoop(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			n, err := db.DeleteExpiredSegments()
			switch {
			case errors.Is(err, ErrClosed):
				return
			case err != nil:
				db.l.Error().Err(err).Int("removed", n).Msg("retention sweep")
			case n > 0:
				db.l.Info().Int("removed", n).Msg("retention sweep")
			}
		}
	}
}
