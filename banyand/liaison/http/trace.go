// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package http

import (
	"context"
	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	"github.com/apache/skywalking-banyandb/banyand/liaison/grpc"

	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// Snapshotter takes a consistent copy of a node's trace data and returns its directory.
type Snapshotter interface {
	Snapshot(ctx context.Context) (string, error)
}

// Option adds endpoints to the HTTP server.
type Option func(cfg *gatewayConfig)

// WithTraceQuery serves the TraceService's annotated RPCs: POST /api/v1/trace/data with a
// QueryRequest body answers the QueryResponse.
func WithTraceQuery(svc tracev1.TraceServiceServer) Option {
	return func(cfg *gatewayConfig) { cfg.trace = svc }
}

// WithRegistries serves the given registry services instead of ones of the server's own, so that
// HTTP and gRPC share one data side and one memory of deletion tasks.
func WithRegistries(r *grpc.RegistryServers) Option {
	return func(cfg *gatewayConfig) {
		if r != nil {
			cfg.registries = r
		}
	}
}

// WithBydbQL serves BydbQLService/Query: POST /api/v1/bydbql/query with a {"query": ...} body
// answers the QueryResponse. A nil svc serves nothing.
func WithBydbQL(svc bydbqlv1.BydbQLServiceServer) Option {
	return func(cfg *gatewayConfig) { cfg.bydbql = svc }
}

// WithSnapshot serves POST /api/v1/trace/snapshot: it takes a snapshot of the trace data while
// writes go on and answers {"dir": "<snapshot directory>"}.
func WithSnapshot(s Snapshotter) Option {
	return func(cfg *gatewayConfig) { cfg.snapshot = s }
}
