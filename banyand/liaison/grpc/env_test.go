// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	grpclib "google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// etcdURL is the client URL of the embedded etcd that TestMain starts for the whole package;
// every test gets its own namespace in it.
var etcdURL string

func TestMain(m *testing.M) {
	os.Exit(runWithEtcd(m))
}

func runWithEtcd(m *testing.M) int {
	if err := logger.Init(logger.Logging{Level: "warn"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "liaison-grpc-etcd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	clientURL, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	peerURL, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	etcd, err := embeddedetcd.Start(embeddedetcd.Options{Dir: dir, ListenClientURL: clientURL, ListenPeerURL: peerURL})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded etcd:", err)
		return 1
	}
	defer etcd.Close()
	etcdURL = etcd.ClientURL()
	return m.Run()
}

// testRepo is a metadata.Repo over one registry, counting the writes that reach it.
type testRepo struct {
	schema.Registry
	writes atomic.Int64
}

func (r *testRepo) GroupRegistry() schema.Group                       { return r }
func (r *testRepo) TraceRegistry() schema.Trace                       { return r }
func (r *testRepo) IndexRuleRegistry() schema.IndexRule               { return r }
func (r *testRepo) IndexRuleBindingRegistry() schema.IndexRuleBinding { return r }
func (r *testRepo) NodeRegistry() schema.Node                         { return r }

func (r *testRepo) CreateGroup(ctx context.Context, g *commonv1.Group) (int64, error) {
	r.writes.Add(1)
	return r.Registry.CreateGroup(ctx, g)
}

func (r *testRepo) UpdateGroup(ctx context.Context, g *commonv1.Group) (int64, error) {
	r.writes.Add(1)
	return r.Registry.UpdateGroup(ctx, g)
}

func (r *testRepo) DeleteGroup(ctx context.Context, name string) (bool, error) {
	r.writes.Add(1)
	return r.Registry.DeleteGroup(ctx, name)
}

func (r *testRepo) CreateTrace(ctx context.Context, t *databasev1.Trace) (int64, error) {
	r.writes.Add(1)
	return r.Registry.CreateTrace(ctx, t)
}

func (r *testRepo) UpdateTrace(ctx context.Context, t *databasev1.Trace) (int64, error) {
	r.writes.Add(1)
	return r.Registry.UpdateTrace(ctx, t)
}

func (r *testRepo) DeleteTrace(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	r.writes.Add(1)
	return r.Registry.DeleteTrace(ctx, md)
}

func (r *testRepo) CreateIndexRule(ctx context.Context, rule *databasev1.IndexRule) (int64, error) {
	r.writes.Add(1)
	return r.Registry.CreateIndexRule(ctx, rule)
}

func (r *testRepo) UpdateIndexRule(ctx context.Context, rule *databasev1.IndexRule) (int64, error) {
	r.writes.Add(1)
	return r.Registry.UpdateIndexRule(ctx, rule)
}

func (r *testRepo) DeleteIndexRule(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	r.writes.Add(1)
	return r.Registry.DeleteIndexRule(ctx, md)
}

func (r *testRepo) CreateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	r.writes.Add(1)
	return r.Registry.CreateIndexRuleBinding(ctx, b)
}

func (r *testRepo) UpdateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	r.writes.Add(1)
	return r.Registry.UpdateIndexRuleBinding(ctx, b)
}

func (r *testRepo) DeleteIndexRuleBinding(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	r.writes.Add(1)
	return r.Registry.DeleteIndexRuleBinding(ctx, md)
}

// testEnv is a gRPC server over a fresh namespace of the package's etcd, with clients.
type testEnv struct {
	repo   *testRepo
	server Server
	conn   *grpclib.ClientConn

	groups   databasev1.GroupRegistryServiceClient
	traces   databasev1.TraceRegistryServiceClient
	rules    databasev1.IndexRuleRegistryServiceClient
	bindings databasev1.IndexRuleBindingRegistryServiceClient
	common   commonv1.ServiceClient
}

var nonKeyChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// newTestEnv starts a server on 127.0.0.1:0; trace may be nil. Everything stops at cleanup.
func newTestEnv(t *testing.T, trace tracev1.TraceServiceServer) *testEnv {
	t.Helper()
	reg, err := schema.NewEtcdRegistry(schema.EtcdOptions{
		Endpoints: []string{etcdURL},
		Namespace: "liaison-test/" + nonKeyChars.ReplaceAllString(t.Name(), "_") + fmt.Sprintf("-%d", time.Now().UnixNano()),
	})
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	env := &testEnv{repo: &testRepo{Registry: reg}}
	env.server = startServer(t, env.repo, trace, "--grpc-host=127.0.0.1", "--grpc-port=0")

	conn, err := grpclib.NewClient(env.server.Addr(), grpclib.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", env.server.Addr(), err)
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
func startServer(t *testing.T, repo *testRepo, trace tracev1.TraceServiceServer, args ...string) Server {
	t.Helper()
	srv := NewServer(repo, trace)
	if err := srv.FlagSet().Parse(args); err != nil {
		t.Fatalf("flags: %v", err)
	}
	if err := srv.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if err := srv.PreRun(context.Background()); err != nil {
		t.Fatalf("pre-run: %v", err)
	}
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

// fixtureDir is <repo>/../shared/testdata/schema, found by walking up to go.mod.
func fixtureDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	fixtures := filepath.Join(dir, "pkg", "test", "trace", "testdata", "schema")
	if _, err := os.Stat(fixtures); err != nil {
		t.Skipf("schema fixtures not available: %v", err)
	}
	return fixtures
}

// loadFixtures reads every file of <fixtures>/<kind> into a fresh message made by newMsg.
func loadFixtures[T proto.Message](t *testing.T, kind string, newMsg func() T) []T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir(t), kind, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s fixtures: %v", kind, err)
	}
	out := make([]T, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := newMsg()
		if err := protojson.Unmarshal(data, m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, m)
	}
	return out
}

type fixtures struct {
	groups   []*commonv1.Group
	traces   []*databasev1.Trace
	rules    []*databasev1.IndexRule
	bindings []*databasev1.IndexRuleBinding
}

func readFixtures(t *testing.T) fixtures {
	t.Helper()
	return fixtures{
		groups:   loadFixtures(t, "groups", func() *commonv1.Group { return &commonv1.Group{} }),
		traces:   loadFixtures(t, "traces", func() *databasev1.Trace { return &databasev1.Trace{} }),
		rules:    loadFixtures(t, "index_rules", func() *databasev1.IndexRule { return &databasev1.IndexRule{} }),
		bindings: loadFixtures(t, "index_rule_bindings", func() *databasev1.IndexRuleBinding { return &databasev1.IndexRuleBinding{} }),
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
