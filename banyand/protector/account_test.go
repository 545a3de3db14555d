// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package protector

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func TestAccountGrowsAndReleasesAtOnce(t *testing.T) {
	m := newTestMemory(t, nil, "", "", "--allowed-bytes=100")
	preRun(t, m)
	ctx := context.Background()
	a := NewAccount(m)
	for _, n := range []uint64{30, 0, 50} {
		if err := a.Grow(ctx, n); err != nil {
			t.Fatalf("Grow(%d): %v", n, err)
		}
	}
	if err := a.Grow(ctx, 21); !errors.Is(err, ErrMemoryExceeded) {
		t.Fatalf("Grow past the limit: %v, want ErrMemoryExceeded", err)
	}
	if a.Held() != 80 || m.Usage() != 80 {
		t.Fatalf("held %d, usage %d; want 80 and 80 (a refused Grow reserves nothing)", a.Held(), m.Usage())
	}
	a.Release()
	a.Release()
	if a.Held() != 0 || m.Usage() != 0 {
		t.Fatalf("after Release: held %d, usage %d", a.Held(), m.Usage())
	}
	if err := a.Grow(ctx, 100); err != nil {
		t.Fatalf("Grow after Release: %v", err)
	}
	a.Release()
}

func TestAccountConcurrentGrowth(t *testing.T) {
	m := newTestMemory(t, nil, "", "", "--allowed-bytes=1000")
	preRun(t, m)
	a := NewAccount(m)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				_ = a.Grow(context.Background(), 3)
			}
		}()
	}
	wg.Wait()
	if a.Held() != m.Usage() || a.Held() > 1000 {
		t.Fatalf("held %d, usage %d", a.Held(), m.Usage())
	}
	a.Release()
	if m.Usage() != 0 {
		t.Fatalf("usage after Release = %d", m.Usage())
	}
}

func TestAccountOverNoMemoryAndInContext(t *testing.T) {
	a := NewAccount(nil)
	if err := a.Grow(context.Background(), 1<<40); err != nil || a.Held() != 0 {
		t.Fatalf("an account over no protector: err %v, held %d", err, a.Held())
	}
	a.Release()
	if _, ok := AccountFrom(context.Background()); ok {
		t.Fatal("a bare context carries an account")
	}
	got, ok := AccountFrom(WithAccount(context.Background(), a))
	if !ok || got != a {
		t.Fatalf("AccountFrom = %p, %v; want %p", got, ok, a)
	}
}
