// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package trace_test is the distributed trace suite: a real etcd (embedded in the test process),
// two data nodes and a liaison, each a separate banyand-server process on loopback with its own
// temporary directory. It loads the schema and span fixtures through the liaison and checks that
// the shared query cases answer as on a standalone server, that both data nodes hold data, that a
// killed data node makes the writes of its shards fail promptly and honestly until its lease
// lapses and they move to the other node, that restarting it makes every answer complete again,
// and that a second liaison answers the same.
package trace_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"

	"github.com/apache/skywalking-banyandb/test/helpers"
)

// Timings of the cluster. The lease TTL is the one the cluster issue names; the others bound how
// long the suite waits for something that should take well under a second.
const (
	leaseTTL     = 3 * time.Second
	setupTimeout = 90 * time.Second
	// settleTimeout bounds how long the liaison may take to follow a change of the data nodes.
	settleTimeout = 20 * time.Second
	pollInterval  = 100 * time.Millisecond
	// namespace keeps the suite's keys apart in etcd.
	namespace = "distributed-trace"
)

func TestDistributedTrace(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyPollingInterval(pollInterval)
	RunSpecs(t, "Distributed trace suite")
}

// cluster is the suite's cluster. It is set up once in BeforeSuite; the specs that kill and
// restart a data node or add a liaison run in order (the whole suite is one Ordered container).
type cluster struct {
	etcd     *helpers.Etcd
	data     [2]*helpers.ClusterNode
	liaison  *helpers.ClusterNode
	liaison2 *helpers.ClusterNode
	conn     *grpc.ClientConn
	conn2    *grpc.ClientConn
	// base is the time the span fixtures were written at.
	base time.Time
}

var cl cluster

// nodes returns every node process started so far, for log dumps.
func (c *cluster) nodes() []*helpers.ClusterNode {
	var out []*helpers.ClusterNode
	for _, n := range []*helpers.ClusterNode{c.data[0], c.data[1], c.liaison, c.liaison2} {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

func startLiaison() (*helpers.ClusterNode, *grpc.ClientConn) {
	n, err := helpers.StartClusterNode(helpers.ClusterNodeOptions{
		Role: helpers.RoleLiaison, EtcdURL: cl.etcd.URL, Namespace: namespace,
	})
	Expect(err).NotTo(HaveOccurred())
	conn, err := helpers.Dial(n.Addr)
	Expect(err).NotTo(HaveOccurred())
	return n, conn
}

var _ = BeforeSuite(func() {
	defer dumpLogsOnPanic()
	var err error
	cl.etcd, err = helpers.StartEtcd()
	Expect(err).NotTo(HaveOccurred())
	// The data nodes start together: each takes a second or two to come up.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range cl.data {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cl.data[i], errs[i] = helpers.StartClusterNode(helpers.ClusterNodeOptions{
				Role: helpers.RoleData, EtcdURL: cl.etcd.URL, Namespace: namespace, LeaseTTL: leaseTTL,
			})
		}(i)
	}
	wg.Wait()
	Expect(errs).To(HaveEach(BeNil()))
	cl.liaison, cl.conn = startLiaison()

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	Expect(helpers.LoadSchemas(ctx, cl.conn)).To(Succeed())
	// Write only once the liaison routes to both data nodes and both have the schemas: a span
	// written while the liaison knows one node would put every shard on it.
	waitLiaisonNodes(cl.conn, 2)
	cl.base = helpers.FixtureBase(time.Now())
	Expect(helpers.WriteFixtureSpans(ctx, cl.conn, cl.base)).To(Succeed())
})

var _ = AfterSuite(func() {
	for _, c := range []*grpc.ClientConn{cl.conn, cl.conn2} {
		if c != nil {
			_ = c.Close()
		}
	}
	// Nodes were registered after etcd, so they stop first (etcd waits for open client streams).
	Expect(helpers.CleanupAll()).To(Succeed())
})

// logDumps bounds how many times the node logs are printed, so that a failing table does not
// print them once per entry.
var logDumps struct {
	sync.Mutex
	n int
}

const maxLogDumps = 3

func dumpLogs(why string) {
	logDumps.Lock()
	defer logDumps.Unlock()
	if logDumps.n >= maxLogDumps {
		return
	}
	logDumps.n++
	fmt.Fprintf(GinkgoWriter, "\n######## node logs (%s) ########\n", why)
	for _, n := range cl.nodes() {
		n.DumpLog(GinkgoWriter)
	}
}

// dumpLogsOnPanic prints the node logs when the calling setup fails (Gomega failures panic) and
// lets the failure go on.
func dumpLogsOnPanic() {
	if r := recover(); r != nil {
		dumpLogs("setup failed")
		panic(r)
	}
}

var _ = AfterEach(func() {
	if r := CurrentSpecReport(); r.Failed() {
		dumpLogs(r.FullText())
	}
})
