// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package queue

import (
	"context"
	"sync"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	clusterv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/cluster/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/bus"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// ErrUnknownNode is returned when a message is published to a node the client does not know.
var ErrUnknownNode = errors.New("queue: unknown node")

// Retry and deadline policy of the client. A write is retried only while the node is unreachable
// (codes.Unavailable before the node took the batch), so a retry cannot store a batch twice
// unless the connection broke after the node committed it.
const (
	writeTimeout   = 10 * time.Second
	queryTimeout   = 30 * time.Second
	maxAttempts    = 3
	initialBackoff = 100 * time.Millisecond
	// maxBatchBytes bounds one write RPC; larger batches go out as several, well under the data
	// node's --max-recv-msg-size.
	maxBatchBytes = 8 << 20
)

// chunkBySize splits a batch into consecutive chunks of at most maxBytes encoded bytes (a single
// larger request makes a chunk of its own).
func chunkBySize(reqs []*tracev1.InternalWriteRequest, maxBytes int) [][]*tracev1.InternalWriteRequest {
	var chunks [][]*tracev1.InternalWriteRequest
	start, size := 0, 0
	for i, r := range reqs {
		n := proto.Size(r)
		if i > start && size+n > maxBytes {
			chunks = append(chunks, reqs[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(reqs) {
		chunks = append(chunks, reqs[start:])
	}
	return chunks
}

// GRPCClient is a liaison's end of the queue: it keeps a connection per data node and sends
// batches and queries over the data nodes' internal gRPC endpoints.
type GRPCClient interface {
	Client
	// AddNode connects to a node (or refreshes its address).
	AddNode(n *databasev1.Node)
	// RemoveNode closes the connection of a node.
	RemoveNode(name string)
	// Close closes every connection.
	Close() error
}

type nodeConn struct {
	conn   *grpc.ClientConn
	client clusterv1.TraceQueueServiceClient
	addr   string
}

type grpcClient struct {
	l     *logger.Logger
	conns map[string]*nodeConn
	mu    sync.RWMutex
}

// NewGRPCClient returns a client with no nodes; feed it with AddNode/RemoveNode.
func NewGRPCClient() GRPCClient {
	return &grpcClient{conns: make(map[string]*nodeConn), l: logger.GetLogger("queue", "grpc-client")}
}

func (c *grpcClient) Name() string { return "queue-grpc-client" }

func (c *grpcClient) AddNode(n *databasev1.Node) {
	name, addr := n.GetMetadata().GetName(), n.GetGrpcAddress()
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.conns[name]; ok {
		if old.addr == addr {
			return
		}
		_ = old.conn.Close()
		delete(c.conns, name)
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20), grpc.MaxCallSendMsgSize(256<<20)))
	if err != nil {
		c.l.Error().Err(err).Str("node", name).Str("addr", addr).Msg("failed to set up a connection to a data node")
		return
	}
	c.conns[name] = &nodeConn{conn: conn, client: clusterv1.NewTraceQueueServiceClient(conn), addr: addr}
	c.l.Info().Str("node", name).Str("addr", addr).Msg("data node added")
}

func (c *grpcClient) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.conns[name]; ok {
		_ = old.conn.Close()
		delete(c.conns, name)
		c.l.Info().Str("node", name).Msg("data node removed")
	}
}

func (c *grpcClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for name, nc := range c.conns {
		if cerr := nc.conn.Close(); cerr != nil && err == nil {
			err = errors.Wrapf(cerr, "close connection to %s", name)
		}
		delete(c.conns, name)
	}
	return err
}

func (c *grpcClient) node(name string) (*nodeConn, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	nc, ok := c.conns[name]
	if !ok {
		return nil, errors.Wrapf(ErrUnknownNode, "%s", name)
	}
	return nc, nil
}

// Publish sends a write batch ([]*tracev1.InternalWriteRequest, reply []modelv1.Status) or a
// query (*tracev1.QueryRequest, reply *tracev1.InternalQueryResponse) to a node.
func (c *grpcClient) Publish(ctx context.Context, topic bus.Topic, node string, payload any) (any, error) {
	nc, err := c.node(node)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	switch topic {
	case bus.TopicTraceWrite:
		reqs, ok := payload.([]*tracev1.InternalWriteRequest)
		if !ok {
			return nil, errors.Errorf("queue: topic %s takes []*InternalWriteRequest, got %T", topic, payload)
		}
		statuses := make([]modelv1.Status, 0, len(reqs))
		for _, chunk := range chunkBySize(reqs, maxBatchBytes) {
			var resp *clusterv1.TraceWriteBatchResponse
			err := retry(ctx, func(ctx context.Context) error {
				cctx, cancel := context.WithTimeout(ctx, writeTimeout)
				defer cancel()
				var err error
				resp, err = nc.client.Write(cctx, &clusterv1.TraceWriteBatch{Requests: chunk})
				return err
			})
			if err != nil {
				return nil, errors.Wrapf(err, "write %d spans to node %s", len(chunk), node)
			}
			if len(resp.GetStatuses()) != len(chunk) {
				return nil, errors.Errorf("node %s answered %d statuses for %d spans", node, len(resp.GetStatuses()), len(chunk))
			}
			statuses = append(statuses, resp.GetStatuses()...)
		}
		return statuses, nil
	case bus.TopicTraceQuery:
		req, ok := payload.(*tracev1.QueryRequest)
		if !ok {
			return nil, errors.Errorf("queue: topic %s takes *QueryRequest, got %T", topic, payload)
		}
		cctx, cancel := context.WithTimeout(ctx, queryTimeout)
		defer cancel()
		resp, err := nc.client.Query(cctx, req)
		if err != nil {
			return nil, err
		}
		return resp, nil
	case bus.TopicTraceInspectGroup, bus.TopicTraceDropGroupData, bus.TopicTraceDeleteSegments:
		return c.admin(ctx, topic, nc, payload)
	}
	return nil, errors.Errorf("queue: topic %s is not carried over gRPC", topic)
}

// admin sends an operator's call (inspect a group, drop its data, delete segments) to a node.
func (c *grpcClient) admin(ctx context.Context, topic bus.Topic, nc *nodeConn, payload any) (any, error) {
	cctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var resp any
	var err error
	switch req := payload.(type) {
	case *clusterv1.TraceGroupInspectRequest:
		if topic == bus.TopicTraceInspectGroup {
			resp, err = nc.client.InspectGroup(cctx, req)
			return resp, err
		}
	case *clusterv1.TraceGroupDropDataRequest:
		if topic == bus.TopicTraceDropGroupData {
			resp, err = nc.client.DropGroupData(cctx, req)
			return resp, err
		}
	case *tracev1.DeleteExpiredSegmentsRequest:
		if topic == bus.TopicTraceDeleteSegments {
			resp, err = nc.client.DeleteSegments(cctx, req)
			return resp, err
		}
	}
	return nil, errors.Errorf("queue: topic %s does not take %T", topic, payload)
}

// retry calls f until it succeeds, fails with a code other than Unavailable, or runs out of attempts.
func retry(ctx context.Context, f func(context.Context) error) error {
	backoff := initialBackoff
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = f(ctx)
		if err == nil || status.Code(err) != codes.Unavailable || attempt == maxAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 3
	}
	return err
}
