// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package netserver is the lifecycle of a network listener inside a run unit, written once for
// every gRPC and HTTP server of a node: Bind in PreRun (so that a port in use fails the start),
// Serve in Serve, a graceful stop bounded by a timeout after which every connection is closed,
// safe to call more than once and without Serve. The accepted connections of every listener of
// the process share a budget of half the process's file descriptor limit; a connection accepted
// past it is closed at once (the storage needs the other half).
//
// Usage sketch:
//
//	l := netserver.New(log, 10*time.Second)
//	err := l.Bind(":17913", netserver.HTTP(&http.Server{Handler: h}))   // PreRun
//	stopped := l.Serve()                                                 // Serve
//	l.GracefulStop()                                                     // GracefulStop
package netserver

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc"

	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// ErrBound is returned by Bind when the listener is bound already.
var ErrBound = errors.New("netserver: already bound")

// Backend is a server that answers on a listener until it is stopped.
type Backend interface {
	// Serve accepts on lis until Shutdown or Close; after either it returns nil.
	Serve(lis net.Listener) error
	// Shutdown stops accepting and waits for the work in flight until ctx ends, then returns
	// ctx's error.
	Shutdown(ctx context.Context) error
	// Close closes every connection at once.
	Close() error
}

// Listener runs one Backend on one listener through the unit lifecycle.
type Listener struct {
	log         *logger.Logger
	stopTimeout time.Duration
	// conns is the connection budget the listener draws on: the process's, shared by every listener.
	conns *connBudget
	// stopCh closes once the backend has stopped serving, or at GracefulStop when it never served.
	stopCh chan struct{}

	// mu guards the fields below, which Bind sets and Serve/GracefulStop consume.
	mu struct {
		sync.Mutex
		lis     net.Listener
		backend Backend
		served  bool
		stopped bool
	}
}

// New returns an unbound listener; GracefulStop waits up to stopTimeout for the work in flight.
func New(log *logger.Logger, stopTimeout time.Duration) *Listener {
	return &Listener{log: log, stopTimeout: stopTimeout, conns: processConns, stopCh: make(chan struct{})}
}

// Bind listens on addr (host:port, port 0 picks a free one) for backend.
func (l *Listener) Bind(addr string, backend Backend) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.lis != nil {
		return errors.Wrapf(ErrBound, "bind %s", addr)
	}
	if l.mu.stopped {
		return errors.Errorf("netserver: bind %s after GracefulStop", addr)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.Wrapf(err, "listen on %s", addr)
	}
	l.mu.lis, l.mu.backend = &limitedListener{Listener: lis, budget: l.conns, log: l.log}, backend
	l.log.Info().Str("addr", lis.Addr().String()).Msg("bound")
	return nil
}

// Addr returns the bound address, or "" before Bind.
func (l *Listener) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.lis == nil {
		return ""
	}
	return l.mu.lis.Addr().String()
}

// Serve starts the backend on the bound listener. The returned channel closes when the backend
// stops serving: after GracefulStop, or when accepting fails. Unbound (a disabled server), the
// channel closes at GracefulStop. Calling Serve again returns the same channel.
func (l *Listener) Serve() run.StopNotify {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.lis == nil || l.mu.served || l.mu.stopped {
		return l.stopCh
	}
	l.mu.served = true
	lis, backend := l.mu.lis, l.mu.backend
	go func() {
		err := backend.Serve(lis)
		l.mu.Lock()
		defer l.mu.Unlock()
		if err != nil && !l.mu.stopped {
			l.log.Error().Err(err).Str("addr", lis.Addr().String()).Msg("stopped serving")
		}
		l.closeStopLocked()
	}()
	l.log.Info().Str("addr", lis.Addr().String()).Msg("serving")
	return l.stopCh
}

// closeStopLocked closes stopCh once; the caller holds mu.
func (l *Listener) closeStopLocked() {
	select {
	case <-l.stopCh:
	default:
		close(l.stopCh)
	}
}

// GracefulStop stops accepting, lets the work in flight finish for up to the stop timeout, then
// closes every connection, and returns once the backend has stopped. It is safe to call more
// than once, concurrently, and without Bind or Serve.
func (l *Listener) GracefulStop() {
	l.mu.Lock()
	if l.mu.stopped {
		l.mu.Unlock()
		<-l.stopCh
		return
	}
	l.mu.stopped = true
	lis, backend, served := l.mu.lis, l.mu.backend, l.mu.served
	if !served {
		// Nothing accepts on the listener: release it here and finish at once.
		if lis != nil {
			_ = lis.Close()
		}
		l.closeStopLocked()
	}
	l.mu.Unlock()
	if !served {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.stopTimeout)
	defer cancel()
	if err := backend.Shutdown(ctx); err != nil {
		l.log.Warn().Err(err).Dur("timeout", l.stopTimeout).Msg("work still running, closing every connection")
		_ = backend.Close()
	}
	<-l.stopCh
	l.log.Info().Msg("stopped")
}

// HTTP adapts an *http.Server, whose Serve, Shutdown and Close already fit; http.ErrServerClosed
// is not an error here.
func HTTP(srv *http.Server) Backend {
	return httpBackend{srv}
}

type httpBackend struct{ *http.Server }

// Serve serves lis; a closed server is a normal end.
func (b httpBackend) Serve(lis net.Listener) error {
	if err := b.Server.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// GRPC adapts a *grpc.Server: Shutdown is its GracefulStop bounded by the context, Close its Stop.
func GRPC(srv *grpc.Server) Backend {
	return grpcBackend{srv}
}

type grpcBackend struct{ srv *grpc.Server }

// Serve serves lis; a stopped server is a normal end.
func (b grpcBackend) Serve(lis net.Listener) error {
	if err := b.srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Shutdown runs GracefulStop until it returns or ctx ends.
func (b grpcBackend) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		b.srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the server at once.
func (b grpcBackend) Close() error {
	b.srv.Stop()
	return nil
}
