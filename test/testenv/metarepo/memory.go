// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package metarepo

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
)

// Memory is an in-memory metadata.Repo for tests that need the events of the registry but not
// etcd: it keeps the resources, numbers their revisions, gives index rules their id, replays what
// exists to a new handler (groups, then bindings, rules and traces, each in name order) and tells
// the handlers of every change, synchronously. It checks existence like the registry (AlreadyExists,
// NotFound) but validates nothing else: a test that needs validation uses Open over etcd.
type Memory struct {
	mu        sync.Mutex
	resources map[schema.Kind]map[string]proto.Message
	handlers  []memoryHandler
	revision  int64
	// tasks are the groups' latest deletion tasks.
	tasks map[string]*databasev1.GroupDeletionTask
}

type memoryHandler struct {
	h     schema.EventHandler
	kinds map[schema.Kind]bool
	reg   Registration
}

// Registration is one subscription as RegisterHandler received it.
type Registration struct {
	// Name is the name the subscriber gave.
	Name string
	// Kinds are the kinds it subscribed to, in its order.
	Kinds []schema.Kind
}

var _ metadata.Repo = (*Memory)(nil)

// NewMemory returns an empty repository.
func NewMemory() *Memory {
	return &Memory{resources: map[schema.Kind]map[string]proto.Message{}}
}

// KindOf returns the kind of a schema resource, or 0 for another message.
func KindOf(spec proto.Message) schema.Kind {
	switch spec.(type) {
	case *commonv1.Group:
		return schema.KindGroup
	case *databasev1.Trace:
		return schema.KindTrace
	case *databasev1.IndexRule:
		return schema.KindIndexRule
	case *databasev1.IndexRuleBinding:
		return schema.KindIndexRuleBinding
	case *databasev1.Node:
		return schema.KindNode
	}
	return 0
}

type hasMetadata interface{ GetMetadata() *commonv1.Metadata }

func keyOf(md *commonv1.Metadata) string { return md.GetGroup() + "/" + md.GetName() }

// Put stores a copy of spec, created or replaced, and tells the handlers of its kind. It returns
// the stored copy, with its revisions (and an index rule's id) set.
func (m *Memory) Put(spec proto.Message) proto.Message {
	spec = proto.Clone(spec)
	kind := KindOf(spec)
	m.mu.Lock()
	m.revision++
	md := spec.(hasMetadata).GetMetadata()
	if prev, ok := m.resources[kind][keyOf(md)]; ok {
		md.CreateRevision = prev.(hasMetadata).GetMetadata().GetCreateRevision()
	} else if md.GetCreateRevision() == 0 {
		md.CreateRevision = m.revision
	}
	md.ModRevision = m.revision
	if rule, ok := spec.(*databasev1.IndexRule); ok && md.GetId() == 0 {
		// The registry gives every rule an id; the tables key their indexes by it.
		rule.Metadata.Id = schema.IndexRuleID(md.GetGroup(), md.GetName())
	}
	if m.resources[kind] == nil {
		m.resources[kind] = map[string]proto.Message{}
	}
	m.resources[kind][keyOf(md)] = spec
	handlers := m.handlersOf(kind)
	m.mu.Unlock()
	for _, h := range handlers {
		h.OnAddOrUpdate(schema.Metadata{Kind: kind, Spec: spec})
	}
	return spec
}

// Remove deletes the resource with spec's kind, group and name and tells the handlers of its
// kind, with the stored value. It reports whether there was one.
func (m *Memory) Remove(spec proto.Message) bool {
	kind := KindOf(spec)
	key := keyOf(spec.(hasMetadata).GetMetadata())
	m.mu.Lock()
	stored, ok := m.resources[kind][key]
	delete(m.resources[kind], key)
	handlers := m.handlersOf(kind)
	m.mu.Unlock()
	if !ok {
		return false
	}
	for _, h := range handlers {
		h.OnDelete(schema.Metadata{Kind: kind, Spec: stored})
	}
	return true
}

// HandlerCount returns how many handlers are registered.
func (m *Memory) HandlerCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.handlers)
}

