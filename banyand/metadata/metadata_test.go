// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package metadata

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

type groupRecorder struct {
	names []string
	mu    sync.Mutex
}

func (r *groupRecorder) OnAddOrUpdate(m schema.Metadata) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names = append(r.names, "add "+m.Spec.(*commonv1.Group).GetMetadata().GetName())
}

func (r *groupRecorder) OnDelete(m schema.Metadata) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names = append(r.names, "del "+m.Spec.(*commonv1.Group).GetMetadata().GetName())
}

func (r *groupRecorder) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got := strings.Join(r.names, ",")
		r.mu.Unlock()
		if got == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %q, want %q", got, strings.Join(want, ","))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func group(name string) *commonv1.Group {
	return &commonv1.Group{
		Metadata: &commonv1.Metadata{Name: name},
		Catalog:  commonv1.Catalog_CATALOG_TRACE,
		ResourceOpts: &commonv1.ResourceOpts{
			ShardNum:        1,
			SegmentInterval: &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 1},
			Ttl:             &commonv1.IntervalRule{Unit: commonv1.IntervalRule_UNIT_DAY, Num: 3},
		},
	}
}

func loopbackURL(t *testing.T) string {
	t.Helper()
	u, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func parse(t *testing.T, svc Service, args ...string) {
	t.Helper()
	if err := svc.FlagSet().Parse(args); err != nil {
		t.Fatal(err)
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestEmbeddedServiceLifecycle(t *testing.T) {
	root := t.TempDir()
	svc := NewEmbeddedService()
	if svc.Name() != "metadata" {
		t.Fatalf("name %q", svc.Name())
	}
	parse(t, svc, "--metadata-root-path", root, "--etcd-listen-client-url", loopbackURL(t),
		"--etcd-listen-peer-url", loopbackURL(t), "--namespace", "it")
	if err := svc.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)

	// Registries handed out before PreRun work once it ran; handlers wait for it.
	groups := svc.GroupRegistry()
	if _, err := groups.ListGroup(ctx); !errors.Is(err, schema.ErrClosed) {
		t.Fatalf("before PreRun: %v", err)
	}
	early := &groupRecorder{}
	svc.RegisterHandler("early", []schema.Kind{schema.KindGroup}, early)

	if err := svc.PreRun(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "metadata")); err != nil {
		t.Fatalf("etcd data dir: %v", err)
	}
	stopped := svc.Serve()
	if _, err := groups.CreateGroup(ctx, group("g1")); err != nil {
		t.Fatal(err)
	}
	early.waitFor(t, "add g1")
	late := &groupRecorder{}
	svc.RegisterHandler("late", []schema.Kind{schema.KindGroup}, late)
	late.waitFor(t, "add g1")

	if _, err := svc.TraceRegistry().ListTrace(ctx, schema.ListOpt{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.IndexRuleRegistry().ListIndexRule(ctx, schema.ListOpt{}); !errors.Is(err, schema.ErrBadRequest) {
		t.Fatalf("list rules without group: %v", err)
	}
	if _, err := svc.IndexRuleBindingRegistry().ListIndexRuleBinding(ctx, schema.ListOpt{Group: "g1"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.NodeRegistry().RegisterNode(ctx, &databasev1.Node{Metadata: &commonv1.Metadata{Name: "standalone"},
		Roles: []databasev1.Role{databasev1.Role_ROLE_DATA}}, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	svc.GracefulStop()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("graceful stop took %s", d)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("StopNotify not closed after GracefulStop")
	}
	if _, err := groups.ListGroup(ctx); !errors.Is(err, schema.ErrClosed) {
		t.Fatalf("after stop: %v", err)
	}

	// The data is still there for the next start on the same root.
	again := NewEmbeddedService()
	parse(t, again, "--metadata-root-path", root, "--etcd-listen-client-url", loopbackURL(t),
		"--etcd-listen-peer-url", loopbackURL(t), "--namespace", "it")
	if err := again.PreRun(ctx); err != nil {
		t.Fatal(err)
	}
	defer again.GracefulStop()
	if _, err := again.GroupRegistry().GetGroup(ctx, "g1"); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if nodes, err := again.NodeRegistry().ListNode(ctx, databasev1.Role_ROLE_UNSPECIFIED); err != nil || len(nodes) != 0 {
		t.Fatalf("node outlived its registration: %v %v", nodes, err)
	}
}

func TestEmbeddedFlagDefaults(t *testing.T) {
	svc := NewEmbeddedService()
	parse(t, svc)
	s := svc.(*embeddedService)
	want := embeddedOptions{rootPath: "/tmp", listenClientURL: "http://localhost:2379",
		listenPeerURL: "http://localhost:2380", namespace: "banyandb"}
	if s.opts != want {
		t.Fatalf("defaults %+v, want %+v", s.opts, want)
	}
	if err := svc.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestEmbeddedValidateReportsEveryProblem(t *testing.T) {
	svc := NewEmbeddedService()
	parse(t, svc, "--metadata-root-path=", "--etcd-listen-client-url=localhost:2379",
		"--etcd-listen-peer-url=ftp://x", "--namespace=")
	err := svc.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, flag := range []string{"metadata-root-path", "etcd-listen-client-url", "etcd-listen-peer-url", "namespace"} {
		if !strings.Contains(err.Error(), flag) {
			t.Errorf("error %q does not name --%s", err, flag)
		}
	}
}

func TestClientService(t *testing.T) {
	srv, err := testenv.StartEtcd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := ctxFor(t)

	writer := NewClientService()
	parse(t, writer, "--etcd-endpoints", srv.ClientURL(), "--namespace", "cluster")
	reader := NewClientService()
	parse(t, reader, "--etcd-endpoints", srv.ClientURL(), "--namespace", "cluster")
	for _, svc := range []Service{writer, reader} {
		if err = svc.Validate(); err != nil {
			t.Fatal(err)
		}
		if err = svc.PreRun(ctx); err != nil {
			t.Fatal(err)
		}
		defer svc.GracefulStop()
	}
	rec := &groupRecorder{}
	reader.RegisterHandler("reader", []schema.Kind{schema.KindGroup}, rec)
	if _, err = writer.GroupRegistry().CreateGroup(ctx, group("shared")); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "add shared")
	if _, err = writer.GroupRegistry().DeleteGroup(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "add shared", "del shared")
}

func TestClientServiceUnreachable(t *testing.T) {
	endpoint := loopbackURL(t)
	svc := NewClientService()
	parse(t, svc, "--etcd-endpoints", endpoint, "--etcd-dial-timeout", "300ms")
	if err := svc.Validate(); err != nil {
		t.Fatal(err)
	}
	err := svc.PreRun(ctxFor(t))
	if err == nil || !strings.Contains(err.Error(), endpoint) {
		t.Fatalf("PreRun error %v does not name %s", err, endpoint)
	}
	svc.GracefulStop()
}

func TestClientFlags(t *testing.T) {
	svc := NewClientService()
	parse(t, svc)
	s := svc.(*clientService)
	if strings.Join(s.opts.endpoints, ",") != "http://localhost:2379" || s.opts.namespace != "banyandb" ||
		s.opts.dialTimeout != 5*time.Second {
		t.Fatalf("defaults %+v", s.opts)
	}
	bad := NewClientService()
	parse(t, bad, "--etcd-endpoints", "http://ok:2379,nope", "--etcd-tls-cert-file", "c.pem", "--etcd-dial-timeout", "0s")
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, part := range []string{`"nope"`, "etcd-tls-key-file", "etcd-dial-timeout"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %s", err, part)
		}
	}
}
