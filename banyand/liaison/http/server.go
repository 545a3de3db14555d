// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package http is the HTTP front door of a liaison or standalone node. Under /api it serves
// /api/healthz, which mirrors the gRPC server's health, and the JSON mapping of the registry and
// common services of upstream BanyanDB's gateway (paths of API.md §3.1, bodies and responses in
// protojson), answered by calling the registry service implementations in-process.
package http

import (
	"context"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pkg/errors"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/banyand/liaison/grpc"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/pkg/logger"
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
	log     *logger.Logger
	opts    options
	handler http.Handler
	// stopCh is closed once the server has stopped; it is created by NewServer.
	stopCh chan struct{}

	// mu guards the fields below, which PreRun sets and Serve/GracefulStop consume.
	mu struct {
		sync.Mutex
		srv     *http.Server
		lis     net.Listener
		served  bool
		stopped bool
	}
}

var _ Server = (*server)(nil)

// NewServer returns the HTTP server unit. healthy reports whether the gRPC server is serving (the
// gRPC unit's Serving method); the registry endpoints run the same services as gRPC over repo.
// Nothing is opened until PreRun.
func NewServer(repo metadata.Repo, healthy func() bool, opts ...Option) Server {
	s := &server{
		log:    logger.GetLogger("liaison", "http"),
		opts:   options{port: DefaultPort},
		stopCh: make(chan struct{}),
	}
	s.handler = newHandler(grpc.NewRegistryServers(repo, nil), healthy, s.log)
	if len(opts) > 0 {
		mux := http.NewServeMux()
		for _, o := range opts {
			o(mux, s.log)
		}
		mux.Handle("/", s.handler)
		s.handler = mux
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

// PreRun binds the listener, so that a port in use fails the start.
func (s *server) PreRun(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.srv != nil {
		return errors.New("liaison http: PreRun called twice")
	}
	addr := net.JoinHostPort(s.opts.host, strconv.FormatUint(uint64(s.opts.port), 10))
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.Wrapf(err, "listen on %s", addr)
	}
	s.mu.lis = lis
	s.mu.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	s.log.Info().Str("addr", lis.Addr().String()).Msg("HTTP server bound")
	return nil
}

// Serve starts answering requests; the returned channel closes when the server has stopped.
func (s *server) Serve() run.StopNotify {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.srv == nil || s.mu.served || s.mu.stopped {
		if s.mu.srv == nil {
			s.log.Error().Msg("Serve called without a successful PreRun")
			s.closeStopLocked()
		}
		return s.stopCh
	}
	s.mu.served = true
	srv, lis := s.mu.srv, s.mu.lis
	go func() {
		err := srv.Serve(lis)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("HTTP server stopped serving")
		}
		s.closeStopLocked()
	}()
	s.log.Info().Str("addr", lis.Addr().String()).Msg("HTTP server serving")
	return s.stopCh
}

// closeStopLocked closes stopCh once; the caller holds mu.
func (s *server) closeStopLocked() {
	select {
	case <-s.stopCh:
	default:
		close(s.stopCh)
	}
}

// GracefulStop lets in-flight requests finish for up to shutdownTimeout, then closes every
// connection. It is safe to call more than once and without Serve.
func (s *server) GracefulStop() {
	s.mu.Lock()
	if s.mu.stopped {
		s.mu.Unlock()
		<-s.stopCh
		return
	}
	s.mu.stopped = true
	srv, lis, served := s.mu.srv, s.mu.lis, s.mu.served
	if !served {
		if lis != nil {
			_ = lis.Close()
		}
		s.closeStopLocked()
	}
	s.mu.Unlock()
	if !served {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		s.log.Warn().Err(err).Msg("requests still running, closing every connection")
		_ = srv.Close()
	}
	<-s.stopCh
	s.log.Info().Msg("HTTP server stopped")
}

func (s *server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.lis == nil {
		return ""
	}
	return s.mu.lis.Addr().String()
}
