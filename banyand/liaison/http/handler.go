// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package http

import (
	"context"
	"io"
	"net/http"
	"runtime/debug"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/liaison/grpc"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// maxBodyBytes bounds a request body; schema resources are small.
const maxBodyBytes = 4 << 20

// Like grpc-gateway's default marshaler: camelCase names, zero values included on output,
// unknown fields ignored on input.
var (
	marshalOpts   = protojson.MarshalOptions{EmitUnpopulated: true}
	unmarshalOpts = protojson.UnmarshalOptions{DiscardUnknown: true}
)

// newHandler routes /api: the health check, the API version and the registry services.
func newHandler(reg *grpc.RegistryServers, healthy func() bool, log *logger.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if healthy != nil && healthy() {
			writeRaw(w, http.StatusOK, []byte(`{"status":"SERVING"}`))
			return
		}
		writeRaw(w, http.StatusServiceUnavailable, []byte(`{"status":"NOT_SERVING"}`))
	})
	mux.Handle("GET /api/v1/common/api/version", unary(log, noBody[*commonv1.GetAPIVersionRequest], reg.Common.GetAPIVersion))
	routeGroups(mux, log, reg.Group)
	routeTraces(mux, log, reg.Trace)
	routeIndexRules(mux, log, reg.IndexRule)
	routeIndexRuleBindings(mux, log, reg.IndexRuleBinding)
	return recoverPanics(log, mux)
}

func routeGroups(mux *http.ServeMux, log *logger.Logger, svc databasev1.GroupRegistryServiceServer) {
	const base = "/api/v1/group/schema"
	mux.Handle("POST "+base, unary(log, body[*databasev1.GroupRegistryServiceCreateRequest], svc.Create))
	mux.Handle("PUT "+base+"/{group}", unary(log, func(r *http.Request, req *databasev1.GroupRegistryServiceUpdateRequest) error {
		if err := body(r, req); err != nil {
			return err
		}
		if req.Group == nil {
			req.Group = &commonv1.Group{}
		}
		if req.Group.Metadata == nil {
			req.Group.Metadata = &commonv1.Metadata{}
		}
		req.Group.Metadata.Name = r.PathValue("group")
		return nil
	}, svc.Update))
	mux.Handle("DELETE "+base+"/{group}", unary(log, func(r *http.Request, req *databasev1.GroupRegistryServiceDeleteRequest) error {
		req.Group = r.PathValue("group")
		return nil
	}, svc.Delete))
	mux.Handle("GET "+base+"/{group}", unary(log, func(r *http.Request, req *databasev1.GroupRegistryServiceGetRequest) error {
		req.Group = r.PathValue("group")
		return nil
	}, svc.Get))
	mux.Handle("GET "+base+"/lists", unary(log, noBody[*databasev1.GroupRegistryServiceListRequest], svc.List))
}

func routeTraces(mux *http.ServeMux, log *logger.Logger, svc databasev1.TraceRegistryServiceServer) {
	const base = "/api/v1/trace/schema"
	mux.Handle("POST "+base, unary(log, body[*databasev1.TraceRegistryServiceCreateRequest], svc.Create))
	mux.Handle("PUT "+base+"/{group}/{name}", unary(log, func(r *http.Request, req *databasev1.TraceRegistryServiceUpdateRequest) error {
		if err := body(r, req); err != nil {
			return err
		}
		if req.Trace == nil {
			req.Trace = &databasev1.Trace{}
		}
		req.Trace.Metadata = pathMetadata(r, req.Trace.Metadata)
		return nil
	}, svc.Update))
	mux.Handle("DELETE "+base+"/{group}/{name}", unary(log, func(r *http.Request, req *databasev1.TraceRegistryServiceDeleteRequest) error {
		req.Metadata = pathMetadata(r, nil)
		return nil
	}, svc.Delete))
	mux.Handle("GET "+base+"/{group}/{name}", unary(log, func(r *http.Request, req *databasev1.TraceRegistryServiceGetRequest) error {
		req.Metadata = pathMetadata(r, nil)
		return nil
	}, svc.Get))
	mux.Handle("GET "+base+"/lists/{group}", unary(log, func(r *http.Request, req *databasev1.TraceRegistryServiceListRequest) error {
		req.Group = r.PathValue("group")
		return nil
	}, svc.List))
}

func routeIndexRules(mux *http.ServeMux, log *logger.Logger, svc databasev1.IndexRuleRegistryServiceServer) {
	const base = "/api/v1/index-rule/schema"
	mux.Handle("POST "+base, unary(log, body[*databasev1.IndexRuleRegistryServiceCreateRequest], svc.Create))
	mux.Handle("PUT "+base+"/{group}/{name}", unary(log, func(r *http.Request, req *databasev1.IndexRuleRegistryServiceUpdateRequest) error {
		if err := body(r, req); err != nil {
			return err
		}
		if req.IndexRule == nil {
			req.IndexRule = &databasev1.IndexRule{}
		}
		req.IndexRule.Metadata = pathMetadata(r, req.IndexRule.Metadata)
		return nil
	}, svc.Update))
	mux.Handle("DELETE "+base+"/{group}/{name}", unary(log, func(r *http.Request, req *databasev1.IndexRuleRegistryServiceDeleteRequest) error {
		req.Metadata = pathMetadata(r, nil)
		return nil
	}, svc.Delete))
	mux.Handle("GET "+base+"/{group}/{name}", unary(log, func(r *http.Request, req *databasev1.IndexRuleRegistryServiceGetRequest) error {
		req.Metadata = pathMetadata(r, nil)
		return nil
	}, svc.Get))
	mux.Handle("GET "+base+"/lists/{group}", unary(log, func(r *http.Request, req *databasev1.IndexRuleRegistryServiceListRequest) error {
		req.Group = r.PathValue("group")
		return nil
	}, svc.List))
}

