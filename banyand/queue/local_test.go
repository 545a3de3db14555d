// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/skywalking-banyandb/pkg/bus"
)

// recorder is a listener that remembers what it was handed.
type recorder struct {
	mu       sync.Mutex
	payloads []any
	ctxs     []context.Context
	reply    func(payload any) (any, error)
}

func (r *recorder) Handle(ctx context.Context, payload any) (any, error) {
	r.mu.Lock()
	r.payloads = append(r.payloads, payload)
	r.ctxs = append(r.ctxs, ctx)
	r.mu.Unlock()
	if r.reply != nil {
		return r.reply(payload)
	}
	return payload, nil
}

type ctxKey struct{}

func TestLocalQueueName(t *testing.T) {
	if got := NewLocal().Name(); got == "" {
		t.Fatal("the local queue has no unit name")
	}
}

func TestLocalPublishCallsTheTopicsListener(t *testing.T) {
	q := NewLocal()
	write := &recorder{reply: func(p any) (any, error) { return fmt.Sprintf("stored %v", p), nil }}
	query := &recorder{reply: func(p any) (any, error) { return fmt.Sprintf("found %v", p), nil }}
	if err := q.Subscribe(bus.TopicTraceWrite, write); err != nil {
		t.Fatal(err)
	}
	if err := q.Subscribe(bus.TopicTraceQuery, query); err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "marker")
	tests := []struct {
		topic   bus.Topic
		node    string
		payload any
		want    any
	}{
		{topic: bus.TopicTraceWrite, node: "local", payload: "span-1", want: "stored span-1"},
		{topic: bus.TopicTraceQuery, node: "local", payload: 42, want: "found 42"},
		// The local queue has one node: whatever node is named, its own listener answers.
		{topic: bus.TopicTraceWrite, node: "some-other-node", payload: "span-2", want: "stored span-2"},
		{topic: bus.TopicTraceWrite, node: "", payload: nil, want: "stored <nil>"},
	}
	for _, tt := range tests {
		got, err := q.Publish(ctx, tt.topic, tt.node, tt.payload)
		if err != nil {
			t.Fatalf("Publish(%s, %v): %v", tt.topic, tt.payload, err)
		}
		if got != tt.want {
			t.Fatalf("Publish(%s, %v) = %v, want %v", tt.topic, tt.payload, got, tt.want)
		}
	}
	if len(write.payloads) != 3 || len(query.payloads) != 1 {
		t.Fatalf("write got %d messages and query %d, want 3 and 1", len(write.payloads), len(query.payloads))
	}
	// The payload is handed over as is (no copy), with the publisher's context.
	if write.payloads[0] != "span-1" || query.payloads[0] != 42 {
		t.Fatalf("payloads = %v / %v", write.payloads, query.payloads)
	}
	for _, c := range append(write.ctxs, query.ctxs...) {
		if c.Value(ctxKey{}) != "marker" {
			t.Fatal("the listener did not get the publisher's context")
		}
	}
}

func TestLocalPublishReturnsTheListenersError(t *testing.T) {
	q := NewLocal()
	boom := errors.New("boom")
	if err := q.Subscribe(bus.TopicTraceWrite, bus.ListenerFunc(func(context.Context, any) (any, error) {
		return "partial", boom
	})); err != nil {
		t.Fatal(err)
	}
	got, err := q.Publish(context.Background(), bus.TopicTraceWrite, "local", nil)
	if !errors.Is(err, boom) {
		t.Fatalf("Publish error = %v, want the listener's", err)
	}
	if got != "partial" {
		t.Fatalf("Publish reply = %v, want the listener's", got)
	}
}

