// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package cmdsetup

import (
	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/banyand/liaison/grpc"
	"github.com/apache/skywalking-banyandb/banyand/liaison/http"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/banyand/trace"
	"github.com/apache/skywalking-banyandb/pkg/node"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// Node is the units of one role, registered in one group.
type Node struct {
	// Group runs the units in order.
	Group *run.Group
	// Metadata is the node's metadata unit.
	Metadata metadata.Service
	// Trace is the node's trace service.
	Trace trace.Service
	// GRPC is the public gRPC server (nil on a data node).
	GRPC grpc.Server
	// Metrics serves /metrics.
	Metrics observability.Service
	// Identity is the node's advertised host.
	Identity *Identity
	// Queue is a data node's internal gRPC endpoint (nil on other roles).
	Queue queue.GRPCServer
}

// NewStandalone builds a standalone server: embedded etcd, local storage, the public API.
func NewStandalone() (*Node, error) {
	md := metadata.NewEmbeddedService()
	metrics := observability.NewMetricService(nil)
	pm := protector.NewMemory(metrics)
	pipeline := queue.NewLocal()
	traceSvc, err := trace.NewService(md, pipeline, pipeline, metrics, pm)
	if err != nil {
		return nil, errors.Wrap(err, "build the trace service")
	}
	traceServer, err := trace.NewTraceServer(traceSvc)
	if err != nil {
		return nil, errors.Wrap(err, "build the trace API")
	}
	groupData, err := trace.NewGroupData(traceSvc)
	if err != nil {
		return nil, errors.Wrap(err, "build the group data")
	}
	grpcServer := grpc.NewServer(md, traceServer, grpc.WithGroupData(groupData))
	id := newIdentity()
	g := run.NewGroup("standalone")
	httpOpts := []http.Option{http.WithTraceQuery(traceServer)}
	if snap, ok := traceSvc.(trace.Snapshotter); ok {
		httpOpts = append(httpOpts, http.WithSnapshot(snap))
	}
	g.Register(newLogging(), id, md, metrics, pm, traceSvc, grpcServer, http.NewServer(md, grpcServer.Serving, httpOpts...))
	return &Node{Group: g, Metadata: md, Trace: traceSvc, GRPC: grpcServer, Metrics: metrics, Identity: id}, nil
}

// NewLiaison builds a liaison: the public API over an external etcd, routing to data nodes.
func NewLiaison() (*Node, error) {
	md := metadata.NewClientService()
	metrics := observability.NewMetricService(nil)
	pm := protector.NewMemory(metrics)
	pipeline := queue.NewLocal()
	selector := node.NewRendezvousSelector()
	client := queue.NewGRPCClient()
	watcher := newNodeWatcher(md, selector, client)
	traceSvc, err := trace.NewLiaison(md, pipeline, client, metrics, pm, selector, watcher)
	if err != nil {
		return nil, errors.Wrap(err, "build the trace service")
	}
	traceServer, err := trace.NewTraceServer(traceSvc)
	if err != nil {
		return nil, errors.Wrap(err, "build the trace API")
	}
	groupData, err := trace.NewGroupData(traceSvc)
	if err != nil {
		return nil, errors.Wrap(err, "build the group data")
	}
	grpcServer := grpc.NewServer(md, traceServer, grpc.WithGroupData(groupData))
	id := newIdentity()
	g := run.NewGroup("liaison")
	g.Register(newLogging(), id, md, metrics, pm, watcher, traceSvc, grpcServer,
		http.NewServer(md, grpcServer.Serving, http.WithTraceQuery(traceServer)))
	return &Node{Group: g, Metadata: md, Trace: traceSvc, GRPC: grpcServer, Metrics: metrics, Identity: id}, nil
}

// NewData builds a data node: storage for its shards over an external etcd, served to liaisons on
// an internal gRPC endpoint, and registered in etcd while it runs.
func NewData() (*Node, error) {
	md := metadata.NewClientService()
	metrics := observability.NewMetricService(nil)
	pm := protector.NewMemory(metrics)
	local := queue.NewLocal()
	server := queue.NewGRPCServer()
	traceSvc, err := trace.NewService(md, server, local, metrics, pm)
	if err != nil {
		return nil, errors.Wrap(err, "build the trace service")
	}
	id := newIdentity()
	g := run.NewGroup("data")
	g.Register(newLogging(), id, md, metrics, pm, server, traceSvc, newRegistration(md, id, server))
	return &Node{Group: g, Metadata: md, Trace: traceSvc, Metrics: metrics, Identity: id, Queue: server}, nil
}
