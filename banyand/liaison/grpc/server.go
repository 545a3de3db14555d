// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package grpc is the public gRPC front door of a liaison or standalone node: the schema registry
// services (groups, traces, index rules, bindings) with validation beyond upstream's, the common
// API version service, the TraceService (trace_write.go, trace_query.go: each request validated
// once against the trace schemas, its shard computed once and placed on a node by route.go, then
// handed to the typed data plane of banyand/queue), BydbQL over the TraceService's query
// (bydbql.go), gRPC health and server reflection.
//
// Usage sketch:
//
//	traceService, _ := grpc.NewTraceService(traceSchemas, dataPlane, nodeSelector)
//	srv := grpc.NewServer(metadataRepo, traceService)
//	group.Register(srv) // flags --grpc-host, --grpc-port, --max-recv-msg-size, --tls, ...
//	// after PreRun: srv.Addr() is the bound address; after Serve: health is SERVING.
package grpc

import (
	"context"
	"math"
	"net"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/pkg/errors"
	"go.uber.org/multierr"
	grpclib "google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/liaison/auth"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/netserver"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// Defaults of the server's flags.
const (
	// DefaultPort is the default of --grpc-port, upstream BanyanDB's gRPC port.
	DefaultPort uint32 = 17912
	// DefaultMaxRecvMsgSize is the default of --max-recv-msg-size.
	DefaultMaxRecvMsgSize = run.Bytes(10 << 20)
)

// gracefulStopTimeout bounds how long GracefulStop waits for in-flight RPCs (open write streams
// included) before it closes every connection.
const gracefulStopTimeout = 10 * time.Second

// ErrInvalidOption is wrapped by Validate for a bad flag value.
var ErrInvalidOption = errors.New("liaison grpc: invalid option")

// Server is the gRPC server unit; its Name is "grpc".
type Server interface {
	run.Config
	run.PreRunner
	run.Service
	// Addr returns the address the server listens on ("127.0.0.1:17912"), or "" before PreRun.
	// With --grpc-port=0 it is the port the system picked.
	Addr() string
	// Serving reports whether the server's health is SERVING: true between Serve and GracefulStop.
	Serving() bool
	// Registries returns the registry services the server registers, for the HTTP gateway to
	// serve the same ones (one deletion-task memory, one data side).
	Registries() *RegistryServers
	// BydbQL returns the BydbQLService the server registers, for the HTTP gateway to serve the
	// same one; nil when the server has no trace service.
	BydbQL() bydbqlv1.BydbQLServiceServer
}

// options are the values of the server's flags.
type options struct {
	host           string
	port           uint32
	maxRecvMsgSize run.Bytes
	tls            bool
	certFile       string
	keyFile        string
}

type server struct {
	registries *RegistryServers
	trace      tracev1.TraceServiceServer
	// bydbql is BydbQLService over trace; nil when trace is nil.
	bydbql bydbqlv1.BydbQLServiceServer
	log    *logger.Logger
	opts   options
	health *health.Server
	// authn checks the credentials of every call but health; nil lets every call in.
	authn *auth.Service
	// groupData is the data side of the group registry; nil when the node sees no data.
	groupData GroupData
	lis       *netserver.Listener
}

var _ Server = (*server)(nil)

// ServerOption adds an optional dependency to the gRPC server unit.
type ServerOption func(*server)

// WithAuth makes the server require the credentials of authn's users on every call but health.
func WithAuth(authn *auth.Service) ServerOption {
	return func(s *server) { s.authn = authn }
}

// WithGroupData gives the group registry its data side: Inspect's data, Delete's force check and
// data_only. Without it the registry sees no data.
func WithGroupData(d GroupData) ServerOption {
	return func(s *server) { s.groupData = d }
}

// FrontDoor is the TraceService a server registers (TraceService in production): the RPCs, and the
// schemas BydbQL binds its statements against.
type FrontDoor interface {
	tracev1.TraceServiceServer
	TraceQuerier
}

// NewServer returns the gRPC server unit over the metadata registries and the trace service;
// trace may be nil, then TraceService is not registered. Nothing is opened until PreRun.
func NewServer(repo metadata.Repo, trace FrontDoor, opts ...ServerOption) Server {
	log := logger.GetLogger("liaison", "grpc")
	s := &server{
		trace:  trace,
		log:    log,
		opts:   options{port: DefaultPort, maxRecvMsgSize: DefaultMaxRecvMsgSize},
		health: health.NewServer(),
		lis:    netserver.New(log, gracefulStopTimeout),
	}
	for _, o := range opts {
		o(s)
	}
	s.registries = NewRegistryServers(repo, s.groupData)
	if trace != nil {
		s.bydbql = NewBydbQLServer(trace, repo, nil)
	}
	return s
}

func (s *server) Name() string {
	return "grpc"
}

// FlagSet binds the server's flags.
func (s *server) FlagSet() *run.FlagSet {
	fs := run.NewFlagSet("grpc")
	fs.StringVar(&s.opts.host, "grpc-host", s.opts.host, "the host the gRPC server listens on; empty means every interface")
	fs.Uint32Var(&s.opts.port, "grpc-port", s.opts.port, "the port of the gRPC server; 0 picks a free port")
	fs.Var(&s.opts.maxRecvMsgSize, "max-recv-msg-size", "the largest message the gRPC server accepts, e.g. 10mb; a write request up to twice as large is refused alone, a larger one ends its stream")
	fs.BoolVar(&s.opts.tls, "tls", s.opts.tls, "serve gRPC over TLS with --cert-file and --key-file")
	fs.StringVar(&s.opts.certFile, "cert-file", s.opts.certFile, "the TLS certificate file (PEM) of the gRPC server")
	fs.StringVar(&s.opts.keyFile, "key-file", s.opts.keyFile, "the TLS private key file (PEM) of the gRPC server")
	return fs
}

// Validate reports every invalid flag value, naming the flag.
func (s *server) Validate() error {
	var errs error
	if s.opts.port > math.MaxUint16 {
		errs = multierr.Append(errs, errors.Wrapf(ErrInvalidOption, "--grpc-port %d is above 65535", s.opts.port))
	}
	if s.opts.maxRecvMsgSize <= 0 || s.opts.maxRecvMsgSize > math.MaxInt32 {
		errs = multierr.Append(errs, errors.Wrapf(ErrInvalidOption,
			"--max-recv-msg-size %s must be above 0 and below 2gb", s.opts.maxRecvMsgSize))
	}
	if s.opts.tls {
		if s.opts.certFile == "" {
			errs = multierr.Append(errs, errors.Wrap(ErrInvalidOption, "--tls requires --cert-file"))
		}
		if s.opts.keyFile == "" {
			errs = multierr.Append(errs, errors.Wrap(ErrInvalidOption, "--tls requires --key-file"))
		}
	} else if s.opts.certFile != "" || s.opts.keyFile != "" {
		errs = multierr.Append(errs, errors.Wrap(ErrInvalidOption, "--cert-file and --key-file need --tls"))
	}
	return errs
}

// PreRun loads the TLS credentials, builds the server and binds the listener, so that a bad
// certificate or a port in use fails the start instead of a later Serve.
func (s *server) PreRun(context.Context) error {
	if s.lis.Addr() != "" {
		return errors.New("liaison grpc: PreRun called twice")
	}
	limit := int(s.opts.maxRecvMsgSize)
	opts := []grpclib.ServerOption{
		// gRPC ends a stream on a message above its own limit or one its codec cannot decode. So
		// gRPC's limit is twice ours, and the codec decodes Write requests itself: an undecodable
		// Write request, or one up to twice the limit, is refused alone and the stream goes on;
		// every other message is held to the limit by the size interceptors, as gRPC would.
		grpclib.ForceServerCodecV2(newServerCodec(limit)),
		grpclib.MaxRecvMsgSize(transportRecvLimit(limit)),
		grpclib.ChainUnaryInterceptor(s.logUnary, s.recoverUnary, limitUnary(limit)),
		grpclib.ChainStreamInterceptor(s.logStream, s.recoverStream, limitStream(limit)),
		// After logging and recovery, so that refused calls are logged too.
		grpclib.ChainUnaryInterceptor(s.authn.UnaryInterceptor()), grpclib.ChainStreamInterceptor(s.authn.StreamInterceptor()),
		// Clients of long write streams ping to keep idle connections through proxies.
		grpclib.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	}
	if s.opts.tls {
		creds, err := credentials.NewServerTLSFromFile(s.opts.certFile, s.opts.keyFile)
		if err != nil {
			return errors.Wrapf(err, "load TLS key pair %s, %s", s.opts.certFile, s.opts.keyFile)
		}
		opts = append(opts, grpclib.Creds(creds))
	}
	srv := grpclib.NewServer(opts...)
	databasev1.RegisterGroupRegistryServiceServer(srv, s.registries.Group)
	databasev1.RegisterTraceRegistryServiceServer(srv, s.registries.Trace)
	databasev1.RegisterIndexRuleRegistryServiceServer(srv, s.registries.IndexRule)
	databasev1.RegisterIndexRuleBindingRegistryServiceServer(srv, s.registries.IndexRuleBinding)
	commonv1.RegisterServiceServer(srv, s.registries.Common)
	if s.trace != nil {
		tracev1.RegisterTraceServiceServer(srv, s.trace)
		bydbqlv1.RegisterBydbQLServiceServer(srv, s.bydbql)
	}
	healthpb.RegisterHealthServer(srv, s.health)
	reflection.Register(srv)
	s.setHealth(healthpb.HealthCheckResponse_NOT_SERVING)

	addr := net.JoinHostPort(s.opts.host, strconv.FormatUint(uint64(s.opts.port), 10))
	if err := s.lis.Bind(addr, netserver.GRPC(srv)); err != nil {
		return err
	}
	s.log.Info().Str("addr", s.lis.Addr()).Bool("tls", s.opts.tls).Msg("gRPC server bound")
	return nil
}

// setHealth sets the status of the whole server and of every registered service.
func (s *server) setHealth(st healthpb.HealthCheckResponse_ServingStatus) {
	s.health.SetServingStatus("", st)
	for _, name := range s.serviceNames() {
		s.health.SetServingStatus(name, st)
	}
}

func (s *server) serviceNames() []string {
	names := []string{
		databasev1.GroupRegistryService_ServiceDesc.ServiceName,
		databasev1.TraceRegistryService_ServiceDesc.ServiceName,
		databasev1.IndexRuleRegistryService_ServiceDesc.ServiceName,
		databasev1.IndexRuleBindingRegistryService_ServiceDesc.ServiceName,
		commonv1.Service_ServiceDesc.ServiceName,
	}
	if s.trace != nil {
		names = append(names, tracev1.TraceService_ServiceDesc.ServiceName, bydbqlv1.BydbQLService_ServiceDesc.ServiceName)
	}
	return names
}

// Serve starts accepting connections and turns health to SERVING. The returned channel closes
// when the server stops, after GracefulStop or on a fatal accept error.
func (s *server) Serve() run.StopNotify {
	stopped := s.lis.Serve()
	if s.lis.Addr() == "" {
		s.log.Error().Msg("Serve called without a successful PreRun")
		return stopped
	}
	select {
	case <-stopped:
	default:
		s.setHealth(healthpb.HealthCheckResponse_SERVING)
		// However the server stops, health says so.
		go func() {
			<-stopped
			s.health.Shutdown()
		}()
	}
	return stopped
}

// GracefulStop turns health to NOT_SERVING, lets in-flight RPCs finish for up to
// gracefulStopTimeout, then closes every connection. It is safe to call more than once and
// without Serve.
func (s *server) GracefulStop() {
	s.health.Shutdown()
	s.lis.GracefulStop()
}

func (s *server) Addr() string {
	return s.lis.Addr()
}

func (s *server) Serving() bool {
	resp, err := s.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
	return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
}

// recoverUnary turns a panic of a handler into codes.Internal and logs it with its stack, so that
// one bad request cannot take the process down.
func (s *server) recoverUnary(ctx context.Context, req any, info *grpclib.UnaryServerInfo, handler grpclib.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.panicked(info.FullMethod, r)
		}
	}()
	return handler(ctx, req)
}

