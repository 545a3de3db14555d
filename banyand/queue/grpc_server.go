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
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	clusterv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/cluster/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/netserver"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// DefaultServerPort is the port of a data node's internal gRPC endpoint, as upstream's.
const DefaultServerPort = 17912

// GRPCServer is a data node's end of the data plane: an internal gRPC service that hands the
// batches and queries of liaisons to the node's Handler.
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
	handler Handler
	fs      *run.FlagSet
	lis     *netserver.Listener
	health  *health.Server
	l       *logger.Logger
	host    string
	mu      sync.RWMutex
	maxRecv run.Bytes
	port    uint32
}

// NewGRPCServer returns the internal gRPC endpoint of a data node (flags --grpc-host, --grpc-port).
func NewGRPCServer() GRPCServer {
	l := logger.GetLogger("queue", "grpc-server")
	s := &grpcServer{l: l, lis: netserver.New(l, 10*time.Second), maxRecv: 64 << 20}
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

// Handle makes h the handler of the batches and queries that arrive.
func (s *grpcServer) Handle(h Handler) error {
	if h == nil {
		return errors.New("queue: nil handler")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handler != nil {
		return errors.New("queue: the internal endpoint already has a handler")
	}
	s.handler = h
	return nil
}

func (s *grpcServer) loadHandler() (Handler, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.handler == nil {
		return nil, status.Error(codes.Unavailable, "the node's data side is not ready yet")
	}
	return s.handler, nil
}

func (s *grpcServer) PreRun(context.Context) error {
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(int(s.maxRecv)))
	clusterv1.RegisterTraceQueueServiceServer(srv, s)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(srv, s.health)
	return s.lis.Bind(net.JoinHostPort(s.host, strconv.FormatUint(uint64(s.port), 10)), netserver.GRPC(srv))
}

func (s *grpcServer) Addr() string {
	return s.lis.Addr()
}

func (s *grpcServer) Serve() run.StopNotify {
	return s.lis.Serve()
}

func (s *grpcServer) GracefulStop() {
	if s.health != nil {
		s.health.Shutdown()
	}
	s.lis.GracefulStop()
}

// Write hands a batch to the handler. A span whose schema revision came along keeps it, so that
// the handler can trust the liaison's validation when it has the same revision loaded.
func (s *grpcServer) Write(ctx context.Context, b *clusterv1.TraceWriteBatch) (*clusterv1.TraceWriteBatchResponse, error) {
	h, err := s.loadHandler()
	if err != nil {
		return nil, err
	}
	reqs, revisions := b.GetRequests(), b.GetSchemaRevisions()
	batch := make([]Span, len(reqs))
	for i, r := range reqs {
		batch[i] = Span{Request: r.GetRequest(), Shard: r.GetShardId()}
		if len(revisions) == len(reqs) {
			batch[i].Revision = revisions[i]
		}
	}
	statuses, err := h.WriteSpans(ctx, batch)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "write batch: %v", err)
	}
	return &clusterv1.TraceWriteBatchResponse{Statuses: statuses}, nil
}

// Query hands a query to the handler; its errors keep their gRPC codes.
func (s *grpcServer) Query(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.InternalQueryResponse, error) {
	h, err := s.loadHandler()
	if err != nil {
		return nil, err
	}
	resp, err := h.QueryTraces(ctx, req)
	if err != nil {
		// Handlers that know the class of their errors return status errors; the rest are internal.
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Errorf(codes.Internal, "query: %v", err)
	}
	return resp, nil
}

// InspectGroup hands a group inspection to the handler; its errors keep their gRPC codes.
func (s *grpcServer) InspectGroup(ctx context.Context, req *clusterv1.TraceGroupInspectRequest) (*clusterv1.TraceGroupInspectResponse, error) {
	h, err := s.loadHandler()
	if err != nil {
		return nil, err
	}
	resp, err := h.InspectGroup(ctx, req.GetGroup())
	if err != nil {
		return nil, asStatus(err, "inspect group")
	}
	return resp, nil
}

// DropGroupData hands the deletion of a group's data to the handler.
func (s *grpcServer) DropGroupData(ctx context.Context, req *clusterv1.TraceGroupDropDataRequest) (*clusterv1.TraceGroupDropDataResponse, error) {
	h, err := s.loadHandler()
	if err != nil {
		return nil, err
	}
	n, err := h.DropGroupData(ctx, req.GetGroup())
	if err != nil {
		return nil, asStatus(err, "drop group data")
	}
	return &clusterv1.TraceGroupDropDataResponse{DataSizeBytes: n}, nil
}

// DeleteSegments hands the deletion of listed segments to the handler.
func (s *grpcServer) DeleteSegments(ctx context.Context, req *tracev1.DeleteExpiredSegmentsRequest) (*tracev1.DeleteExpiredSegmentsResponse, error) {
	h, err := s.loadHandler()
	if err != nil {
		return nil, err
	}
	n, err := h.DeleteSegments(ctx, req.GetGroup(), req.GetSegmentSuffixes())
	if err != nil {
		return nil, asStatus(err, "delete segments")
	}
	return &tracev1.DeleteExpiredSegmentsResponse{Deleted: n}, nil
}

// asStatus keeps the gRPC code of a handler's status error and makes any other error Internal.
func asStatus(err error, what string) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Errorf(codes.Internal, "%s: %v", what, err)
}