// Registrations returns the subscriptions made so far, in the order they were made.
func (m *Memory) Registrations() []Registration {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Registration, len(m.handlers))
	for i, h := range m.handlers {
		out[i] = h.reg
	}
	return out
}

// Send tells the handlers of ev's kind of ev, an update or (when deleted is set) a deletion,
// without storing anything: the events a watch may repeat or replay that the store itself would
// not make, such as a second deletion of one resource, for tests of how a handler takes them.
func (m *Memory) Send(ev schema.Metadata, deleted bool) {
	m.mu.Lock()
	handlers := m.handlersOf(ev.Kind)
	m.mu.Unlock()
	for _, h := range handlers {
		if deleted {
			h.OnDelete(ev)
		} else {
			h.OnAddOrUpdate(ev)
		}
	}
}

// handlersOf returns the handlers of kind; the caller holds mu.
func (m *Memory) handlersOf(kind schema.Kind) []schema.EventHandler {
	var out []schema.EventHandler
	for _, h := range m.handlers {
		if h.kinds[kind] {
			out = append(out, h.h)
		}
	}
	return out
}

// replayOrder is the order in which existing resources reach a new handler.
var replayOrder = []schema.Kind{schema.KindGroup, schema.KindIndexRuleBinding, schema.KindIndexRule, schema.KindTrace, schema.KindNode}

// RegisterHandler subscribes h to the kinds and first replays what exists of them.
func (m *Memory) RegisterHandler(name string, kinds []schema.Kind, h schema.EventHandler) {
	set := map[schema.Kind]bool{}
	for _, k := range kinds {
		set[k] = true
	}
	m.mu.Lock()
	m.handlers = append(m.handlers, memoryHandler{kinds: set, h: h, reg: Registration{Name: name, Kinds: append([]schema.Kind(nil), kinds...)}})
	var replay []schema.Metadata
	for _, kind := range replayOrder {
		if set[kind] {
			for _, spec := range m.sortedLocked(kind, nil) {
				replay = append(replay, schema.Metadata{Kind: kind, Spec: spec})
			}
		}
	}
	m.mu.Unlock()
	for _, e := range replay {
		h.OnAddOrUpdate(e)
	}
}

// sortedLocked returns the resources of kind that keep passes (all for nil), in key order; the
// caller holds mu.
func (m *Memory) sortedLocked(kind schema.Kind, keep func(*commonv1.Metadata) bool) []proto.Message {
	keys := make([]string, 0, len(m.resources[kind]))
	for k, spec := range m.resources[kind] {
		if keep == nil || keep(spec.(hasMetadata).GetMetadata()) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]proto.Message, len(keys))
	for i, k := range keys {
		out[i] = m.resources[kind][k]
	}
	return out
}

// get returns a copy of the resource of kind at md, or ErrNotFound.
func get[T proto.Message](m *Memory, kind schema.Kind, md *commonv1.Metadata) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	spec, ok := m.resources[kind][keyOf(md)]
	if !ok {
		var none T
		return none, errors.Wrapf(schema.ErrNotFound, "%s %s", kind, keyOf(md))
	}
	return proto.Clone(spec).(T), nil
}

// list returns copies of the resources of kind in group ("" for every group), in name order.
func list[T proto.Message](m *Memory, kind schema.Kind, group string) []T {
	m.mu.Lock()
	defer m.mu.Unlock()
	specs := m.sortedLocked(kind, func(md *commonv1.Metadata) bool { return group == "" || md.GetGroup() == group })
	out := make([]T, len(specs))
	for i, spec := range specs {
		out[i] = proto.Clone(spec).(T)
	}
	return out
}

// create stores spec unless its key exists.
func (m *Memory) create(spec proto.Message) (int64, error) {
	md := spec.(hasMetadata).GetMetadata()
	m.mu.Lock()
	_, exists := m.resources[KindOf(spec)][keyOf(md)]
	m.mu.Unlock()
	if exists {
		return 0, errors.Wrapf(schema.ErrAlreadyExists, "%s %s", KindOf(spec), keyOf(md))
	}
	return m.Put(spec).(hasMetadata).GetMetadata().GetModRevision(), nil
}

