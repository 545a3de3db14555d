// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package http

import (
	"context"
	"encoding/json"
	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/liaison/grpc"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// apiPrefix is where the gateway is mounted; the annotations' paths are relative to it.
const apiPrefix = "/api"

// maxBodyBytes bounds a request body; schema resources and queries are small.
const maxBodyBytes = 4 << 20

// gatewayConfig is what the server's handler is built from.
type gatewayConfig struct {
	registries *grpc.RegistryServers
	trace      tracev1.TraceServiceServer
	bydbql     bydbqlv1.BydbQLServiceServer
	snapshot   Snapshotter
	healthy    func() bool
}

// newHandler routes /api: /api/healthz, the snapshot endpoint when there is a Snapshotter, and
// every annotated RPC through the generated gateway handlers, which call the service
// implementations in-process. Bodies are bounded and a panicking handler answers 500.
func newHandler(ctx context.Context, cfg gatewayConfig, log *logger.Logger) (http.Handler, error) {
	gw := runtime.NewServeMux()
	reg := cfg.registries
	for _, r := range []struct {
		what     string
		register func() error
	}{
		{"group registry", func() error { return databasev1.RegisterGroupRegistryServiceHandlerServer(ctx, gw, reg.Group) }},
		{"trace registry", func() error { return databasev1.RegisterTraceRegistryServiceHandlerServer(ctx, gw, reg.Trace) }},
		{"index rule registry", func() error { return databasev1.RegisterIndexRuleRegistryServiceHandlerServer(ctx, gw, reg.IndexRule) }},
		{"index rule binding registry", func() error {
			return databasev1.RegisterIndexRuleBindingRegistryServiceHandlerServer(ctx, gw, reg.IndexRuleBinding)
		}},
		{"common service", func() error { return commonv1.RegisterServiceHandlerServer(ctx, gw, reg.Common) }},
	} {
		if err := r.register(); err != nil {
			return nil, errors.Wrapf(err, "register the %s handlers", r.what)
		}
	}
	if cfg.trace != nil {
		if err := tracev1.RegisterTraceServiceHandlerServer(ctx, gw, cfg.trace); err != nil {
			return nil, errors.Wrap(err, "register the trace service handlers")
		}
	}
	if cfg.bydbql != nil {
		if err := bydbqlv1.RegisterBydbQLServiceHandlerServer(ctx, gw, cfg.bydbql); err != nil {
			return nil, errors.Wrap(err, "register the BydbQL service handlers")
		}
	}

	if err := gw.HandlePath(http.MethodGet, "/healthz", healthz(gw, cfg.healthy)); err != nil {
		return nil, errors.Wrap(err, "register /healthz")
	}

	mux := http.NewServeMux()
	if cfg.snapshot != nil {
		mux.Handle("POST "+apiPrefix+"/v1/trace/snapshot", snapshotHandler(cfg.snapshot, log))
	}
	mux.Handle(apiPrefix+"/", http.StripPrefix(apiPrefix, gw))
	return recoverPanics(log, logRequests(log, limitBodies(mux))), nil
}

// healthz answers as the gateway's own health endpoint (runtime.WithHealthzEndpoint) does over
// the gRPC health service: the HealthCheckResponse {"status":"SERVING"} while healthy reports
// serving, else Unavailable (HTTP 503) with the response's text, "status:NOT_SERVING".
func healthz(gw *runtime.ServeMux, healthy func() bool) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		_, out := runtime.MarshalerForRequest(gw, r)
		if healthy == nil || !healthy() {
			// The gateway writes the response's text form, whose spacing protobuf varies on purpose.
			runtime.HTTPError(r.Context(), gw, out, w, r, status.Error(codes.Unavailable, "status:NOT_SERVING"))
			return
		}
		w.Header().Set("Content-Type", out.ContentType(nil))
		_ = out.NewEncoder(w).Encode(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING})
	}
}

// snapshotHandler takes a snapshot of the trace data while writes go on and answers
// {"dir": "<snapshot directory>"}. No RPC carries it, so it has no generated handler.
func snapshotHandler(s Snapshotter, log *logger.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dir, err := s.Snapshot(r.Context())
		if err != nil {
			log.Error().Err(err).Msg("snapshot failed")
			writeStatus(w, status.New(codes.Internal, err.Error()))
			return
		}
		data, err := json.Marshal(map[string]string{"dir": dir})
		if err != nil {
			writeStatus(w, status.Newf(codes.Internal, "encode the snapshot answer: %v", err))
			return
		}
		writeJSON(w, http.StatusOK, data)
	})
}

// limitBodies makes reading more than maxBodyBytes of a body fail, which the gateway answers with
// InvalidArgument (HTTP 400).
func limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs every request at debug level: method, path, HTTP status and duration.
func logRequests(log *logger.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.code).
			Dur("took", time.Since(start)).Msg("http")
	})
}

// recoverPanics answers 500 for a handler that panics and logs the panic with its stack.
func recoverPanics(log *logger.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { //nolint:errorlint // the sentinel is re-panicked as is
					panic(p)
				}
				log.Error().Str("path", r.URL.Path).Interface("panic", p).Str("stack", string(debug.Stack())).Msg("handler panicked")
				writeStatus(w, status.Newf(codes.Internal, "%s %s: internal error, see the server log", r.Method, r.URL.Path))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// writeStatus writes st as the gateway writes errors: a google.rpc.Status in JSON with the HTTP
// status grpc-gateway maps its code to.
func writeStatus(w http.ResponseWriter, st *status.Status) {
	data, err := protojson.Marshal(st.Proto())
	if err != nil {
		data = []byte(`{"code":13,"message":"encode error"}`)
	}
	writeJSON(w, runtime.HTTPStatusFromCode(st.Code()), data)
}

func writeJSON(w http.ResponseWriter, code int, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}
