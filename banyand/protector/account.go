// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package protector

import (
	"context"
	"sync/atomic"
)

// Account is the memory one task (a query) holds, reserved from a Memory in steps as the task
// materialises data and returned all at once when the task ends. It is safe for concurrent use:
// the parallel calls of one fan-out grow the same account.
type Account struct {
	m    Memory
	held atomic.Uint64
}

// NewAccount returns an empty account over m; over a nil m it reserves nothing and never fails.
func NewAccount(m Memory) *Account {
	return &Account{m: m}
}

// Grow reserves size more bytes; on failure nothing more is reserved and the error wraps
// ErrMemoryExceeded (or the context's error).
func (a *Account) Grow(ctx context.Context, size uint64) error {
	if size == 0 || a.m == nil {
		return nil
	}
	if err := a.m.AcquireResource(ctx, size); err != nil {
		return err
	}
	a.held.Add(size)
	return nil
}

// Held returns the bytes the account holds.
func (a *Account) Held() uint64 {
	return a.held.Load()
}

// Release returns every byte the account holds; the account may grow again afterwards.
func (a *Account) Release() {
	if n := a.held.Swap(0); n > 0 {
		a.m.ReleaseResource(n)
	}
}

// accountKey is the context key of the account of the task a context belongs to.
type accountKey struct{}

// WithAccount returns a context that carries a: code that materialises data for the task (a data
// plane receiving a node's answer, the data side reading spans) grows it instead of an account of
// its own, and the task's owner releases it once.
func WithAccount(ctx context.Context, a *Account) context.Context {
	return context.WithValue(ctx, accountKey{}, a)
}

// AccountFrom returns the account a context carries, if any.
func AccountFrom(ctx context.Context) (*Account, bool) {
	a, ok := ctx.Value(accountKey{}).(*Account)
	return a, ok && a != nil
}
