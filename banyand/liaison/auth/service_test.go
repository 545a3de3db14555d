// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func startService(t *testing.T, args ...string) *Service {
	t.Helper()
	s := NewService()
	if err := s.FlagSet().Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := s.PreRun(context.Background()); err != nil {
		t.Fatalf("PreRun: %v", err)
	}
	return s
}

// rewrite replaces the file's content and moves its modification time, so that a rewrite within
// the file system's timestamp granularity still counts as a change.
func rewrite(t *testing.T, path, content string, mode os.FileMode, shift time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(shift)
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
}

func TestServiceOffLetsEverythingIn(t *testing.T) {
	s := startService(t)
	if s.Enabled() {
		t.Fatal("enabled without a users file")
	}
	if !s.authenticate("", "") {
		t.Fatal("an unconfigured service refused a caller")
	}
	var nilService *Service
	if nilService.Enabled() || !nilService.authenticate("x", "y") {
		t.Fatal("a nil service must let everything in")
	}
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if got := nilService.Middleware(h); got == nil {
		t.Fatal("nil middleware")
	}
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload without a file: %v", err)
	}
}

func TestServiceRefusesToStartOnAnUnsafeFile(t *testing.T) {
	path := writeUsers(t, t.TempDir(), "users:\n  - username: a\n    password: b\n", 0o644)
	s := NewService()
	if err := s.FlagSet().Parse([]string{"--auth-config-file=" + path}); err != nil {
		t.Fatal(err)
	}
	if err := s.PreRun(context.Background()); err == nil || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("PreRun = %v, want a refusal naming the mode", err)
	}
	if s.Enabled() {
		t.Fatal("enabled after a refused file")
	}
}

func TestServiceValidateInterval(t *testing.T) {
	s := NewService()
	if err := s.FlagSet().Parse([]string{"--auth-reload-interval=0s"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "--auth-reload-interval") {
		t.Fatalf("Validate = %v", err)
	}
}

func TestServiceReload(t *testing.T) {
	path := writeUsers(t, t.TempDir(), "users:\n  - username: alice\n    password: one\n", 0o600)
	s := startService(t, "--auth-config-file="+path)
	if !s.authenticate("alice", "one") {
		t.Fatal("alice refused")
	}
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload of an unchanged file: %v", err)
	}

	rewrite(t, path, "users:\n  - username: bob\n    password: two\n", 0o600, time.Second)
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if s.authenticate("alice", "one") || !s.authenticate("bob", "two") {
		t.Fatal("the reload did not replace the users")
	}

	// A broken file keeps the users in force, and is not retried until it changes again.
	rewrite(t, path, "users: [", 0o600, 2*time.Second)
	if err := s.Reload(); err == nil {
		t.Fatal("a broken file reloaded without error")
	}
	if !s.authenticate("bob", "two") {
		t.Fatal("a broken reload dropped the users in force")
	}
	if err := s.Reload(); err != nil {
		t.Fatalf("the unchanged broken file was reported again: %v", err)
	}

	// A file that becomes readable by others is refused too, keeping the users.
	rewrite(t, path, "users:\n  - username: carol\n    password: three\n", 0o644, 3*time.Second)
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Reload of a world-readable file = %v", err)
	}
	if s.authenticate("carol", "three") || !s.authenticate("bob", "two") {
		t.Fatal("a world-readable file was taken")
	}

	// A removed file keeps the users in force as well.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Fatal("a removed file reloaded without error")
	}
	if !s.authenticate("bob", "two") {
		t.Fatal("removing the file dropped the users")
	}
}

func TestServiceWatchesTheFile(t *testing.T) {
	path := writeUsers(t, t.TempDir(), "users:\n  - username: alice\n    password: one\n", 0o600)
	s := startService(t, "--auth-config-file="+path, "--auth-reload-interval=10ms")
	stopped := s.Serve()
	rewrite(t, path, "users:\n  - username: bob\n    password: two\n", 0o600, time.Second)
	// Wait for the poller; the test's own deadline bounds the wait.
	for !s.authenticate("bob", "two") {
		time.Sleep(5 * time.Millisecond)
	}
	if s.authenticate("alice", "one") {
		t.Fatal("alice is still in after the reload")
	}
	s.GracefulStop()
	<-stopped
	s.GracefulStop()
}

