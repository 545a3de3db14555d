// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package metarepo is the metadata repository of the unit tests: a metadata.Repo over one real
// etcd registry (in a namespace of the test's own), counting the writes that reach it, so that a
// test can tell a request refused before the registry from one the registry answered.
package metarepo

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

// Repo is a metadata.Repo over one registry that counts the create, update and delete calls.
type Repo struct {
	schema.Registry
	writes atomic.Int64
}

var _ metadata.Repo = (*Repo)(nil)

// New wraps reg.
func New(reg schema.Registry) *Repo {
	return &Repo{Registry: reg}
}

// Open opens a registry on the etcd at endpoint in a namespace of the test's own and closes it
// when the test ends.
func Open(t testing.TB, endpoint string) *Repo {
	t.Helper()
	reg, err := schema.NewEtcdRegistry(schema.EtcdOptions{
		Endpoints: []string{endpoint}, Namespace: testenv.Namespace(t), DialTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("open the registry on %s: %v", endpoint, err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return New(reg)
}

// counted counts one write and makes it.
func counted[A, R any](ctx context.Context, r *Repo, write func(context.Context, A) (R, error), a A) (R, error) {
	r.writes.Add(1)
	return write(ctx, a)
}

// Writes returns how many create, update and delete calls reached the registry.
func (r *Repo) Writes() int64 { return r.writes.Load() }

// GroupRegistry returns the repository itself, which counts the writes.
func (r *Repo) GroupRegistry() schema.Group { return r }

// TraceRegistry returns the repository itself, which counts the writes.
func (r *Repo) TraceRegistry() schema.Trace { return r }

// IndexRuleRegistry returns the repository itself, which counts the writes.
func (r *Repo) IndexRuleRegistry() schema.IndexRule { return r }

// IndexRuleBindingRegistry returns the repository itself, which counts the writes.
func (r *Repo) IndexRuleBindingRegistry() schema.IndexRuleBinding { return r }

// NodeRegistry returns the repository itself.
func (r *Repo) NodeRegistry() schema.Node { return r }

// DeletionTaskRegistry returns the repository itself.
func (r *Repo) DeletionTaskRegistry() schema.DeletionTask { return r }

// CreateGroup counts the write and passes it on.
func (r *Repo) CreateGroup(ctx context.Context, g *commonv1.Group) (int64, error) {
	return counted(ctx, r, r.Registry.CreateGroup, g)
}

// UpdateGroup counts the write and passes it on.
func (r *Repo) UpdateGroup(ctx context.Context, g *commonv1.Group) (int64, error) {
	return counted(ctx, r, r.Registry.UpdateGroup, g)
}

// DeleteGroup counts the write and passes it on.
func (r *Repo) DeleteGroup(ctx context.Context, name string) (bool, error) {
	return counted(ctx, r, r.Registry.DeleteGroup, name)
}

// CreateTrace counts the write and passes it on.
func (r *Repo) CreateTrace(ctx context.Context, t *databasev1.Trace) (int64, error) {
	return counted(ctx, r, r.Registry.CreateTrace, t)
}

// UpdateTrace counts the write and passes it on.
func (r *Repo) UpdateTrace(ctx context.Context, t *databasev1.Trace) (int64, error) {
	return counted(ctx, r, r.Registry.UpdateTrace, t)
}

// DeleteTrace counts the write and passes it on.
func (r *Repo) DeleteTrace(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	return counted(ctx, r, r.Registry.DeleteTrace, md)
}

// CreateIndexRule counts the write and passes it on.
func (r *Repo) CreateIndexRule(ctx context.Context, rule *databasev1.IndexRule) (int64, error) {
	return counted(ctx, r, r.Registry.CreateIndexRule, rule)
}

// UpdateIndexRule counts the write and passes it on.
func (r *Repo) UpdateIndexRule(ctx context.Context, rule *databasev1.IndexRule) (int64, error) {
	return counted(ctx, r, r.Registry.UpdateIndexRule, rule)
}

// DeleteIndexRule counts the write and passes it on.
func (r *Repo) DeleteIndexRule(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	return counted(ctx, r, r.Registry.DeleteIndexRule, md)
}

// CreateIndexRuleBinding counts the write and passes it on.
func (r *Repo) CreateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	return counted(ctx, r, r.Registry.CreateIndexRuleBinding, b)
}

// UpdateIndexRuleBinding counts the write and passes it on.
func (r *Repo) UpdateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	return counted(ctx, r, r.Registry.UpdateIndexRuleBinding, b)
}

// DeleteIndexRuleBinding counts the write and passes it on.
func (r *Repo) DeleteIndexRuleBinding(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	return counted(ctx, r, r.Registry.DeleteIndexRuleBinding, md)
}
