// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package netserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/apache/skywalking-banyandb/pkg/logger"
)

func newListener(timeout time.Duration) *Listener {
	return New(logger.GetLogger("netserver-test"), timeout)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func get(t *testing.T, url string) (string, error) {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // a plain probe
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestHTTPServesUntilGracefulStop(t *testing.T) {
	l := newListener(5 * time.Second)
	if l.Addr() != "" {
		t.Fatalf("Addr before Bind = %q", l.Addr())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") })
	if err := l.Bind("127.0.0.1:0", HTTP(&http.Server{Handler: mux, ReadHeaderTimeout: time.Second})); err != nil {
		t.Fatal(err)
	}
	addr := l.Addr()
	stopped := l.Serve()
	if again := l.Serve(); again != stopped {
		t.Fatal("a second Serve returned another channel")
	}
	if body, err := get(t, "http://"+addr+"/"); err != nil || body != "hello" {
		t.Fatalf("GET = %q, %v", body, err)
	}
	if isClosed(stopped) {
		t.Fatal("stopped before GracefulStop")
	}
	l.GracefulStop()
	if !isClosed(stopped) {
		t.Fatal("GracefulStop returned before the server stopped")
	}
	if _, err := get(t, "http://"+addr+"/"); err == nil {
		t.Fatal("still answering after GracefulStop")
	}
	l.GracefulStop() // a second stop returns at once
	if err := l.Bind("127.0.0.1:0", HTTP(&http.Server{ReadHeaderTimeout: time.Second})); !errors.Is(err, ErrBound) {
		t.Fatalf("Bind after stop: %v, want ErrBound", err)
	}
}

func TestBindFailures(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	l := newListener(time.Second)
	if err = l.Bind(busy.Addr().String(), HTTP(&http.Server{ReadHeaderTimeout: time.Second})); err == nil ||
		!strings.Contains(err.Error(), "listen on "+busy.Addr().String()) {
		t.Fatalf("Bind on a busy port: %v", err)
	}
	if err = l.Bind("127.0.0.1:0", HTTP(&http.Server{ReadHeaderTimeout: time.Second})); err != nil {
		t.Fatalf("Bind after a failed Bind: %v", err)
	}
	if err = l.Bind("127.0.0.1:0", HTTP(&http.Server{ReadHeaderTimeout: time.Second})); !errors.Is(err, ErrBound) {
		t.Fatalf("second Bind: %v, want ErrBound", err)
	}
	l.GracefulStop()
}

func TestStopWithoutServeReleasesThePort(t *testing.T) {
	l := newListener(time.Second)
	if err := l.Bind("127.0.0.1:0", HTTP(&http.Server{ReadHeaderTimeout: time.Second})); err != nil {
		t.Fatal(err)
	}
	addr := l.Addr()
	l.GracefulStop()
	if !isClosed(l.Serve()) {
		t.Fatal("Serve after GracefulStop did not return the closed channel")
	}
	again, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port of a listener stopped without serving is still taken: %v", err)
	}
	_ = again.Close()
}

func TestUnboundServesUntilStopped(t *testing.T) {
	l := newListener(time.Second)
	stopped := l.Serve()
	if isClosed(stopped) {
		t.Fatal("an unbound (disabled) listener stopped at Serve")
	}
	l.GracefulStop()
	if !isClosed(stopped) {
		t.Fatal("an unbound listener did not stop at GracefulStop")
	}
}

func TestStopTimeoutClosesConnections(t *testing.T) {
	l := newListener(20 * time.Millisecond)
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	if err := l.Bind("127.0.0.1:0", HTTP(&http.Server{Handler: mux, ReadHeaderTimeout: time.Second})); err != nil {
		t.Fatal(err)
	}
	l.Serve()
	failed := make(chan error, 1)
	go func() {
		_, err := get(t, "http://"+l.Addr()+"/")
		failed <- err
	}()
	<-entered
	l.GracefulStop() // the handler never finishes by itself: the timeout must close its connection
	if err := <-failed; err == nil {
		t.Fatal("the request in flight succeeded though its connection was closed")
	}
}

func TestGRPCServesUntilGracefulStop(t *testing.T) {
	l := newListener(5 * time.Second)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	if err := l.Bind("127.0.0.1:0", GRPC(srv)); err != nil {
		t.Fatal(err)
	}
	stopped := l.Serve()
	conn, err := grpc.NewClient(l.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("health check: %v", err)
	}
	l.GracefulStop()
	if !isClosed(stopped) {
		t.Fatal("GracefulStop returned before the gRPC server stopped")
	}
	if _, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
		t.Fatal("the gRPC server still answers after GracefulStop")
	}
}

func TestGRPCStopTimeoutEndsStreams(t *testing.T) {
	l := newListener(20 * time.Millisecond)
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	if err := l.Bind("127.0.0.1:0", GRPC(srv)); err != nil {
		t.Fatal(err)
	}
	l.Serve()
	conn, err := grpc.NewClient(l.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A Watch stream stays open until the server ends it: GracefulStop alone would wait for it.
	stream, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = stream.Recv(); err != nil {
		t.Fatalf("first watch answer: %v", err)
	}
	l.GracefulStop()
	for err == nil {
		_, err = stream.Recv()
	}
	if ctx.Err() != nil {
		t.Fatalf("the stream ended only by the test's deadline: %v", err)
	}
}

func TestConnectionsPastTheBudgetAreClosedAtOnce(t *testing.T) {
	l := newListener(5 * time.Second)
	l.conns = &connBudget{max: func() int64 { return 2 }}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") })
	if err := l.Bind("127.0.0.1:0", HTTP(&http.Server{Handler: mux, ReadHeaderTimeout: time.Minute})); err != nil {
		t.Fatal(err)
	}
	l.Serve()
	defer l.GracefulStop()
	waitOpen := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for l.conns.open.Load() != want {
			if time.Now().After(deadline) {
				t.Fatalf("open connections = %d, want %d", l.conns.open.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	dial := func() net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", l.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Two idle connections take the budget.
	first, second := dial(), dial()
	defer second.Close()
	waitOpen(2)
	// A third is accepted and closed at once: its read ends without an answer.
	third := dial()
	defer third.Close()
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatalf("read %d bytes from a connection past the budget", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a connection past the budget was kept open")
	}
	waitOpen(2)
	// Once one closes, its slot serves a new client.
	_ = first.Close()
	waitOpen(1)
	body, err := get(t, "http://"+l.Addr()+"/")
	if err != nil || body != "hello" {
		t.Fatalf("GET after a slot freed = %q, %v", body, err)
	}
}
