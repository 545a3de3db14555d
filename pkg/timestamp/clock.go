package timestamp

import (
	"context"
	"sync"
	"time"
)

// Clock tells the current time; inject a MockClock in tests to control it.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// RealClock returns the Clock backed by time.Now.
func RealClock() Clock { return realClock{} }

// MockClock is a Clock that only moves when told to; it is safe for concurrent use.
type MockClock struct {
	mu  sync.RWMutex
	now time.Time
}

var _ Clock = (*MockClock)(nil)

// NewMockClock returns a MockClock set to now.
func NewMockClock(now time.Time) *MockClock {
	return &MockClock{now: now}
}

// Now returns the time the clock was last set to (the zero time for a zero MockClock).
func (m *MockClock) Now() time.Time {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.now
}

// Set moves the clock to t, backwards or forwards.
func (m *MockClock) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = t
}

// Add moves the clock by d and returns the new time.
func (m *MockClock) Add(d time.Duration) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	return m.now
}

type clockKey struct{}

// SetClock returns a copy of ctx that carries c.
func SetClock(ctx context.Context, c Clock) context.Context {
	return context.WithValue(ctx, clockKey{}, c)
}

// GetClock returns the Clock carried by ctx, or the real clock together with a ctx that now carries it.
func GetClock(ctx context.Context) (Clock, context.Context) {
	if c, ok := ctx.Value(clockKey{}).(Clock); ok && c != nil {
		return c, ctx
	}
	c := RealClock()
	return c, SetClock(ctx, c)
}
