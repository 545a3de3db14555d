// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package http

import (
	"context"
	"encoding/json"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// Snapshotter takes a consistent copy of a node's trace data and returns its directory.
type Snapshotter interface {
	Snapshot(ctx context.Context) (string, error)
}

// Option adds endpoints to the HTTP server.
type Option func(mux *http.ServeMux, log *logger.Logger)

// WithTraceQuery serves upstream's trace query mapping: POST /api/v1/trace/data with a
// QueryRequest body answers the QueryResponse.
func WithTraceQuery(svc tracev1.TraceServiceServer) Option {
	return func(mux *http.ServeMux, log *logger.Logger) {
		mux.Handle("POST /api/v1/trace/data", unary(log, body[*tracev1.QueryRequest], svc.Query))
	}
}

// WithSnapshot serves POST /api/v1/trace/snapshot: it takes a snapshot of the trace data while
// writes go on and answers {"dir": "<snapshot directory>"}.
func WithSnapshot(s Snapshotter) Option {
	return func(mux *http.ServeMux, log *logger.Logger) {
		mux.HandleFunc("POST /api/v1/trace/snapshot", func(w http.ResponseWriter, r *http.Request) {
			dir, err := s.Snapshot(r.Context())
			if err != nil {
				log.Error().Err(err).Msg("snapshot failed")
				writeError(w, status.Error(codes.Internal, err.Error()))
				return
			}
			data, _ := json.Marshal(map[string]string{"dir": dir})
			writeRaw(w, http.StatusOK, data)
		})
	}
}
