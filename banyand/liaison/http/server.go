// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package http is the HTTP front door of a liaison or standalone node. Under /api it serves
// /api/healthz, which mirrors the gRPC server's health, and every RPC whose proto carries a
// google.api.http annotation, through the handlers grpc-gateway generated from those annotations
// (api/proto/banyandb/*/v1/rpc.pb.gw.go): upstream BanyanDB's paths, protojson bodies and
// responses, errors as google.rpc.Status with the gateway's HTTP codes. The handlers call the
// same service implementations as the gRPC server, in-process.
package http

import (
	"context"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pkg/errors"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/banyand/liaison/auth"
	"github.com/apache/skywalking-banyandb/banyand/liaison/grpc"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/netserver"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// DefaultPort is the default of --http-port, upstream BanyanDB's HTTP port.
const DefaultPort uint32 = 17913

// shutdownTimeout bounds how long GracefulStop waits for in-flight requests.
const shutdownTimeout = 10 * time.Second

// ErrInvalidOption is wrapped by Validate for a bad flag value.
var ErrInvalidOption = errors.New("liaison http: invalid option")

// Server is the HTTP server unit; its Name is "http".
type Server interface {
	run.Config
	run.PreRunner
	run.Service
	// Addr returns the address the server listens on, or "" before PreRun.
	Addr() string
}

type options struct {
	host string
	port uint32
}

type server struct {
	log  *logger.Logger
	opts options
	cfg  gatewayConfig
	lis  *netserver.Listener
	// authn checks basic auth on every request but health; nil lets every request in.
	authn *auth.Service
}

var _ Server = (*server)(nil)

// NewServer returns the HTTP server unit. healthy reports whether the gRPC server is serving (the
// gRPC unit's Serving method); the registry endpoints run the same services as gRPC over repo.
// authn, when it has users, requires basic auth on every request but the health check; nil lets
// every request in. Nothing is opened until PreRun.
func NewServer(repo metadata.Repo, healthy func() bool, authn *auth.Service, opts ...Option) Server {
	log := logger.GetLogger("liaison", "http")
	s := &server{
		log:   log,
		opts:  options{port: DefaultPort},
		cfg:   gatewayConfig{registries: grpc.NewRegistryServers(repo, nil), healthy: healthy},
		lis:   netserver.New(log, shutdownTimeout),
		authn: authn,
	}
	for _, o := range opts {
		o(&s.cfg)
	}
	return s
}

func (s *server) Name() string {
	return "http"
}

// FlagSet binds the server's flags.
func (s *server) FlagSet() *run.FlagSet {
	fs := run.NewFlagSet("http")
	fs.StringVar(&s.opts.host, "http-host", s.opts.host, "the host the HTTP server listens on; empty means every interface")
	fs.Uint32Var(&s.opts.port, "http-port", s.opts.port, "the port of the HTTP server; 0 picks a free port")
	return fs
}

// Validate reports an invalid flag value, naming the flag.
func (s *server) Validate() error {
	var errs error
	if s.opts.port > math.MaxUint16 {
		errs = multierr.Append(errs, errors.Wrapf(ErrInvalidOption, "--http-port %d is above 65535", s.opts.port))
	}
	return errs
}

// PreRun builds the gateway's routes and binds the listener, so that a port in use fails the start.
func (s *server) PreRun(ctx context.Context) error {
	handler, err := newHandler(ctx, s.cfg, s.log)
	if err != nil {
		return err
	}
	handler = s.authn.Middleware(handler)
	addr := net.JoinHostPort(s.opts.host, strconv.FormatUint(uint64(s.opts.port), 10))
	return s.lis.Bind(addr, netserver.HTTP(&http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}))
}

// Serve starts answering requests; the returned channel closes when the server has stopped.
func (s *server) Serve() run.StopNotify {
	return s.lis.Serve()
}

// GracefulStop lets in-flight requests finish for up to shutdownTimeout, then closes every
// connection. It is safe to call more than once and without Serve.
func (s *server) GracefulStop() {
	s.lis.GracefulStop()
}

func (s *server) Addr() string {
	return s.lis.Addr()
}
