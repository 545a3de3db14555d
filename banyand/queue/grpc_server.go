// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package queue

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	clusterv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/cluster/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/bus"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// DefaultServerPort is the port of a data node's internal gRPC endpoint, as upstream's.
const DefaultServerPort = 17912

// GRPCServer is a data node's end of the queue: an internal gRPC service that hands the batches
// and queries of liaisons to the topic listeners.
type GRPCServer interface {
	Server
	run.Config
	run.PreRunner
	run.Service
	// Addr returns the bound address, known after PreRun.
	Addr() string
}

type grpcServer struct {
	clusterv1.UnimplementedTraceQueueServiceServer
	listeners map[bus.Topic]bus.Listener
	fs        *run.FlagSet
	lis       net.Listener
	srv       *grpc.Server
	health    *health.Server
	l         *logger.Logger
	stopCh    chan struct{}
	host      string
	mu        sync.RWMutex
	maxRecv   run.Bytes
	port      uint32
	stopOnce  sync.Once
	served    atomic.Bool
}

// NewGRPCServer returns the internal gRPC endpoint of a data node (flags --grpc-host, --grpc-port).
func NewGRPCServer() GRPCServer {
	s := &grpcServer{listeners: make(map[bus.Topic]bus.Listener), stopCh: make(chan struct{}), maxRecv: 64 << 20}
	s.fs = run.NewFlagSet("queue-grpc")
	s.fs.StringVar(&s.host, "grpc-host", "", "the host of the node's internal gRPC endpoint; empty means every interface")
	s.fs.Uint32Var(&s.port, "grpc-port", DefaultServerPort, "the port of the node's internal gRPC endpoint; 0 picks a free port")
	s.fs.Var(&s.maxRecv, "max-recv-msg-size", "the largest message the internal gRPC endpoint accepts")
	return s
}

func (s *grpcServer) Name() string { return "queue-grpc-server" }

func (s *grpcServer) FlagSet() *run.FlagSet { return s.fs }

func (s *grpcServer) Validate() error {
	if s.port > 65535 {
		return errors.Errorf("--grpc-port must be at most 65535, got %d", s.port)
	}
	if s.maxRecv <= 0 {
		return errors.Errorf("--max-recv-msg-size must be positive, got %s", s.maxRecv)
	}
	return nil
}

func (s *grpcServer) Subscribe(topic bus.Topic, l bus.Listener) error {
	if l == nil {
		return errors.Errorf("queue: nil listener for topic %s", topic)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.listeners[topic]; ok {
		return errors.Errorf("queue: topic %s already has a listener", topic)
	}
	s.listeners[topic] = l
	return nil
}

func (s *grpcServer) listener(topic bus.Topic) (bus.Listener, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.listeners[topic]
	if !ok {
		return nil, status.Errorf(codes.Unavailable, "topic %s has no listener yet", topic)
	}
	return l, nil
}

func (s *grpcServer) PreRun(context.Context) error {
	s.l = logger.GetLogger("queue", "grpc-server")
	addr := net.JoinHostPort(s.host, strconv.FormatUint(uint64(s.port), 10))
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.Wrapf(err, "listen on %s", addr)
	}
	s.lis = lis
	s.srv = grpc.NewServer(grpc.MaxRecvMsgSize(int(s.maxRecv)))
	clusterv1.RegisterTraceQueueServiceServer(s.srv, s)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.srv, s.health)
	return nil
}

func (s *grpcServer) Addr() string {
	if s.lis == nil {
		return ""
	}
	return s.lis.Addr().String()
}

func (s *grpcServer) Serve() run.StopNotify {
	s.served.Store(true)
	go func() {
		s.l.Info().Str("addr", s.Addr()).Msg("internal gRPC endpoint serving")
		if err := s.srv.Serve(s.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.l.Error().Err(err).Msg("internal gRPC endpoint stopped")
		}
		s.stopOnce.Do(func() { close(s.stopCh) })
	}()
	return s.stopCh
}

func (s *grpcServer) GracefulStop() {
	if s.srv == nil {
		return
	}
	if !s.served.Load() {
		// Released after PreRun without serving: nothing accepts on the listener, so close it here.
		_ = s.lis.Close()
		s.stopOnce.Do(func() { close(s.stopCh) })
		return
	}
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.srv.Stop()
	}
	s.stopOnce.Do(func() { close(s.stopCh) })
}

// Write hands a batch to the trace-write listener.
func (s *grpcServer) Write(ctx context.Context, b *clusterv1.TraceWriteBatch) (*clusterv1.TraceWriteBatchResponse, error) {
	l, err := s.listener(bus.TopicTraceWrite)
	if err != nil {
		return nil, err
	}
	reply, err := l.Handle(ctx, b.GetRequests())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "write batch: %v", err)
	}
	statuses, ok := reply.([]modelv1.Status)
	if !ok {
		return nil, status.Errorf(codes.Internal, "write batch: unexpected reply %T", reply)
	}
	return &clusterv1.TraceWriteBatchResponse{Statuses: statuses}, nil
}

// Query hands a query to the trace-query listener; its errors keep their gRPC codes.
func (s *grpcServer) Query(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.InternalQueryResponse, error) {
	l, err := s.listener(bus.TopicTraceQuery)
	if err != nil {
		return nil, err
	}
	reply, err := l.Handle(ctx, req)
	if err != nil {
		// Listeners that know the class of their errors return status errors; the rest are internal.
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Errorf(codes.Internal, "query: %v", err)
	}
	resp, ok := reply.(*tracev1.InternalQueryResponse)
	if !ok {
		return nil, status.Errorf(codes.Internal, "query: unexpected reply %T", reply)
	}
	return resp, nil
}

// InspectGroup hands a group inspection to its listener.
func (s *grpcServer) InspectGroup(ctx context.Context, req *clusterv1.TraceGroupInspectRequest) (*clusterv1.TraceGroupInspectResponse, error) {
	return handleAs[*clusterv1.TraceGroupInspectResponse](ctx, s, bus.TopicTraceInspectGroup, req)
}

// DropGroupData hands the deletion of a group's data to its listener.
func (s *grpcServer) DropGroupData(ctx context.Context, req *clusterv1.TraceGroupDropDataRequest) (*clusterv1.TraceGroupDropDataResponse, error) {
	return handleAs[*clusterv1.TraceGroupDropDataResponse](ctx, s, bus.TopicTraceDropGroupData, req)
}

// DeleteSegments hands the deletion of listed segments to its listener.
func (s *grpcServer) DeleteSegments(ctx context.Context, req *tracev1.DeleteExpiredSegmentsRequest) (*tracev1.DeleteExpiredSegmentsResponse, error) {
	return handleAs[*tracev1.DeleteExpiredSegmentsResponse](ctx, s, bus.TopicTraceDeleteSegments, req)
}

// handleAs runs the listener of topic and checks its reply type; errors keep their gRPC codes.
func handleAs[R any](ctx context.Context, s *grpcServer, topic bus.Topic, req any) (R, error) {
	var zero R
	l, err := s.listener(topic)
	if err != nil {
		return zero, err
	}
	reply, err := l.Handle(ctx, req)
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return zero, err
		}
		return zero, status.Errorf(codes.Internal, "%s: %v", topic, err)
	}
	resp, ok := reply.(R)
	if !ok {
		return zero, status.Errorf(codes.Internal, "%s: unexpected reply %T", topic, reply)
	}
	return resp, nil
}
