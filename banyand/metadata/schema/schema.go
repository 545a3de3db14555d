// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package schema declares the registries of the metadata store (groups, traces, index rules,
// index rule bindings and cluster nodes) and the events they emit. The etcd-backed implementation
// lives in the same package; banyand/metadata wires it into a service.
package schema

import (
	"context"
	"time"

	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	resourceschema "github.com/apache/skywalking-banyandb/pkg/schema"
)

// Sentinel errors of the registries; callers test them with errors.Is.
var (
	// ErrNotFound is returned when a resource does not exist.
	ErrNotFound = errors.New("banyandb: resource not found")
	// ErrAlreadyExists is returned by Create when the resource exists.
	ErrAlreadyExists = errors.New("banyandb: resource already exists")
	// ErrConcurrentModification is returned when the stored revision changed under an update.
	ErrConcurrentModification = errors.New("banyandb: concurrent modification of entities")
	// ErrClosed is returned after the registry was closed.
	ErrClosed = errors.New("banyandb: metadata registry is closed")
)

// Kind is the kind of a schema resource; pkg/schema owns the event types, which the
// repositories of every node consume.
type Kind = resourceschema.Kind

// The kinds of resources the registries hold.
const (
	KindGroup            = resourceschema.KindGroup
	KindTrace            = resourceschema.KindTrace
	KindIndexRule        = resourceschema.KindIndexRule
	KindIndexRuleBinding = resourceschema.KindIndexRuleBinding
	KindNode             = resourceschema.KindNode
)

// Metadata is one event's payload: the kind and the resource.
type Metadata = resourceschema.Metadata

// EventHandler receives the changes of the registries.
type EventHandler = resourceschema.EventHandler

// ListOpt narrows a List call.
type ListOpt struct {
	// Group restricts the list to one group; empty means every group where allowed.
	Group string
}

// Group is the registry of groups.
type Group interface {
	// CreateGroup stores a new group; ErrAlreadyExists if it exists. It returns the mod revision.
	CreateGroup(ctx context.Context, g *commonv1.Group) (int64, error)
	// UpdateGroup replaces a group; ErrNotFound if missing.
	UpdateGroup(ctx context.Context, g *commonv1.Group) (int64, error)
	// DeleteGroup removes the group and every resource in it; ErrNotFound if missing.
	DeleteGroup(ctx context.Context, name string) (bool, error)
	// GetGroup returns a group with its revisions; ErrNotFound if missing.
	GetGroup(ctx context.Context, name string) (*commonv1.Group, error)
	// ListGroup returns every group.
	ListGroup(ctx context.Context) ([]*commonv1.Group, error)
}

// Trace is the registry of trace schemas.
type Trace interface {
	// CreateTrace stores a new trace schema; ErrAlreadyExists if it exists.
	CreateTrace(ctx context.Context, t *databasev1.Trace) (int64, error)
	// UpdateTrace replaces a trace schema; ErrNotFound if missing. It returns 0 when nothing changed.
	UpdateTrace(ctx context.Context, t *databasev1.Trace) (int64, error)
	// DeleteTrace removes a trace schema; false without error if it was missing.
	DeleteTrace(ctx context.Context, md *commonv1.Metadata) (bool, error)
	// GetTrace returns a trace schema; ErrNotFound if missing.
	GetTrace(ctx context.Context, md *commonv1.Metadata) (*databasev1.Trace, error)
	// ListTrace returns the trace schemas of a group, or of every group when opt.Group is empty.
	ListTrace(ctx context.Context, opt ListOpt) ([]*databasev1.Trace, error)
}

// IndexRule is the registry of index rules.
type IndexRule interface {
	// CreateIndexRule stores a new index rule; ErrAlreadyExists if it exists.
	CreateIndexRule(ctx context.Context, r *databasev1.IndexRule) (int64, error)
	// UpdateIndexRule replaces an index rule; ErrNotFound if missing.
	UpdateIndexRule(ctx context.Context, r *databasev1.IndexRule) (int64, error)
	// DeleteIndexRule removes an index rule; false without error if it was missing.
	DeleteIndexRule(ctx context.Context, md *commonv1.Metadata) (bool, error)
	// GetIndexRule returns an index rule; ErrNotFound if missing.
	GetIndexRule(ctx context.Context, md *commonv1.Metadata) (*databasev1.IndexRule, error)
	// ListIndexRule returns the index rules of a group.
	ListIndexRule(ctx context.Context, opt ListOpt) ([]*databasev1.IndexRule, error)
}

// IndexRuleBinding is the registry of index rule bindings.
type IndexRuleBinding interface {
	// CreateIndexRuleBinding stores a new binding; ErrAlreadyExists if it exists.
	CreateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error)
	// UpdateIndexRuleBinding replaces a binding; ErrNotFound if missing.
	UpdateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error)
	// DeleteIndexRuleBinding removes a binding; false without error if it was missing.
	DeleteIndexRuleBinding(ctx context.Context, md *commonv1.Metadata) (bool, error)
	// GetIndexRuleBinding returns a binding; ErrNotFound if missing.
	GetIndexRuleBinding(ctx context.Context, md *commonv1.Metadata) (*databasev1.IndexRuleBinding, error)
	// ListIndexRuleBinding returns the bindings of a group.
	ListIndexRuleBinding(ctx context.Context, opt ListOpt) ([]*databasev1.IndexRuleBinding, error)
}

// Node is the registry of cluster members. A registered node lives as long as its lease.
type Node interface {
	// RegisterNode stores the node under a lease of ttl that is kept alive until ctx ends or
	// the registry closes; when the process dies the lease lapses and the node disappears.
	RegisterNode(ctx context.Context, n *databasev1.Node, ttl time.Duration) error
	// ListNode returns the registered nodes that have the role (all nodes for ROLE_UNSPECIFIED).
	ListNode(ctx context.Context, role databasev1.Role) ([]*databasev1.Node, error)
}

// DeletionTask is the store of each group's latest deletion task, shared by every node of a
// cluster and kept across restarts.
type DeletionTask interface {
	// PutGroupDeletionTask stores t as the group's latest deletion task.
	PutGroupDeletionTask(ctx context.Context, group string, t *databasev1.GroupDeletionTask) error
	// GetGroupDeletionTask returns the group's latest deletion task; ErrNotFound if there is none.
	GetGroupDeletionTask(ctx context.Context, group string) (*databasev1.GroupDeletionTask, error)
}

// Registry is the whole metadata store.
type Registry interface {
	Group
	Trace
	IndexRule
	IndexRuleBinding
	Node
	DeletionTask
	// RegisterHandler subscribes a handler to the kinds it names (replaying existing resources first).
	RegisterHandler(name string, kinds []Kind, h EventHandler)
	// Close stops watching and releases the store connection.
	Close() error
}
