// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package auth

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The per-RPC metadata keys that carry the credentials, as upstream BanyanDB's clients send them.
const (
	// UsernameKey is the metadata key of the user name.
	UsernameKey = "username"
	// PasswordKey is the metadata key of the password.
	PasswordKey = "password"
)

// healthServicePrefix starts the full method names of the gRPC health service, which load
// balancers and orchestrators call without credentials.
const healthServicePrefix = "/grpc.health.v1.Health/"

// UnaryInterceptor returns the interceptor that refuses a unary call without valid credentials
// with codes.Unauthenticated.
func (s *Service) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := s.checkCall(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor returns the interceptor that refuses a stream without valid credentials with
// codes.Unauthenticated before its handler reads anything.
func (s *Service) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := s.checkCall(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

// checkCall checks the credentials in the call's metadata.
func (s *Service) checkCall(ctx context.Context, method string) error {
	if !s.Enabled() || strings.HasPrefix(method, healthServicePrefix) {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	username, password := first(md, UsernameKey), first(md, PasswordKey)
	if username == "" || password == "" {
		return status.Errorf(codes.Unauthenticated,
			"%s: credentials required: send the metadata keys %q and %q", method, UsernameKey, PasswordKey)
	}
	if !s.authenticate(username, password) {
		return status.Errorf(codes.Unauthenticated, "%s: invalid username or password", method)
	}
	return nil
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}
