// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"os"
	"testing"
	"time"

	grpclib "google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/test/testenv"
	"github.com/apache/skywalking-banyandb/test/testenv/metarepo"
)

// etcdURL is the client URL of the embedded etcd that TestMain starts for the whole package;
// every test gets its own namespace in it.
var etcdURL string

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithEtcd(m, func(srv *embeddedetcd.Server) { etcdURL = srv.ClientURL() }))
}

// testEnv is a gRPC server over a fresh namespace of the package's etcd, with clients.
type testEnv struct {
	repo   *metarepo.Repo
	server Server
	conn   *grpclib.ClientConn

	groups   databasev1.GroupRegistryServiceClient
	traces   databasev1.TraceRegistryServiceClient
	rules    databasev1.IndexRuleRegistryServiceClient
	bindings databasev1.IndexRuleBindingRegistryServiceClient
	common   commonv1.ServiceClient
}

// newTestEnv starts a server on 127.0.0.1:0 over a registry of the test's own; trace may be nil.
// Everything stops at cleanup.
func newTestEnv(t *testing.T, trace FrontDoor) *testEnv {
	t.Helper()
	repo := metarepo.Open(t, etcdURL)
	return dialEnv(t, repo, startServer(t, repo, trace, "--grpc-host=127.0.0.1", "--grpc-port=0"))
}

// dialEnv connects the clients of a testEnv to srv, which serves repo.
func dialEnv(t *testing.T, repo *metarepo.Repo, srv Server) *testEnv {
	t.Helper()
	env := &testEnv{repo: repo, server: srv}
	conn, err := grpclib.NewClient(srv.Addr(), grpclib.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", srv.Addr(), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	env.conn = conn
	env.groups = databasev1.NewGroupRegistryServiceClient(conn)
	env.traces = databasev1.NewTraceRegistryServiceClient(conn)
	env.rules = databasev1.NewIndexRuleRegistryServiceClient(conn)
	env.bindings = databasev1.NewIndexRuleBindingRegistryServiceClient(conn)
	env.common = commonv1.NewServiceClient(conn)
	return env
}

// startServer runs a server unit through its lifecycle with the given flags.
func startServer(t *testing.T, repo metadata.Repo, trace FrontDoor, args ...string) Server {
	t.Helper()
	srv := NewServer(repo, trace)
	testenv.PreRun(t, srv, args...)
	srv.Serve()
	t.Cleanup(srv.GracefulStop)
	return srv
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fixtures are every schema fixture, by kind.
type fixtures struct {
	groups   []*commonv1.Group
	traces   []*databasev1.Trace
	rules    []*databasev1.IndexRule
	bindings []*databasev1.IndexRuleBinding
}

func readFixtures(t *testing.T) fixtures {
	t.Helper()
	return fixtures{
		groups:   testenv.LoadFixtures(t, "schema/groups", func() *commonv1.Group { return &commonv1.Group{} }),
		traces:   testenv.LoadFixtures(t, "schema/traces", func() *databasev1.Trace { return &databasev1.Trace{} }),
		rules:    testenv.LoadFixtures(t, "schema/index_rules", func() *databasev1.IndexRule { return &databasev1.IndexRule{} }),
		bindings: testenv.LoadFixtures(t, "schema/index_rule_bindings", func() *databasev1.IndexRuleBinding { return &databasev1.IndexRuleBinding{} }),
	}
}

// preload creates the fixtures through the services in dependency order, like the upstream
// test harness: groups, traces, index rules, bindings.
func (env *testEnv) preload(t *testing.T, fx fixtures) {
	t.Helper()
	ctx := testContext(t)
	for _, g := range fx.groups {
		if _, err := env.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g}); err != nil {
			t.Fatalf("create group %s: %v", g.GetMetadata().GetName(), err)
		}
	}
	for _, tr := range fx.traces {
		if _, err := env.traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: tr}); err != nil {
			t.Fatalf("create trace %s: %v", tr.GetMetadata(), err)
		}
	}
	for _, r := range fx.rules {
		if _, err := env.rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r}); err != nil {
			t.Fatalf("create index rule %s: %v", r.GetMetadata(), err)
		}
	}
	for _, b := range fx.bindings {
		if _, err := env.bindings.Create(ctx, &databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: b}); err != nil {
			t.Fatalf("create binding %s: %v", b.GetMetadata(), err)
		}
	}
}
