package timestamp

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestMockClock(t *testing.T) {
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	c := NewMockClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %s, want %s", got, start)
	}
	if got := c.Add(time.Hour); !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("Add returned %s", got)
	}
	c.Set(start.Add(-time.Hour))
	if got := c.Now(); !got.Equal(start.Add(-time.Hour)) {
		t.Fatalf("after Set: Now() = %s", got)
	}
	var zero MockClock
	if !zero.Now().IsZero() {
		t.Fatalf("zero MockClock should report the zero time")
	}
}

func TestMockClockConcurrent(t *testing.T) {
	c := NewMockClock(time.Unix(0, 0))
	const workers, adds = 8, 1000
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range adds {
				c.Add(time.Millisecond)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if got, want := c.Now(), time.Unix(0, 0).Add(workers*adds*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now() = %s, want %s", got, want)
	}
}

func TestContextClock(t *testing.T) {
	ctx := context.Background()
	c, ctx2 := GetClock(ctx)
	if _, ok := c.(realClock); !ok {
		t.Fatalf("default clock is %T, want realClock", c)
	}
	if again, _ := GetClock(ctx2); again != c {
		t.Fatalf("returned context does not carry the default clock")
	}
	if d := time.Since(c.Now()); d < 0 || d > time.Minute {
		t.Fatalf("real clock is off by %s", d)
	}

	mock := NewMockClock(time.Unix(42, 0))
	ctx3 := SetClock(ctx, mock)
	got, ctx4 := GetClock(ctx3)
	if got != mock {
		t.Fatalf("GetClock = %T, want the mock", got)
	}
	if ctx4 != ctx3 {
		t.Fatalf("GetClock must return the same context when it already carries a clock")
	}
}
