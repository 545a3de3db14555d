// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package helpers

import (
	"context"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pkg/errors"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/pkg/cmdsetup"
)

// InProcess is a standalone node running inside the test process, for tests that look at the
// node's services directly (Node.Trace, Node.Metadata) besides its gRPC API.
type InProcess struct {
	// Node is the running node.
	Node *cmdsetup.Node
	// Addr is the node's gRPC address.
	Addr string
	// Dir holds the node's metadata and trace data.
	Dir string

	cancel  context.CancelFunc
	done    chan error
	cleanup func() error
}

// StartInProcess runs a standalone node in this process on random loopback ports with fresh
// directories and returns once it serves. Only one in-process node should run at a time (the
// logger is process-wide). CleanupAll (or Stop) stops it and removes its directory.
func StartInProcess() (*InProcess, error) {
	dir, ports, removeDir, err := TempDirAndPorts("banyand-inprocess-", 2)
	if err != nil {
		return nil, err
	}
	node, err := cmdsetup.NewStandalone()
	if err != nil {
		_ = removeDir()
		return nil, errors.Wrap(err, "helpers: build an in-process standalone node")
	}
	args := []string{
		"--metadata-root-path=" + filepath.Join(dir, "metadata"),
		"--trace-root-path=" + filepath.Join(dir, "trace"),
		"--etcd-listen-client-url=http://127.0.0.1:" + strconv.Itoa(ports[0]),
		"--etcd-listen-peer-url=http://127.0.0.1:" + strconv.Itoa(ports[1]),
		"--grpc-host=127.0.0.1",
		"--grpc-port=0",
		"--observability-listener-addr=",
		"--logging-level=warn",
	}
	if node.Group.RegisterFlags().Lookup("http-port") != nil {
		// The HTTP gateway, when the node has one, must not take its fixed default port.
		args = append(args, "--http-host=127.0.0.1", "--http-port=0")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &InProcess{Node: node, Dir: dir, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- node.Run(ctx, args) }()
	select {
	case <-node.Group.Ready():
	case err := <-p.done:
		cancel()
		_ = removeDir()
		return nil, errors.Wrap(err, "helpers: the in-process node stopped before serving")
	case <-time.After(readyTimeout):
		cancel()
		<-p.done
		_ = removeDir()
		return nil, errors.Errorf("helpers: the in-process node is not serving after %s", readyTimeout)
	}
	p.Addr = node.GRPC.Addr()
	p.cleanup = registerCleanup(func() error {
		p.cancel()
		var runErr error
		select {
		case runErr = <-p.done:
		case <-time.After(stopTimeout):
			runErr = errors.Errorf("helpers: the in-process node did not stop within %s", stopTimeout)
		}
		return multierr.Combine(runErr, removeDir())
	})
	return p, nil
}

// Stop stops the node and removes its directory.
func (p *InProcess) Stop() error {
	return p.cleanup()
}