func TestInterceptors(t *testing.T) {
	path := writeUsers(t, t.TempDir(), "users:\n  - username: alice\n    password: one\n", 0o600)
	s := startService(t, "--auth-config-file="+path)
	unary := s.UnaryInterceptor()
	stream := s.StreamInterceptor()
	called := 0
	handler := func(context.Context, any) (any, error) { called++; return "ok", nil }
	streamHandler := func(any, grpc.ServerStream) error { called++; return nil }
	for _, tt := range []struct {
		name   string
		method string
		md     metadata.MD
		want   codes.Code
	}{
		{"no metadata", "/banyandb.database.v1.GroupRegistryService/List", nil, codes.Unauthenticated},
		{"no password", "/banyandb.database.v1.GroupRegistryService/List", metadata.Pairs("username", "alice"), codes.Unauthenticated},
		{"wrong password", "/banyandb.database.v1.GroupRegistryService/List", metadata.Pairs("username", "alice", "password", "two"), codes.Unauthenticated},
		{"right", "/banyandb.database.v1.GroupRegistryService/List", metadata.Pairs("username", "alice", "password", "one"), codes.OK},
		{"health without credentials", "/grpc.health.v1.Health/Check", nil, codes.OK},
		{"reflection needs them", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", nil, codes.Unauthenticated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := metadata.NewIncomingContext(context.Background(), tt.md)
			called = 0
			_, err := unary(ctx, nil, &grpc.UnaryServerInfo{FullMethod: tt.method}, handler)
			if status.Code(err) != tt.want {
				t.Errorf("unary: %v, want %s", err, tt.want)
			}
			err = stream(nil, fakeStream{ctx: ctx}, &grpc.StreamServerInfo{FullMethod: tt.method}, streamHandler)
			if status.Code(err) != tt.want {
				t.Errorf("stream: %v, want %s", err, tt.want)
			}
			wantCalls := 0
			if tt.want == codes.OK {
				wantCalls = 2
			}
			if called != wantCalls {
				t.Errorf("handlers ran %d times, want %d", called, wantCalls)
			}
		})
	}
}

type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (f fakeStream) Context() context.Context { return f.ctx }

func TestMiddleware(t *testing.T) {
	path := writeUsers(t, t.TempDir(), "users:\n  - username: alice\n    password: '"+bcryptOf(t, "one")+"'\n", 0o600)
	s := startService(t, "--auth-config-file="+path)
	srv := httptest.NewServer(s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("inside"))
	})))
	defer srv.Close()
	for _, tt := range []struct {
		name           string
		path           string
		user, password string
		want           int
	}{
		{"no credentials", "/api/v1/group/schema/lists", "", "", http.StatusUnauthorized},
		{"wrong", "/api/v1/group/schema/lists", "alice", "two", http.StatusUnauthorized},
		{"unknown user", "/api/v1/group/schema/lists", "bob", "one", http.StatusUnauthorized},
		{"right", "/api/v1/group/schema/lists", "alice", "one", http.StatusOK},
		{"health", "/api/healthz", "", "", http.StatusOK},
		{"health's neighbour", "/api/healthz/x", "", "", http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.password)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			if tt.want == http.StatusUnauthorized && !strings.HasPrefix(challenge, "Basic ") {
				t.Errorf("401 without a Basic challenge: %q", challenge)
			}
		})
	}
}

func TestForwardCredentials(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/group/schema/lists", nil)
	if md := ForwardCredentials(context.Background(), req); md != nil {
		t.Fatalf("metadata without basic auth: %v", md)
	}
	req.SetBasicAuth("alice", "p:w")
	md := ForwardCredentials(context.Background(), req)
	if first(md, UsernameKey) != "alice" || first(md, PasswordKey) != "p:w" {
		t.Fatalf("forwarded %v", md)
	}
}
