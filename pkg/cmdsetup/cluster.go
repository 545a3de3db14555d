// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package cmdsetup

import (
	"context"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/node"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// defaultLeaseTTL is how long a data node stays registered after it stops renewing its lease.
const defaultLeaseTTL = 5 * time.Second

// registration registers a data node in etcd under a lease it keeps alive while it serves.
type registration struct {
	md       metadata.Repo
	id       *Identity
	server   queue.GRPCServer
	l        *logger.Logger
	fs       *run.FlagSet
	cancel   context.CancelFunc
	stopCh   chan struct{}
	labels   map[string]string
	leaseTTL time.Duration
	once     sync.Once
}

func newRegistration(md metadata.Repo, id *Identity, server queue.GRPCServer) *registration {
	r := &registration{md: md, id: id, server: server, stopCh: make(chan struct{})}
	r.fs = run.NewFlagSet("registration")
	r.fs.StringToStringVar(&r.labels, "node-labels", nil, "labels of the data node, e.g. zone=a,tier=hot; liaisons pick nodes by them")
	r.fs.DurationVar(&r.leaseTTL, "node-lease-ttl", defaultLeaseTTL,
		"how long the node stays registered after it stops renewing its lease (a dead node's shards move after it)")
	return r
}

func (r *registration) Name() string { return "node-registration" }

func (r *registration) FlagSet() *run.FlagSet { return r.fs }

func (r *registration) Validate() error {
	if r.leaseTTL < time.Second {
		return errors.Errorf("--node-lease-ttl must be at least 1s, got %s", r.leaseTTL)
	}
	return nil
}

// Serve registers the node; the registration lives until GracefulStop.
func (r *registration) Serve() run.StopNotify {
	r.l = logger.GetLogger("node-registration")
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	_, port, err := net.SplitHostPort(r.server.Addr())
	if err != nil {
		r.l.Error().Err(err).Str("addr", r.server.Addr()).Msg("cannot tell the node's port")
		r.once.Do(func() { close(r.stopCh) })
		return r.stopCh
	}
	addr := net.JoinHostPort(r.id.Host(), port)
	n := &databasev1.Node{
		Metadata:    &commonv1.Metadata{Name: addr},
		Roles:       []databasev1.Role{databasev1.Role_ROLE_DATA},
		GrpcAddress: addr,
		CreatedAt:   timestamppb.Now(),
		Labels:      r.labels,
	}
	if err := r.md.NodeRegistry().RegisterNode(ctx, n, r.leaseTTL); err != nil {
		r.l.Error().Err(err).Str("node", addr).Msg("failed to register the data node")
		r.once.Do(func() { close(r.stopCh) })
		return r.stopCh
	}
	r.l.Info().Str("node", addr).Dur("lease_ttl", r.leaseTTL).Msg("data node registered")
	return r.stopCh
}

func (r *registration) GracefulStop() {
	if r.cancel != nil {
		r.cancel()
	}
	r.once.Do(func() { close(r.stopCh) })
}

// nodeWatcher follows the data nodes registered in etcd and keeps the liaison's node selector
// and queue client in step with them.
type nodeWatcher struct {
	md       metadata.Repo
	selector node.Selector
	client   queue.GRPCClient
	l        *logger.Logger
	fs       *run.FlagSet
	want     map[string]string
	selStr   string
	mu       sync.Mutex
}

func newNodeWatcher(md metadata.Repo, selector node.Selector, client queue.GRPCClient) *nodeWatcher {
	w := &nodeWatcher{md: md, selector: selector, client: client}
	w.fs = run.NewFlagSet("data-nodes")
	w.fs.StringVar(&w.selStr, "data-node-selector", "", "a label selector (k=v,k2=v2) that picks the data nodes this liaison uses; empty picks all")
	return w
}

func (w *nodeWatcher) Name() string { return "data-node-watcher" }

func (w *nodeWatcher) FlagSet() *run.FlagSet { return w.fs }

func (w *nodeWatcher) Validate() error {
	want, err := parseSelector(w.selStr)
	if err != nil {
		return err
	}
	w.want = want
	return nil
}

// parseSelector reads "k=v,k2=v2"; every pair must match a node's labels.
func parseSelector(s string) (map[string]string, error) {
	out := make(map[string]string)
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" {
			return nil, errors.Errorf("--data-node-selector: %q is not key=value", part)
		}
		out[k] = v
	}
	return out, nil
}

func (w *nodeWatcher) PreRun(context.Context) error {
	w.l = logger.GetLogger("data-node-watcher")
	w.md.RegisterHandler("liaison-data-nodes", []schema.Kind{schema.KindNode}, w)
	return nil
}

func (w *nodeWatcher) matches(n *databasev1.Node) bool {
	isData := false
	for _, r := range n.GetRoles() {
		if r == databasev1.Role_ROLE_DATA {
			isData = true
		}
	}
	if !isData {
		return false
	}
	for k, v := range w.want {
		if n.GetLabels()[k] != v {
			return false
		}
	}
	return true
}

// OnAddOrUpdate adds a data node that matches the selector.
func (w *nodeWatcher) OnAddOrUpdate(m schema.Metadata) {
	n, ok := m.Spec.(*databasev1.Node)
	if !ok || !w.matches(n) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.client.AddNode(n)
	w.selector.AddNode(n)
	w.l.Info().Str("node", n.GetMetadata().GetName()).Strs("live", w.selector.Nodes()).Msg("data node joined")
}

// OnDelete removes a data node whose registration lapsed or was removed.
func (w *nodeWatcher) OnDelete(m schema.Metadata) {
	n, ok := m.Spec.(*databasev1.Node)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.selector.RemoveNode(n)
	w.client.RemoveNode(n.GetMetadata().GetName())
	live := w.selector.Nodes()
	sort.Strings(live)
	w.l.Warn().Str("node", n.GetMetadata().GetName()).Strs("live", live).Msg("data node left")
}
