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
	"github.com/apache/skywalking-banyandb/banyand/protector"
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
	// MaxNodeAnswerBytes is the largest answer a liaison accepts from a data node (and so the
	// bound a data node keeps its answer of offset+limit traces within).
	MaxNodeAnswerBytes = 256 << 20
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

// GRPCClient is a liaison's data plane: it keeps a connection per data node and sends batches
// and queries over the data nodes' internal gRPC endpoints.
type GRPCClient interface {
	DataPlane
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
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxNodeAnswerBytes), grpc.MaxCallSendMsgSize(256<<20)))
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

// Write sends a batch to a node in RPCs of at most maxBatchBytes, each retried while the node is
// unreachable, with the schema revision each span was validated against.
func (c *grpcClient) Write(ctx context.Context, node string, batch []Span) ([]modelv1.Status, error) {
	nc, err := c.node(node)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	reqs := make([]*tracev1.InternalWriteRequest, len(batch))
	for i := range batch {
		reqs[i] = &tracev1.InternalWriteRequest{ShardId: batch[i].Shard, Request: batch[i].Request}
	}
	statuses := make([]modelv1.Status, 0, len(batch))
	sent := 0
	for _, chunk := range chunkBySize(reqs, maxBatchBytes) {
		revisions := make([]int64, len(chunk))
		for i := range chunk {
			revisions[i] = batch[sent+i].Revision
		}
		sent += len(chunk)
		var resp *clusterv1.TraceWriteBatchResponse
		err := retry(ctx, func(ctx context.Context) error {
			cctx, cancel := context.WithTimeout(ctx, writeTimeout)
			defer cancel()
			var err error
			resp, err = nc.client.Write(cctx, &clusterv1.TraceWriteBatch{Requests: chunk, SchemaRevisions: revisions})
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
}

// Query sends a normalized query to a node; the node's errors keep their gRPC codes.
func (c *grpcClient) Query(ctx context.Context, node string, req *tracev1.QueryRequest) (*tracev1.InternalQueryResponse, error) {
	nc, err := c.node(node)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	cctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	resp, err := nc.client.Query(cctx, req)
	if err != nil {
		return nil, err
	}
	// The decoded answer lives on this node until the caller's query ends: it is charged to the
	// query's account, if the context carries one.
	if a, ok := protector.AccountFrom(ctx); ok {
		if err := a.Grow(ctx, uint64(proto.Size(resp))); err != nil {
			return nil, status.Errorf(codes.ResourceExhausted,
				"the answers of the data nodes need more memory than this node may reserve for the query; narrow the query or page with limit/offset: %v", err)
		}
	}
	return resp, nil
}

// InspectGroup asks a node for its segments of a group; the node's errors keep their gRPC codes.
func (c *grpcClient) InspectGroup(ctx context.Context, node, group string) (*clusterv1.TraceGroupInspectResponse, error) {
	nc, err := c.node(node)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	cctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	return nc.client.InspectGroup(cctx, &clusterv1.TraceGroupInspectRequest{Group: group})
}

// DropGroupData asks a node to delete every segment of a group and answers the bytes they took.
func (c *grpcClient) DropGroupData(ctx context.Context, node, group string) (int64, error) {
	nc, err := c.node(node)
	if err != nil {
		return 0, status.Error(codes.Unavailable, err.Error())
	}
	cctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	resp, err := nc.client.DropGroupData(cctx, &clusterv1.TraceGroupDropDataRequest{Group: group})
	if err != nil {
		return 0, err
	}
	return resp.GetDataSizeBytes(), nil
}

// DeleteSegments asks a node to delete the listed expired segments of a group.
func (c *grpcClient) DeleteSegments(ctx context.Context, node, group string, suffixes []string) (int64, error) {
	nc, err := c.node(node)
	if err != nil {
		return 0, status.Error(codes.Unavailable, err.Error())
	}
	cctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	resp, err := nc.client.DeleteSegments(cctx, &tracev1.DeleteExpiredSegmentsRequest{Group: group, SegmentSuffixes: suffixes})
	if err != nil {
		return 0, err
	}
	return resp.GetDeleted(), nil
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