// update replaces spec if its key exists.
func (m *Memory) update(spec proto.Message) (int64, error) {
	md := spec.(hasMetadata).GetMetadata()
	m.mu.Lock()
	_, exists := m.resources[KindOf(spec)][keyOf(md)]
	m.mu.Unlock()
	if !exists {
		return 0, errors.Wrapf(schema.ErrNotFound, "%s %s", KindOf(spec), keyOf(md))
	}
	return m.Put(spec).(hasMetadata).GetMetadata().GetModRevision(), nil
}

// GroupRegistry returns the repository itself.
func (m *Memory) GroupRegistry() schema.Group { return m }

// TraceRegistry returns the repository itself.
func (m *Memory) TraceRegistry() schema.Trace { return m }

// IndexRuleRegistry returns the repository itself.
func (m *Memory) IndexRuleRegistry() schema.IndexRule { return m }

// IndexRuleBindingRegistry returns the repository itself.
func (m *Memory) IndexRuleBindingRegistry() schema.IndexRuleBinding { return m }

// NodeRegistry returns the repository itself.
func (m *Memory) NodeRegistry() schema.Node { return m }

// DeletionTaskRegistry returns the repository itself.
func (m *Memory) DeletionTaskRegistry() schema.DeletionTask { return m }

// PutGroupDeletionTask keeps a copy of t as the group's latest deletion task.
func (m *Memory) PutGroupDeletionTask(_ context.Context, group string, t *databasev1.GroupDeletionTask) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tasks == nil {
		m.tasks = map[string]*databasev1.GroupDeletionTask{}
	}
	m.tasks[group] = proto.Clone(t).(*databasev1.GroupDeletionTask)
	return nil
}

// GetGroupDeletionTask returns a copy of the group's latest deletion task; schema.ErrNotFound if none.
func (m *Memory) GetGroupDeletionTask(_ context.Context, group string) (*databasev1.GroupDeletionTask, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tasks[group]
	if !ok {
		return nil, errors.Wrapf(schema.ErrNotFound, "deletion task of group %q", group)
	}
	return proto.Clone(t).(*databasev1.GroupDeletionTask), nil
}

// CreateGroup stores a new group.
func (m *Memory) CreateGroup(_ context.Context, g *commonv1.Group) (int64, error) { return m.create(g) }

// UpdateGroup replaces a group.
func (m *Memory) UpdateGroup(_ context.Context, g *commonv1.Group) (int64, error) { return m.update(g) }

// DeleteGroup removes a group and every resource in it, telling the handlers of each.
func (m *Memory) DeleteGroup(_ context.Context, name string) (bool, error) {
	md := &commonv1.Metadata{Name: name}
	m.mu.Lock()
	group, ok := m.resources[schema.KindGroup][keyOf(md)]
	var inGroup []proto.Message
	for _, kind := range []schema.Kind{schema.KindTrace, schema.KindIndexRuleBinding, schema.KindIndexRule} {
		inGroup = append(inGroup, m.sortedLocked(kind, func(md *commonv1.Metadata) bool { return md.GetGroup() == name })...)
	}
	m.mu.Unlock()
	if !ok {
		return false, errors.Wrapf(schema.ErrNotFound, "group %s", name)
	}
	for _, spec := range inGroup {
		m.Remove(spec)
	}
	return m.Remove(group), nil
}

// GetGroup returns a group.
func (m *Memory) GetGroup(_ context.Context, name string) (*commonv1.Group, error) {
	return get[*commonv1.Group](m, schema.KindGroup, &commonv1.Metadata{Name: name})
}

// ListGroup returns every group.
func (m *Memory) ListGroup(context.Context) ([]*commonv1.Group, error) {
	return list[*commonv1.Group](m, schema.KindGroup, ""), nil
}

// CreateTrace stores a new trace schema.
func (m *Memory) CreateTrace(_ context.Context, t *databasev1.Trace) (int64, error) {
	return m.create(t)
}

