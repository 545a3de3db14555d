// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package bus names the topics and the handler contract of the message pipelines between the
// public API and the storage side: an in-process queue in standalone, gRPC between nodes in a cluster.
package bus

import "context"

// Topic names a kind of message.
type Topic string

// The topics of the trace model.
const (
	// TopicTraceWrite carries batches of spans to the node that stores them.
	TopicTraceWrite Topic = "trace-write"
	// TopicTraceQuery carries a query to a node and its partial result back.
	TopicTraceQuery Topic = "trace-query"
	// TopicTraceInspectGroup asks a node what it holds of a group (payload: the group name).
	TopicTraceInspectGroup Topic = "trace-inspect-group"
	// TopicTraceDropGroupData makes a node delete every segment of a group (payload: the group name).
	TopicTraceDropGroupData Topic = "trace-drop-group-data"
	// TopicTraceDeleteSegments makes a node delete listed expired segments of a group.
	TopicTraceDeleteSegments Topic = "trace-delete-segments"
)

// Listener handles the messages of one topic and returns the reply.
type Listener interface {
	// Handle processes one message. The payload type is fixed per topic.
	Handle(ctx context.Context, payload any) (any, error)
}

// ListenerFunc adapts a function to a Listener.
type ListenerFunc func(ctx context.Context, payload any) (any, error)

// Handle calls f.
func (f ListenerFunc) Handle(ctx context.Context, payload any) (any, error) { return f(ctx, payload) }
