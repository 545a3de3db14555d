// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"math"

	grpclib "google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// transportRecvLimit is the message size gRPC itself accepts for a --max-recv-msg-size of limit:
// twice the limit, so that a Write request between the two is read whole and refused alone
// (gRPC reads only the length prefix of a larger one, cannot skip it and ends the stream).
func transportRecvLimit(limit int) int {
	if limit > math.MaxInt32/2 {
		return math.MaxInt32
	}
	return 2 * limit
}

// tooLarge is the error a message above limit gets, the one gRPC gives at its own limit.
func tooLarge(size, limit int) error {
	return status.Errorf(codes.ResourceExhausted, "grpc: received message larger than max (%d vs. %d)", size, limit)
}

// limitUnary refuses a unary request above limit bytes with ResourceExhausted.
func limitUnary(limit int) grpclib.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpclib.UnaryServerInfo, handler grpclib.UnaryHandler) (any, error) {
		if m, ok := req.(proto.Message); ok {
			if n := proto.Size(m); n > limit {
				return nil, tooLarge(n, limit)
			}
		}
		return handler(ctx, req)
	}
}

// limitStream holds the messages of streams to limit bytes, except Write requests, which the
// Write handler refuses alone.
func limitStream(limit int) grpclib.StreamServerInterceptor {
	return func(srv any, ss grpclib.ServerStream, _ *grpclib.StreamServerInfo, handler grpclib.StreamHandler) error {
		return handler(srv, &limitedStream{ServerStream: ss, limit: limit})
	}
}

// limitedStream is a server stream whose received messages are held to limit bytes.
type limitedStream struct {
	grpclib.ServerStream
	limit int
}

// RecvMsg receives m and refuses it with ResourceExhausted when it is above the limit.
func (s *limitedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if pm, ok := m.(proto.Message); ok {
		if n := proto.Size(pm); n > s.limit {
			return tooLarge(n, s.limit)
		}
	}
	return nil
}
