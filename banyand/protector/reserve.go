package protector

import (
	"context"

	"github.com/pkg/errors"
)

func (m *memory) AcquireResource(ctx context.Context, size uint64) error {
	if err := ctx.Err(); err != nil {
		return errors.Wrapf(err, "acquire %d bytes", size)
	}
	limit := m.limit.Load()
	for {
		cur := m.usage.Load()
		// Written as a subtraction so that a huge size cannot overflow the sum.
		if cur > limit || size > limit-cur {
			return errors.Wrapf(ErrMemoryExceeded, "acquire %d bytes with %d of %d bytes in use", size, cur, limit)
		}
		if m.usage.CompareAndSwap(cur, cur+size) {
			if m.usageGauge != nil {
				m.usageGauge.Add(float64(size))
			}
			return nil
		}
	}
}

func (m *memory) ReleaseResource(size uint64) {
	for {
		cur := m.usage.Load()
		next := cur - size
		if size > cur {
			// More released than acquired is a caller bug; clamp rather than wrap around.
			m.log.Error().Uint64("release", size).Uint64("usage", cur).Msg("BUG: released more memory than acquired")
			next = 0
		}
		if m.usage.CompareAndSwap(cur, next) {
			if m.usageGauge != nil {
				m.usageGauge.Sub(float64(cur - next))
			}
			return
		}
	}
}

func (m *memory) GetLimit() uint64 {
	return m.limit.Load()
}

func (m *memory) Usage() uint64 {
	return m.usage.Load()
}
