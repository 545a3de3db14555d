// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// writeStats is the outcome of the write phase.
type writeStats struct {
	sent       atomic.Int64
	acked      atomic.Int64
	ackedBytes atomic.Int64
	refused    atomic.Int64 // answered with a status other than STATUS_SUCCEED
	unexpected atomic.Int64 // responses with an unknown or repeated version

	mu         sync.Mutex
	batchLat   []time.Duration
	streamErrs []string
	statuses   map[string]int64
	elapsed    time.Duration
}

func (s *writeStats) addLatency(d time.Duration) {
	s.mu.Lock()
	s.batchLat = append(s.batchLat, d)
	s.mu.Unlock()
}

func (s *writeStats) addStatus(st string) {
	s.mu.Lock()
	s.statuses[st]++
	s.mu.Unlock()
}

func (s *writeStats) addStreamErr(stream int, err error) {
	s.mu.Lock()
	s.streamErrs = append(s.streamErrs, fmt.Sprintf("stream %d: %v", stream, err))
	s.mu.Unlock()
}

// writer writes the workload over concurrent bidirectional streams.
type writer struct {
	client     tracev1.TraceServiceClient
	acks       *ackSet
	stats      *writeStats
	ackTimeout time.Duration
	log        *mismatchLog
}

// pendingBatch is a batch sent on a stream whose responses are awaited.
type pendingBatch struct {
	reqs []request
	base uint64 // versions base+1 .. base+len(reqs)
	done chan struct{}
	err  error // set before done is closed if the stream broke
}

// runWrites sends reqs in batches of batchSize over the given number of streams. Each stream sends
// a whole batch while its receiver collects the responses, and sends the next batch once every
// request of the current one is answered.
func runWrites(ctx context.Context, client tracev1.TraceServiceClient, reqs []request, acks *ackSet, streams, batchSize int, log *mismatchLog) *writeStats {
	stats := &writeStats{statuses: map[string]int64{}}
	w := &writer{client: client, acks: acks, stats: stats, ackTimeout: 2 * time.Minute, log: log}
	batches := make(chan []request, (len(reqs)+batchSize-1)/batchSize)
	for i := 0; i < len(reqs); i += batchSize {
		batches <- reqs[i:min(i+batchSize, len(reqs))]
	}
	close(batches)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < streams; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			if err := w.stream(ctx, id, batches); err != nil {
				stats.addStreamErr(id, err)
			}
		}(i)
	}
	wg.Wait()
	stats.elapsed = time.Since(start)
	return stats
}

// stream runs one write stream until the batches run out or the stream breaks.
func (w *writer) stream(ctx context.Context, id int, batches <-chan []request) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := w.client.Write(ctx)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	pending := make(chan *pendingBatch)
	pendingClosed := false
	defer func() {
		// On an early return the receiver is let go; the cancelled context ends its Recv.
		if !pendingClosed {
			close(pending)
		}
	}()
	recvDone := make(chan error, 1)
	go func() { recvDone <- w.receive(stream, pending) }()

	var version uint64
	for b := range batches {
		pb := &pendingBatch{reqs: b, base: version, done: make(chan struct{})}
		select {
		case pending <- pb:
		case err := <-recvDone:
			return fmt.Errorf("receiver ended early: %w", err)
		}
		start := time.Now()
		var sendErr error
		for i := range b {
			version++
			b[i].req.Version = version
			if err := stream.Send(b[i].req); err != nil {
				sendErr = err
				break
			}
			w.stats.sent.Add(1)
		}
		timer := time.NewTimer(w.ackTimeout)
		select {
		case <-pb.done:
			timer.Stop()
		case <-timer.C:
			return fmt.Errorf("batch of versions %d..%d: no complete acknowledgement after %v", pb.base+1, pb.base+uint64(len(b)), w.ackTimeout)
		}
		if pb.err != nil {
			return fmt.Errorf("batch of versions %d..%d: %w", pb.base+1, pb.base+uint64(len(b)), pb.err)
		}
		if sendErr != nil {
			return fmt.Errorf("send: %w", sendErr)
		}
		w.stats.addLatency(time.Since(start))
	}
	close(pending)
	pendingClosed = true
	if err := stream.CloseSend(); err != nil {
		return fmt.Errorf("close send: %w", err)
	}
	select {
	case err := <-recvDone:
		return err
	case <-time.After(w.ackTimeout):
		return errors.New("the server did not end the stream after the client closed it")
	}
}

// receive collects the responses of each pending batch, then drains the stream to its end.
func (w *writer) receive(stream tracev1.TraceService_WriteClient, pending <-chan *pendingBatch) error {
	succeed := modelv1.Status_STATUS_SUCCEED.String()
	for pb := range pending {
		seen := make([]bool, len(pb.reqs))
		for got := 0; got < len(pb.reqs); {
			resp, err := stream.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = fmt.Errorf("the server ended the stream with %d of %d responses of a batch missing", len(pb.reqs)-got, len(pb.reqs))
				}
				pb.err = err
				close(pb.done)
				return err
			}
			v := resp.GetVersion()
			if v <= pb.base || v > pb.base+uint64(len(pb.reqs)) || seen[v-pb.base-1] {
				w.stats.unexpected.Add(1)
				w.log.note("write", fmt.Sprintf("unexpected response version %d (batch %d..%d) status %s", v, pb.base+1, pb.base+uint64(len(pb.reqs)), resp.GetStatus()))
				continue
			}
			seen[v-pb.base-1] = true
			got++
			r := &pb.reqs[v-pb.base-1]
			w.stats.addStatus(resp.GetStatus())
			if resp.GetStatus() == succeed {
				w.acks.set(r.trace, r.span)
				w.stats.acked.Add(1)
				w.stats.ackedBytes.Add(r.bytes)
				continue
			}
			w.stats.refused.Add(1)
			w.log.note("write", fmt.Sprintf("span %s of trace %s (version %d) answered %q", spanIDOf(r), traceIDOf(r), v, resp.GetStatus()))
		}
		close(pb.done)
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("end of stream: %w", err)
		}
		w.stats.unexpected.Add(1)
		w.log.note("write", fmt.Sprintf("response after the last batch: version %d status %s", resp.GetVersion(), resp.GetStatus()))
	}
}

func traceIDOf(r *request) string { return r.req.GetTags()[0].GetStr().GetValue() }
func spanIDOf(r *request) string  { return r.req.GetTags()[6].GetStr().GetValue() }