func routeIndexRuleBindings(mux *http.ServeMux, log *logger.Logger, svc databasev1.IndexRuleBindingRegistryServiceServer) {
	const base = "/api/v1/index-rule-binding/schema"
	mux.Handle("POST "+base, unary(log, body[*databasev1.IndexRuleBindingRegistryServiceCreateRequest], svc.Create))
	mux.Handle("PUT "+base+"/{group}/{name}", unary(log, func(r *http.Request, req *databasev1.IndexRuleBindingRegistryServiceUpdateRequest) error {
		if err := body(r, req); err != nil {
			return err
		}
		if req.IndexRuleBinding == nil {
			req.IndexRuleBinding = &databasev1.IndexRuleBinding{}
		}
		req.IndexRuleBinding.Metadata = pathMetadata(r, req.IndexRuleBinding.Metadata)
		return nil
	}, svc.Update))
	mux.Handle("DELETE "+base+"/{group}/{name}", unary(log, func(r *http.Request, req *databasev1.IndexRuleBindingRegistryServiceDeleteRequest) error {
		req.Metadata = pathMetadata(r, nil)
		return nil
	}, svc.Delete))
	mux.Handle("GET "+base+"/{group}/{name}", unary(log, func(r *http.Request, req *databasev1.IndexRuleBindingRegistryServiceGetRequest) error {
		req.Metadata = pathMetadata(r, nil)
		return nil
	}, svc.Get))
	mux.Handle("GET "+base+"/lists/{group}", unary(log, func(r *http.Request, req *databasev1.IndexRuleBindingRegistryServiceListRequest) error {
		req.Group = r.PathValue("group")
		return nil
	}, svc.List))
}

// pathMetadata sets group and name from the path into md (a new one when nil), as the gateway
// lets path parameters override the body.
func pathMetadata(r *http.Request, md *commonv1.Metadata) *commonv1.Metadata {
	if md == nil {
		md = &commonv1.Metadata{}
	}
	md.Group = r.PathValue("group")
	md.Name = r.PathValue("name")
	return md
}

// message is a generated request message; its pointer type implements proto.Message.
type message[T any] interface {
	proto.Message
	*T
}

// unary serves one RPC: a fresh request is filled by fill from the HTTP request, passed to call,
// and the response or the error's status is written as JSON.
func unary[Req any, PReq message[Req], Resp proto.Message](
	log *logger.Logger, fill func(*http.Request, PReq) error, call func(context.Context, PReq) (Resp, error),
) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		req := PReq(new(Req))
		err := fill(r, req)
		var resp Resp
		if err == nil {
			resp, err = call(r.Context(), req)
		}
		log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Str("code", status.Code(err).String()).
			Dur("took", time.Since(start)).Msg("http")
		if err != nil {
			writeError(w, err)
			return
		}
		data, err := marshalOpts.Marshal(resp)
		if err != nil {
			writeError(w, status.Errorf(codes.Internal, "encode response: %v", err))
			return
		}
		writeRaw(w, http.StatusOK, data)
	})
}

// body decodes the JSON body into req; an empty body leaves req empty.
func body[PReq proto.Message](r *http.Request, req PReq) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "read body: %v", err)
	}
	if len(data) > maxBodyBytes {
		return status.Errorf(codes.InvalidArgument, "body is larger than %d bytes", maxBodyBytes)
	}
	if len(data) == 0 {
		return nil
	}
	if err = unmarshalOpts.Unmarshal(data, req); err != nil {
		return status.Errorf(codes.InvalidArgument, "decode body: %v", err)
	}
	return nil
}

func noBody[PReq proto.Message](*http.Request, PReq) error {
	return nil
}

// writeError writes the error's status as {"code", "message", "details"}, with the HTTP status
// grpc-gateway uses for the code.
func writeError(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	data, merr := marshalOpts.Marshal(st.Proto())
	if merr != nil {
		data = []byte(`{"code":13,"message":"encode error"}`)
	}
	writeRaw(w, httpStatus(st.Code()), data)
}

func writeRaw(w http.ResponseWriter, code int, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// httpStatus maps a gRPC code to the HTTP status grpc-gateway answers for it.
func httpStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499 // client closed request
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
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
				writeError(w, status.Errorf(codes.Internal, "%s %s: internal error, see the server log", r.Method, r.URL.Path))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
