// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/skywalking-banyandb/banyand/protector"
)

// newWriteMemory returns write memory sized by args over a protector limited to 800 MiB.
func newWriteMemory(t *testing.T, args ...string) *WriteMemory {
	t.Helper()
	pm := protector.NewMemory(nil)
	if err := pm.FlagSet().Parse([]string{"--allowed-bytes=800mb"}); err != nil {
		t.Fatal(err)
	}
	if err := pm.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := NewWriteMemory(pm, nil)
	if err := w.FlagSet().Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := w.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWriteMemoryLimits(t *testing.T) {
	tests := []struct {
		args                 []string
		perStream, wantTotal int64
	}{
		{nil, 8 << 20, 50 << 20},
		{[]string{"--write-buffer-per-stream=1mb", "--write-buffer-total=10mb"}, 1 << 20, 10 << 20},
	}
	for _, tt := range tests {
		w := newWriteMemory(t, tt.args...)
		if w.limitPerStream != tt.perStream || w.limitTotal != tt.wantTotal {
			t.Fatalf("%v: limits %d/%d, want %d/%d", tt.args, w.limitPerStream, w.limitTotal, tt.perStream, tt.wantTotal)
		}
	}
	small := protector.NewMemory(nil)
	_ = small.FlagSet().Parse([]string{"--allowed-bytes=256mb"})
	_ = small.PreRun(context.Background())
	w := NewWriteMemory(small, nil)
	_ = w.PreRun(context.Background())
	if w.limitTotal != minWriteBufferTotal {
		t.Fatalf("total under a small protector = %d, want the floor %d", w.limitTotal, minWriteBufferTotal)
	}
	for _, bad := range []string{"--write-buffer-per-stream=0", "--write-buffer-total=-1"} {
		w := NewWriteMemory(small, nil)
		if err := w.FlagSet().Parse([]string{bad}); err == nil {
			if err := w.Validate(); !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("%s: Validate = %v, want ErrInvalidOption", bad, err)
			}
		}
	}
}

// roomNow reports whether s may receive now, without waiting.
func roomNow(s *streamMemory) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return s.waitRoom(ctx) == nil
}

func TestStreamMemoryBounds(t *testing.T) {
	w := newWriteMemory(t, "--write-buffer-per-stream=100b", "--write-buffer-total=250b")
	a, b, c := w.openStream(), w.openStream(), w.openStream()
	if !roomNow(a) {
		t.Fatal("an empty stream has no room")
	}
	// One message may take a stream past its bound; then it waits.
	a.charge(150)
	if roomNow(a) {
		t.Fatal("a stream over its bound may still receive")
	}
	if !roomNow(b) {
		t.Fatal("another stream is held by the first one's bound")
	}
	b.charge(99)
	if !roomNow(b) || w.Held() != 249 {
		t.Fatalf("room %v, held %d; want room under both bounds and 249 held", roomNow(b), w.Held())
	}
	b.charge(1)
	if roomNow(c) {
		t.Fatal("a stream may receive with the node at its total")
	}
	// A waiting stream wakes when another frees bytes.
	done := make(chan error, 1)
	go func() { done <- c.waitRoom(context.Background()) }()
	a.release(150)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b.close()
	a.close()
	if w.Held() != 0 {
		t.Fatalf("held %d after every stream closed", w.Held())
	}
	a.release(10) // over-release is clamped
	if w.Held() != 0 {
		t.Fatalf("held %d after an over-release", w.Held())
	}
	// The receiver of a stream whose handler has returned may still get a request.
	a.charge(50)
	if w.Held() != 0 {
		t.Fatalf("held %d after a charge to a closed stream", w.Held())
	}
}