// UpdateTrace replaces a trace schema.
func (m *Memory) UpdateTrace(_ context.Context, t *databasev1.Trace) (int64, error) {
	return m.update(t)
}

// DeleteTrace removes a trace schema.
func (m *Memory) DeleteTrace(_ context.Context, md *commonv1.Metadata) (bool, error) {
	return m.Remove(&databasev1.Trace{Metadata: md}), nil
}

// GetTrace returns a trace schema.
func (m *Memory) GetTrace(_ context.Context, md *commonv1.Metadata) (*databasev1.Trace, error) {
	return get[*databasev1.Trace](m, schema.KindTrace, md)
}

// ListTrace returns the trace schemas of a group, or of every group.
func (m *Memory) ListTrace(_ context.Context, opt schema.ListOpt) ([]*databasev1.Trace, error) {
	return list[*databasev1.Trace](m, schema.KindTrace, opt.Group), nil
}

// CreateIndexRule stores a new index rule.
func (m *Memory) CreateIndexRule(_ context.Context, r *databasev1.IndexRule) (int64, error) {
	return m.create(r)
}

// UpdateIndexRule replaces an index rule.
func (m *Memory) UpdateIndexRule(_ context.Context, r *databasev1.IndexRule) (int64, error) {
	return m.update(r)
}

// DeleteIndexRule removes an index rule.
func (m *Memory) DeleteIndexRule(_ context.Context, md *commonv1.Metadata) (bool, error) {
	return m.Remove(&databasev1.IndexRule{Metadata: md}), nil
}

// GetIndexRule returns an index rule.
func (m *Memory) GetIndexRule(_ context.Context, md *commonv1.Metadata) (*databasev1.IndexRule, error) {
	return get[*databasev1.IndexRule](m, schema.KindIndexRule, md)
}

// ListIndexRule returns the index rules of a group, or of every group.
func (m *Memory) ListIndexRule(_ context.Context, opt schema.ListOpt) ([]*databasev1.IndexRule, error) {
	return list[*databasev1.IndexRule](m, schema.KindIndexRule, opt.Group), nil
}

// CreateIndexRuleBinding stores a new binding.
func (m *Memory) CreateIndexRuleBinding(_ context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	return m.create(b)
}

// UpdateIndexRuleBinding replaces a binding.
func (m *Memory) UpdateIndexRuleBinding(_ context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	return m.update(b)
}

// DeleteIndexRuleBinding removes a binding.
func (m *Memory) DeleteIndexRuleBinding(_ context.Context, md *commonv1.Metadata) (bool, error) {
	return m.Remove(&databasev1.IndexRuleBinding{Metadata: md}), nil
}

// GetIndexRuleBinding returns a binding.
func (m *Memory) GetIndexRuleBinding(_ context.Context, md *commonv1.Metadata) (*databasev1.IndexRuleBinding, error) {
	return get[*databasev1.IndexRuleBinding](m, schema.KindIndexRuleBinding, md)
}

// ListIndexRuleBinding returns the bindings of a group, or of every group.
func (m *Memory) ListIndexRuleBinding(_ context.Context, opt schema.ListOpt) ([]*databasev1.IndexRuleBinding, error) {
	return list[*databasev1.IndexRuleBinding](m, schema.KindIndexRuleBinding, opt.Group), nil
}

// RegisterNode stores the node; without etcd there is no lease, so it stays until Remove.
func (m *Memory) RegisterNode(_ context.Context, n *databasev1.Node, _ time.Duration) error {
	m.Put(n)
	return nil
}

// ListNode returns the nodes that have the role (all for ROLE_UNSPECIFIED), in name order.
func (m *Memory) ListNode(_ context.Context, role databasev1.Role) ([]*databasev1.Node, error) {
	all := list[*databasev1.Node](m, schema.KindNode, "")
	if role == databasev1.Role_ROLE_UNSPECIFIED {
		return all, nil
	}
	out := all[:0]
	for _, n := range all {
		for _, r := range n.GetRoles() {
			if r == role {
				out = append(out, n)
				break
			}
		}
	}
	return out, nil
}