func TestLocalPublishWithoutListener(t *testing.T) {
	q := NewLocal()
	for _, topic := range []bus.Topic{bus.TopicTraceWrite, bus.TopicTraceQuery, "unknown"} {
		got, err := q.Publish(context.Background(), topic, "local", "x")
		if !errors.Is(err, ErrNoListener) {
			t.Fatalf("Publish(%s) error = %v, want ErrNoListener", topic, err)
		}
		if !strings.Contains(err.Error(), string(topic)) {
			t.Fatalf("error %q does not name the topic %s", err, topic)
		}
		if got != nil {
			t.Fatalf("Publish(%s) replied %v with an error", topic, got)
		}
	}
	// A listener of another topic does not answer.
	if err := q.Subscribe(bus.TopicTraceQuery, &recorder{}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Publish(context.Background(), bus.TopicTraceWrite, "local", "x"); !errors.Is(err, ErrNoListener) {
		t.Fatalf("Publish on a topic without listener: %v, want ErrNoListener", err)
	}
}

func TestLocalSubscribeTwiceFails(t *testing.T) {
	q := NewLocal()
	first := &recorder{reply: func(any) (any, error) { return "first", nil }}
	second := &recorder{reply: func(any) (any, error) { return "second", nil }}
	if err := q.Subscribe(bus.TopicTraceWrite, first); err != nil {
		t.Fatal(err)
	}
	err := q.Subscribe(bus.TopicTraceWrite, second)
	if err == nil {
		t.Fatal("a second listener for a topic was accepted")
	}
	if !strings.Contains(err.Error(), string(bus.TopicTraceWrite)) {
		t.Fatalf("error %q does not name the topic", err)
	}
	// The first listener keeps the topic.
	got, err := q.Publish(context.Background(), bus.TopicTraceWrite, "local", nil)
	if err != nil || got != "first" {
		t.Fatalf("Publish after a refused subscription = %v, %v; want the first listener's reply", got, err)
	}
	if len(second.payloads) != 0 {
		t.Fatal("the refused listener got a message")
	}
	// Other topics are still free.
	if err := q.Subscribe(bus.TopicTraceQuery, second); err != nil {
		t.Fatalf("subscribing another topic: %v", err)
	}
}

func TestLocalQueuesAreIndependent(t *testing.T) {
	a, b := NewLocal(), NewLocal()
	if err := a.Subscribe(bus.TopicTraceWrite, &recorder{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe(bus.TopicTraceWrite, &recorder{}); err != nil {
		t.Fatalf("a second queue shares the first one's listeners: %v", err)
	}
	c := NewLocal()
	if _, err := c.Publish(context.Background(), bus.TopicTraceWrite, "local", nil); !errors.Is(err, ErrNoListener) {
		t.Fatalf("a fresh queue has a listener: %v", err)
	}
}

func TestLocalConcurrentPublishAndSubscribe(t *testing.T) {
	q := NewLocal()
	var handled atomic.Int64
	if err := q.Subscribe(bus.TopicTraceWrite, bus.ListenerFunc(func(_ context.Context, p any) (any, error) {
		handled.Add(1)
		return p, nil
	})); err != nil {
		t.Fatal(err)
	}
	const publishers, each = 8, 200
	var wg sync.WaitGroup
	for i := 0; i < publishers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				want := i*each + j
				got, err := q.Publish(context.Background(), bus.TopicTraceWrite, "local", want)
				if err != nil || got != want {
					t.Errorf("Publish(%d) = %v, %v", want, got, err)
					return
				}
			}
		}(i)
	}
	// Subscriptions of other topics race with the publishers.
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := q.Subscribe(bus.Topic(fmt.Sprintf("topic-%d", i)), &recorder{}); err != nil {
				t.Errorf("Subscribe: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if got := handled.Load(); got != publishers*each {
		t.Fatalf("the listener handled %d messages, want %d", got, publishers*each)
	}
}

var (
	_ Queue  = NewLocal()
	_ Server = NewLocal()
	_ Client = NewLocal()
)

func TestSubscribeRefusesANilListener(t *testing.T) {
	if err := NewLocal().Subscribe(bus.TopicTraceWrite, nil); err == nil {
		t.Fatal("the local queue took a nil listener")
	}
	if err := NewGRPCServer().Subscribe(bus.TopicTraceWrite, nil); err == nil {
		t.Fatal("the gRPC queue took a nil listener")
	}
}