func (s *server) recoverStream(srv any, ss grpclib.ServerStream, info *grpclib.StreamServerInfo, handler grpclib.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.panicked(info.FullMethod, r)
		}
	}()
	return handler(srv, ss)
}

func (s *server) panicked(method string, r any) error {
	s.log.Error().Str("method", method).Interface("panic", r).Str("stack", string(debug.Stack())).Msg("handler panicked")
	return status.Errorf(codes.Internal, "%s: internal error, see the server log", method)
}

// logUnary logs every call at debug level: method, peer, code and duration. The logger's sink
// drops the entries unless the level is debug.
func (s *server) logUnary(ctx context.Context, req any, info *grpclib.UnaryServerInfo, handler grpclib.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	s.logCall(ctx, info.FullMethod, start, err)
	return resp, err
}

func (s *server) logStream(srv any, ss grpclib.ServerStream, info *grpclib.StreamServerInfo, handler grpclib.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	s.logCall(ss.Context(), info.FullMethod, start, err)
	return err
}

func (s *server) logCall(ctx context.Context, method string, start time.Time, err error) {
	e := s.log.Debug().Str("method", method).Str("code", status.Code(err).String()).Dur("took", time.Since(start))
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		e = e.Str("peer", p.Addr.String())
	}
	if err != nil {
		e = e.Str("error", status.Convert(err).Message())
	}
	e.Msg("rpc")
}

func (s *server) BydbQL() bydbqlv1.BydbQLServiceServer {
	return s.bydbql
}

func (s *server) Registries() *RegistryServers {
	return s.registries
}
