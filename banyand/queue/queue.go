// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package queue moves messages between the public API and the storage side. The local queue
// calls the subscribed listener in-process; the cluster issue adds a gRPC client and server.
package queue

import (
	"context"
	"sync"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/pkg/bus"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// ErrNoListener is returned when a message is published on a topic nobody subscribed to.
var ErrNoListener = errors.New("queue: no listener for topic")

// Server receives messages and hands them to the listener of their topic.
type Server interface {
	run.Unit
	// Subscribe makes l the listener of topic; a second subscription to a topic is an error.
	Subscribe(topic bus.Topic, l bus.Listener) error
}

// Client sends messages to a node and returns its reply.
type Client interface {
	run.Unit
	// Publish sends payload on topic to node and waits for the listener's reply.
	Publish(ctx context.Context, topic bus.Topic, node string, payload any) (any, error)
}

// Queue is both ends in one process.
type Queue interface {
	Server
	Client
}

type local struct {
	listeners map[bus.Topic]bus.Listener
	mu        sync.RWMutex
}

// NewLocal returns an in-process queue: Publish calls the topic's listener directly.
func NewLocal() Queue {
	return &local{listeners: make(map[bus.Topic]bus.Listener)}
}

func (q *local) Name() string { return "local-pipeline" }

func (q *local) Subscribe(topic bus.Topic, l bus.Listener) error {
	if l == nil {
		return errors.Errorf("queue: nil listener for topic %s", topic)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.listeners[topic]; ok {
		return errors.Errorf("queue: topic %s already has a listener", topic)
	}
	q.listeners[topic] = l
	return nil
}

func (q *local) Publish(ctx context.Context, topic bus.Topic, _ string, payload any) (any, error) {
	q.mu.RLock()
	l, ok := q.listeners[topic]
	q.mu.RUnlock()
	if !ok {
		return nil, errors.Wrapf(ErrNoListener, "topic %s", topic)
	}
	return l.Handle(ctx, payload)
}
