// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package hostile_test is the hostile-client suite: careless and malicious requests against a
// real banyand-server standalone process (random loopback ports, temporary directories). Each
// spec states what a client must see and checks that nothing else was lost.
//
// Setup for new specs: startServer gives a container a fresh server with its clients,
// createGroup copies a fixture group under a new name, and swSpan/writeOne/queryByID write and
// read spans of the fixture "sw" trace schema.
package hostile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

func TestHostile(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Hostile client suite")
}

var _ = BeforeSuite(func() {
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	// Build once up front, so that the first spec's timeouts do not include the build.
	_, err := helpers.BuildServer()
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	Expect(helpers.CleanupAll()).To(Succeed())
})

// server is a running standalone server with a connection and the API clients over it.
type server struct {
	*helpers.Server
	conn     *grpc.ClientConn
	groups   databasev1.GroupRegistryServiceClient
	traces   databasev1.TraceRegistryServiceClient
	rules    databasev1.IndexRuleRegistryServiceClient
	bindings databasev1.IndexRuleBindingRegistryServiceClient
	trace    tracev1.TraceServiceClient
}

// startServer starts a fresh server for the calling container (call it from BeforeAll or
// BeforeEach). Its log is printed when a spec fails; it is stopped and removed when the
// container ends.
func startServer(opts helpers.ServerOptions) *server {
	srv, err := helpers.StartServer(opts)
	Expect(err).NotTo(HaveOccurred())
	s := &server{Server: srv}
	s.connect()
	DeferCleanup(func() {
		if s.conn != nil {
			Expect(s.conn.Close()).To(Succeed())
		}
		Expect(srv.Cleanup()).To(Succeed())
	})
	return s
}

// connect (re)dials the server and builds the clients.
func (s *server) connect() {
	if s.conn != nil {
		_ = s.conn.Close()
	}
	conn, err := helpers.Dial(s.Addr)
	Expect(err).NotTo(HaveOccurred())
	s.conn = conn
	s.groups = databasev1.NewGroupRegistryServiceClient(conn)
	s.traces = databasev1.NewTraceRegistryServiceClient(conn)
	s.rules = databasev1.NewIndexRuleRegistryServiceClient(conn)
	s.bindings = databasev1.NewIndexRuleBindingRegistryServiceClient(conn)
	s.trace = tracev1.NewTraceServiceClient(conn)
}

// restart stops the server gracefully, starts it on the same directories and reconnects.
func (s *server) restart() {
	Expect(s.Restart()).To(Succeed())
	s.connect()
}

// dumpOnFailure prints the server's log after a failed spec of the calling container.
func dumpOnFailure(s func() *server) {
	AfterEach(func() {
		if CurrentSpecReport().Failed() && s() != nil {
			s().DumpLog(GinkgoWriter)
		}
	})
}

// dataRoot is the trace data directory of the server: every group's directory is directly in it.
func (s *server) dataRoot() string {
	return filepath.Join(s.Dir, "trace", "trace", "data")
}

// segmentDirs returns the names of the segment directories of a group on disk.
func (s *server) segmentDirs(group string) []string {
	entries, err := os.ReadDir(filepath.Join(s.dataRoot(), group))
	if os.IsNotExist(err) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "seg-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// createGroup creates a private copy, named to, of fixture group from with its traces, index
// rules and bindings.
func (s *server) createGroup(ctx context.Context, from, to string) {
	Expect(helpers.CreateGroupCopy(ctx, s.conn, from, to)).To(Succeed())
}

// fixtureSchemas returns the schema fixtures.
func fixtureSchemas() *helpers.Schemas {
	sc, err := helpers.ReadSchemas()
	Expect(err).NotTo(HaveOccurred())
	return sc
}
