// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package trace_test is the standalone trace suite: it runs banyand-server standalone as a child
// process on random loopback ports with its data in temporary directories, creates the schema
// fixtures, writes the span fixtures and checks the registry, the write stream and the queries
// through gRPC. Specs that stop, kill or reconfigure a server get a server of their own; the shared
// one keeps the fixtures the query table reads.
package trace_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"

	"github.com/apache/skywalking-banyandb/test/helpers"
)

// setupTimeout bounds the suite's setup: building the server, starting it and writing fixtures.
const setupTimeout = 5 * time.Minute

var (
	// shared is the server holding the schema and span fixtures.
	shared *helpers.Server
	// sharedConn is a connection to shared.
	sharedConn *grpc.ClientConn
	// fixtureBase is the time the span fixtures were written at.
	fixtureBase time.Time
)

func TestStandaloneTrace(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Standalone trace suite")
}

var _ = BeforeSuite(func() {
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	var err error
	shared, err = helpers.StartServer(helpers.ServerOptions{})
	Expect(err).NotTo(HaveOccurred())
	sharedConn, err = helpers.Dial(shared.Addr)
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	Expect(helpers.LoadSchemas(ctx, sharedConn)).To(Succeed())
	fixtureBase = helpers.FixtureBase(time.Now())
	Expect(helpers.WriteFixtureSpans(ctx, sharedConn, fixtureBase)).To(Succeed())
})

var _ = AfterSuite(func() {
	if sharedConn != nil {
		Expect(sharedConn.Close()).To(Succeed())
	}
	Expect(helpers.CleanupAll()).To(Succeed())
})

// Print the shared server's log after a failed spec.
var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() && shared != nil {
		shared.DumpLog(GinkgoWriter)
	}
})

// startOwnServer starts a server for one container; its log is printed if a spec fails, and it is
// stopped and removed when the container ends.
func startOwnServer() (*helpers.Server, *grpc.ClientConn) {
	srv, err := helpers.StartServer(helpers.ServerOptions{})
	Expect(err).NotTo(HaveOccurred())
	conn, err := helpers.Dial(srv.Addr)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		Expect(conn.Close()).To(Succeed())
		Expect(srv.Cleanup()).To(Succeed())
	})
	return srv, conn
}

// dumpOnFailure prints srv's log after a failed spec of the calling container.
func dumpOnFailure(srv func() *helpers.Server) {
	AfterEach(func() {
		if CurrentSpecReport().Failed() && srv() != nil {
			srv().DumpLog(GinkgoWriter)
		}
	})
}

// testCtx returns a context for one spec step.
func testCtx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	DeferCleanup(cancel)
	return ctx
}
