// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package cmdsetup

import (
	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/banyand/liaison/auth"
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
	// Auth checks the credentials of the public listeners (nil on a data node).
	Auth *auth.Service
	// Metrics serves /metrics.
	Metrics observability.Service
	// Identity is the node's advertised host.
	Identity *Identity
	// Queue is a data node's internal gRPC endpoint (nil on other roles).
	Queue queue.GRPCServer
}

// standaloneNodeName names the only node of a standalone server.
const standaloneNodeName = "local"

// NewStandalone builds a standalone server: embedded etcd, local storage, the public API.
func NewStandalone() (*Node, error) {
	md := metadata.NewEmbeddedService()
	metrics := observability.NewMetricService(nil)
	pm := protector.NewMemory(metrics, protector.SetGoMemoryLimit())
	traceSvc, err := trace.NewService(md, nil, metrics, pm)
	if err != nil {
		return nil, errors.Wrap(err, "build the trace service")
	}
	// One node: the front door calls the local data side directly.
	plane, selector := queue.NewLocal(traceSvc), node.NewLocalSelector(standaloneNodeName)
	writeMem := grpc.NewWriteMemory(pm, metrics)
	traceServer, err := grpc.NewTraceService(traceSvc, plane, selector, grpc.WithWriteMemory(writeMem))
	if err != nil {
		return nil, errors.Wrap(err, "build the trace API")
	}
	groupData := grpc.NewGroupData(plane, selector, false)
	authn := auth.NewService()
	grpcServer := grpc.NewServer(md, traceServer, grpc.WithAuth(authn), grpc.WithGroupData(groupData))
	id := newIdentity()
	g := run.NewGroup("standalone")
	g.Register(newLogging(), id, md, metrics, pm, writeMem, traceSvc, authn, grpcServer,
		http.NewServer(md, grpcServer.Serving, authn, http.WithRegistries(grpcServer.Registries()), http.WithTraceQuery(traceServer), http.WithBydbQL(grpcServer.BydbQL()), http.WithSnapshot(traceSvc)))
	return &Node{Group: g, Metadata: md, Trace: traceSvc, GRPC: grpcServer, Auth: authn, Metrics: metrics, Identity: id}, nil
}

// NewLiaison builds a liaison: the public API over an external etcd, routing to data nodes.
func NewLiaison() (*Node, error) {
	md := metadata.NewClientService()
	metrics := observability.NewMetricService(nil)
	pm := protector.NewMemory(metrics, protector.SetGoMemoryLimit())
	selector := node.NewRendezvousSelector()
	client := queue.NewGRPCClient()
	watcher := newNodeWatcher(md, selector, client)
	traceSvc, err := trace.NewLiaison(md, metrics, pm)
	if err != nil {
		return nil, errors.Wrap(err, "build the trace service")
	}
	// The front door reaches the data nodes through the gRPC client the watcher keeps in step.
	writeMem := grpc.NewWriteMemory(pm, metrics)
	traceServer, err := grpc.NewTraceService(traceSvc, client, selector, grpc.WithWriteMemory(writeMem))
	if err != nil {
		return nil, errors.Wrap(err, "build the trace API")
	}
	groupData := grpc.NewGroupData(client, selector, true)
	authn := auth.NewService()
	grpcServer := grpc.NewServer(md, traceServer, grpc.WithAuth(authn), grpc.WithGroupData(groupData))
	id := newIdentity()
	g := run.NewGroup("liaison")
	g.Register(newLogging(), id, md, metrics, pm, writeMem, watcher, traceSvc, authn, grpcServer,
		http.NewServer(md, grpcServer.Serving, authn, http.WithRegistries(grpcServer.Registries()), http.WithTraceQuery(traceServer), http.WithBydbQL(grpcServer.BydbQL())))
	return &Node{Group: g, Metadata: md, Trace: traceSvc, GRPC: grpcServer, Auth: authn, Metrics: metrics, Identity: id}, nil
}

// NewData builds a data node: storage for its shards over an external etcd, served to liaisons on
// an internal gRPC endpoint, and registered in etcd while it runs.
func NewData() (*Node, error) {
	md := metadata.NewClientService()
	metrics := observability.NewMetricService(nil)
	pm := protector.NewMemory(metrics, protector.SetGoMemoryLimit())
	server := queue.NewGRPCServer()
	traceSvc, err := trace.NewService(md, server, metrics, pm)
	if err != nil {
		return nil, errors.Wrap(err, "build the trace service")
	}
	id := newIdentity()
	g := run.NewGroup("data")
	g.Register(newLogging(), id, md, metrics, pm, server, traceSvc, newRegistration(md, id, server))
	return &Node{Group: g, Metadata: md, Trace: traceSvc, Metrics: metrics, Identity: id, Queue: server}, nil
}
