// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package queue is the typed data plane between the public front door (banyand/liaison/grpc) and
// the data side (banyand/trace): the Span a front door validated and routed, the DataPlane it
// calls, and the Handler a data node serves. In standalone the data plane is a direct call into
// the local Handler (NewLocal); in a cluster it is the gRPC client of the data nodes' internal
// endpoint (NewGRPCClient, NewGRPCServer), with chunking and retries.
package queue

import (
	"context"
	"time"

	"github.com/pkg/errors"

	clusterv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/cluster/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// ErrNoHandler is returned when the data plane is called before its data side is set.
var ErrNoHandler = errors.New("queue: no data-side handler")

// Span is one write request the front door validated against its trace schema and routed to a
// shard. A span whose TraceID is empty was not parsed (it came over the network from a liaison
// whose schema revision this node does not have, or from a test): the data side validates it itself.
type Span struct {
	// Timestamp is the value of the span's timestamp tag.
	Timestamp time.Time
	// Request is the client's write request, tags in schema order.
	Request *tracev1.WriteRequest
	// TraceID is the value of the trace-id tag; empty when the span was not parsed.
	TraceID string
	// SpanID is the value of the span-id tag.
	SpanID string
	// Revision is the mod_revision of the trace schema the span was validated against.
	Revision int64
	// Shard is hash(trace id) % shard_num of the span's group.
	Shard uint32
}

// DataPlane is how the front door reaches the data nodes. node names the node the front door's
// placement picked (in standalone, the only one).
type DataPlane interface {
	// Write stores a batch of routed spans on node and returns a status per span.
	Write(ctx context.Context, node string, batch []Span) ([]modelv1.Status, error)
	// Query runs a normalized query (time range set, offset 0, limit = offset+limit) on node's
	// data and returns its ranked partial result.
	Query(ctx context.Context, node string, req *tracev1.QueryRequest) (*tracev1.InternalQueryResponse, error)
	// InspectGroup answers node's segments of a group, with their shards' span counts and bytes.
	InspectGroup(ctx context.Context, node, group string) (*clusterv1.TraceGroupInspectResponse, error)
	// DropGroupData deletes every segment of a group on node, keeping the group, and answers the
	// bytes they took.
	DropGroupData(ctx context.Context, node, group string) (int64, error)
	// DeleteSegments deletes the listed expired segments of a group on node and answers how many
	// went.
	DeleteSegments(ctx context.Context, node, group string, suffixes []string) (int64, error)
}

// Handler is the data side of one node: what the data plane calls on it.
type Handler interface {
	// WriteSpans stores a batch and returns a status per span, once the batch is durable.
	WriteSpans(ctx context.Context, batch []Span) ([]modelv1.Status, error)
	// QueryTraces runs a normalized query on this node's data.
	QueryTraces(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.InternalQueryResponse, error)
	// InspectGroup answers this node's segments of a group.
	InspectGroup(ctx context.Context, group string) (*clusterv1.TraceGroupInspectResponse, error)
	// DropGroupData deletes every segment of a group on this node and answers the bytes they took.
	DropGroupData(ctx context.Context, group string) (int64, error)
	// DeleteSegments deletes the listed expired segments of a group on this node.
	DeleteSegments(ctx context.Context, group string, suffixes []string) (int64, error)
}

// Server is the end of the data plane on a node that stores data: it hands what arrives to the
// node's Handler.
type Server interface {
	// Handle makes h the handler of the node's data; a second handler is an error.
	Handle(h Handler) error
}

type local struct {
	h Handler
}

// NewLocal returns the data plane of a standalone process: every call goes straight to h,
// whatever node it names.
func NewLocal(h Handler) DataPlane {
	return local{h: h}
}

func (l local) Write(ctx context.Context, _ string, batch []Span) ([]modelv1.Status, error) {
	if l.h == nil {
		return nil, ErrNoHandler
	}
	return l.h.WriteSpans(ctx, batch)
}

func (l local) Query(ctx context.Context, _ string, req *tracev1.QueryRequest) (*tracev1.InternalQueryResponse, error) {
	if l.h == nil {
		return nil, ErrNoHandler
	}
	return l.h.QueryTraces(ctx, req)
}

func (l local) InspectGroup(ctx context.Context, _, group string) (*clusterv1.TraceGroupInspectResponse, error) {
	if l.h == nil {
		return nil, ErrNoHandler
	}
	return l.h.InspectGroup(ctx, group)
}

func (l local) DropGroupData(ctx context.Context, _, group string) (int64, error) {
	if l.h == nil {
		return 0, ErrNoHandler
	}
	return l.h.DropGroupData(ctx, group)
}

func (l local) DeleteSegments(ctx context.Context, _, group string, suffixes []string) (int64, error) {
	if l.h == nil {
		return 0, ErrNoHandler
	}
	return l.h.DeleteSegments(ctx, group, suffixes)
}
