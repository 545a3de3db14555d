// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"sync"

	"github.com/pkg/errors"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// Defaults of the write memory flags.
const (
	// DefaultWriteBufferPerStream is the default of --write-buffer-per-stream.
	DefaultWriteBufferPerStream = run.Bytes(8 << 20)
	// writeBufferShare is the part (1/writeBufferShare) of the memory protector's limit that the
	// write streams of a node may hold together when --write-buffer-total is 0.
	writeBufferShare = 16
	// minWriteBufferTotal is the least total a protector's share gives, so that a small limit
	// still lets a few streams read ahead.
	minWriteBufferTotal = 32 << 20
)

// WriteMemory is the unit that bounds the bytes the node's write streams hold: the requests each
// stream has received and not yet committed, per stream (--write-buffer-per-stream) and for all
// streams together (--write-buffer-total, by default a sixteenth of the memory protector's limit).
// A stream at either bound stops reading from gRPC until its commits free bytes: HTTP/2 flow
// control then slows its client instead of the server buffering.
type WriteMemory struct {
	pm protector.Memory
	l  *logger.Logger
	// gauge is the bytes held by all write streams; nil without a metrics registry.
	gauge prometheus.Gauge

	perStream run.Bytes
	total     run.Bytes

	mu sync.Mutex
	// limitPerStream and limitTotal are the bounds in force after PreRun.
	limitPerStream int64
	limitTotal     int64
	held           int64
	// freed is closed and replaced whenever bytes are released, waking every waiting stream.
	freed chan struct{}
}

// NewWriteMemory returns the write memory unit sized from pm's limit; omr may be nil.
func NewWriteMemory(pm protector.Memory, omr observability.MetricsRegistry) *WriteMemory {
	w := &WriteMemory{
		pm:        pm,
		l:         logger.GetLogger("liaison", "write-memory"),
		perStream: DefaultWriteBufferPerStream,
		freed:     make(chan struct{}),
	}
	if omr != nil {
		w.gauge = omr.With(observability.RootScope("liaison_write")).NewGauge("buffered_bytes").WithLabelValues()
	}
	return w
}

// Name names the unit.
func (w *WriteMemory) Name() string {
	return "write-memory"
}

// FlagSet binds --write-buffer-per-stream and --write-buffer-total.
func (w *WriteMemory) FlagSet() *run.FlagSet {
	fs := run.NewFlagSet("write-memory")
	fs.Var(&w.perStream, "write-buffer-per-stream",
		"the bytes of received, uncommitted requests one write stream may hold before it stops reading, e.g. 8mb")
	fs.Var(&w.total, "write-buffer-total",
		"the bytes all write streams may hold together; 0 is a sixteenth of the memory protector's limit (at least 32mb)")
	return fs
}

// Validate reports a non-positive per-stream bound or a negative total.
func (w *WriteMemory) Validate() error {
	var errs error
	if w.perStream <= 0 {
		errs = multierr.Append(errs, errors.Wrapf(ErrInvalidOption, "--write-buffer-per-stream %s must be above 0", w.perStream))
	}
	if w.total < 0 {
		errs = multierr.Append(errs, errors.Wrapf(ErrInvalidOption, "--write-buffer-total %s is negative", w.total))
	}
	return errs
}

// PreRun fixes the bounds; it runs after the memory protector's PreRun, which sets its limit.
func (w *WriteMemory) PreRun(context.Context) error {
	total := int64(w.total)
	if total == 0 {
		total = int64(w.pm.GetLimit() / writeBufferShare)
		if total < minWriteBufferTotal {
			total = minWriteBufferTotal
		}
	}
	w.mu.Lock()
	w.limitPerStream, w.limitTotal = int64(w.perStream), total
	w.mu.Unlock()
	w.l.Info().Int64("per_stream", int64(w.perStream)).Int64("total", total).Msg("write stream memory bounded")
	return nil
}

// openStream returns the budget of one new stream.
func (w *WriteMemory) openStream() *streamMemory {
	return &streamMemory{w: w}
}

// Held returns the bytes all write streams hold now.
func (w *WriteMemory) Held() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.held
}

// streamMemory is one stream's share of the write memory: the bytes of its received requests
// that are not yet committed.
type streamMemory struct {
	w    *WriteMemory
	held int64
	// closed is set by close: a request the stream's receiver still gets after its handler
	// returned is charged nothing, since nobody would release it.
	closed bool
}

// waitRoom blocks until the stream and the node are both below their bounds, or ctx ends. One
// message may then be received, so a stream holds at most its bound plus one request.
func (s *streamMemory) waitRoom(ctx context.Context) error {
	w := s.w
	for {
		w.mu.Lock()
		if s.held < w.limitPerStream && w.held < w.limitTotal {
			w.mu.Unlock()
			return nil
		}
		freed := w.freed
		w.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return errors.Wrap(ctx.Err(), "wait for write stream memory")
		}
	}
}

// charge counts n received bytes against the stream and the node.
func (s *streamMemory) charge(n int64) {
	w := s.w
	w.mu.Lock()
	if s.closed {
		w.mu.Unlock()
		return
	}
	s.held += n
	w.held += n
	held := w.held
	w.mu.Unlock()
	w.report(held)
}

// release returns n bytes charged earlier and wakes the waiting streams.
func (s *streamMemory) release(n int64) {
	if n <= 0 {
		return
	}
	w := s.w
	w.mu.Lock()
	if n > s.held {
		n = s.held
	}
	s.held -= n
	w.held -= n
	held := w.held
	close(w.freed)
	w.freed = make(chan struct{})
	w.mu.Unlock()
	w.report(held)
}

// close returns everything the stream still holds; later charges are ignored.
func (s *streamMemory) close() {
	s.w.mu.Lock()
	s.closed = true
	n := s.held
	s.w.mu.Unlock()
	s.release(n)
}

func (w *WriteMemory) report(held int64) {
	if w.gauge != nil {
		w.gauge.Set(float64(held))
	}
}
