// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// ErrResourceNotLoaded is returned by WaitResource when a resource did not appear in time.
var ErrResourceNotLoaded = errors.New("schema: resource is not loaded")

// Watcher is the part of the metadata store a repository follows.
type Watcher interface {
	// RegisterHandler subscribes a handler to the kinds it names, replaying what exists first.
	RegisterHandler(name string, kinds []Kind, h EventHandler)
}

// Repository holds the open groups and resources of one catalog, kept in step with the metadata store.
type Repository interface {
	// Watch subscribes the repository to the metadata store. Call it once, after the store is ready.
	Watch()
	// LoadGroup returns an open group.
	LoadGroup(name string) (Group, bool)
	// LoadResource returns an open resource.
	LoadResource(md *commonv1.Metadata) (Resource, bool)
	// WaitResource returns an open resource, waiting until ctx ends for it to appear.
	WaitResource(ctx context.Context, md *commonv1.Metadata) (Resource, error)
	// Groups returns every open group.
	Groups() []Group
	// Close closes every database the repository opened.
	Close()
}

type group struct {
	spec *commonv1.Group
	db   DB
}

func (g *group) GetSchema() *commonv1.Group { return g.spec }

func (g *group) SupplyTSDB() DB { return g.db }

type resource struct {
	schema   ResourceSchema
	group    *group
	listener IndexListener
	rules    []*databasev1.IndexRule
}

func (r *resource) Schema() ResourceSchema { return r.schema }

func (r *resource) IndexRules() []*databasev1.IndexRule { return r.rules }

func (r *resource) Group() Group { return r.group }

func (r *resource) Delegated() IndexListener { return r.listener }

type groupState struct {
	group     *group
	resources map[string]*resource // by resource name
	pending   map[string]ResourceSchema
	rules     map[string]*databasev1.IndexRule
	bindings  map[string]*databasev1.IndexRuleBinding
}

// repository implements Repository. Metadata events arrive one at a time; the lock guards the
// maps against concurrent readers (writers and queries calling LoadGroup/LoadResource).
type repository struct {
	watcher  Watcher
	supplier ResourceSupplier
	dbs      DBSupplier
	l        *logger.Logger
	mu       struct {
		sync.RWMutex
		groups map[string]*groupState
		// changed is closed and replaced whenever a resource is opened, to wake WaitResource.
		changed chan struct{}
		// boundary fires at the next begin_at or expire_at of a binding, when rule sets change
		// without any metadata event.
		boundary *time.Timer
		closed   bool
	}
	catalog commonv1.Catalog
	now     func() time.Time
}

// NewRepository returns a repository for a node that holds data: if the supplier is also a
// DBSupplier, every group of the catalog gets its database opened.
func NewRepository(watcher Watcher, catalog commonv1.Catalog, supplier ResourceSupplier, l *logger.Logger) Repository {
	r := newRepository(watcher, catalog, supplier, l)
	if dbs, ok := supplier.(DBSupplier); ok {
		r.dbs = dbs
	}
	return r
}

// NewPortableRepository returns a repository for a node that holds no data (a liaison): it
// follows groups and resources but never opens a database.
func NewPortableRepository(watcher Watcher, catalog commonv1.Catalog, supplier ResourceSupplier, l *logger.Logger) Repository {
	return newRepository(watcher, catalog, supplier, l)
}

func newRepository(watcher Watcher, catalog commonv1.Catalog, supplier ResourceSupplier, l *logger.Logger) *repository {
	r := &repository{watcher: watcher, catalog: catalog, supplier: supplier, l: l, now: time.Now}
	r.mu.groups = make(map[string]*groupState)
	r.mu.changed = make(chan struct{})
	return r
}

func (r *repository) Watch() {
	r.watcher.RegisterHandler("schema-repo-"+r.catalog.String(),
		[]Kind{KindGroup, KindIndexRule, KindIndexRuleBinding, KindTrace}, r)
}

func (r *repository) LoadGroup(name string) (Group, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	gs, ok := r.mu.groups[name]
	if !ok {
		return nil, false
	}
	return gs.group, true
}

func (r *repository) Groups() []Group {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Group, 0, len(r.mu.groups))
	for _, gs := range r.mu.groups {
		out = append(out, gs.group)
	}
	return out
}

func (r *repository) LoadResource(md *commonv1.Metadata) (Resource, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.loadResourceLocked(md)
}

func (r *repository) loadResourceLocked(md *commonv1.Metadata) (*resource, bool) {
	gs, ok := r.mu.groups[md.GetGroup()]
	if !ok {
		return nil, false
	}
	res, ok := gs.resources[md.GetName()]
	return res, ok
}

func (r *repository) WaitResource(ctx context.Context, md *commonv1.Metadata) (Resource, error) {
	for {
		r.mu.RLock()
		res, ok := r.loadResourceLocked(md)
		changed := r.mu.changed
		r.mu.RUnlock()
		if ok {
			return res, nil
		}
		select {
		case <-ctx.Done():
			return nil, errors.Wrapf(ErrResourceNotLoaded, "%s/%s", md.GetGroup(), md.GetName())
		case <-changed:
		}
	}
}

// Close closes every database the repository opened. The databases close outside the lock, so
// that readers are not stalled behind the disk work.
func (r *repository) Close() {
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return
	}
	r.mu.closed = true
	if r.mu.boundary != nil {
		r.mu.boundary.Stop()
	}
	dbs := make(map[string]DB)
	for name, gs := range r.mu.groups {
		if gs.group.db != nil {
			dbs[name] = gs.group.db
		}
	}
	r.mu.Unlock()
	for name, db := range dbs {
		if err := db.Close(); err != nil {
			r.l.Error().Err(err).Str("group", name).Msg("failed to close a group's database")
		}
	}
}

// OnAddOrUpdate applies a created or changed resource.
func (r *repository) OnAddOrUpdate(m Metadata) {
	if g, ok := m.Spec.(*commonv1.Group); ok {
		r.addGroup(g)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return
	}
	switch spec := m.Spec.(type) {
	case *databasev1.Trace:
		if r.catalog != commonv1.Catalog_CATALOG_TRACE {
			return
		}
		r.addResourceLocked(spec)
	case *databasev1.IndexRule:
		gs, ok := r.mu.groups[spec.GetMetadata().GetGroup()]
		if !ok {
			return
		}
		gs.rules[spec.GetMetadata().GetName()] = spec
		r.refreshIndexRulesLocked(gs)
	case *databasev1.IndexRuleBinding:
		gs, ok := r.mu.groups[spec.GetMetadata().GetGroup()]
		if !ok {
			return
		}
		gs.bindings[spec.GetMetadata().GetName()] = spec
		r.refreshIndexRulesLocked(gs)
		r.scheduleBoundaryLocked()
	}
}

// OnDelete applies a deleted resource.
func (r *repository) OnDelete(m Metadata) {
	if g, ok := m.Spec.(*commonv1.Group); ok {
		r.removeGroup(g.GetMetadata().GetName())
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return
	}
	switch spec := m.Spec.(type) {
	case *databasev1.Trace:
		gs, ok := r.mu.groups[spec.GetMetadata().GetGroup()]
		if !ok {
			return
		}
		delete(gs.resources, spec.GetMetadata().GetName())
		delete(gs.pending, spec.GetMetadata().GetName())
	case *databasev1.IndexRule:
		gs, ok := r.mu.groups[spec.GetMetadata().GetGroup()]
		if !ok {
			return
		}
		delete(gs.rules, spec.GetMetadata().GetName())
		r.refreshIndexRulesLocked(gs)
	case *databasev1.IndexRuleBinding:
		gs, ok := r.mu.groups[spec.GetMetadata().GetGroup()]
		if !ok {
			return
		}
		delete(gs.bindings, spec.GetMetadata().GetName())
		r.refreshIndexRulesLocked(gs)
		r.scheduleBoundaryLocked()
	}
}

// removeGroup forgets a deleted group under the lock and drops its database after releasing it:
// deleting a large group does not stall the writes and queries of the others.
func (r *repository) removeGroup(name string) {
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return
	}
	gs, ok := r.mu.groups[name]
	if ok {
		delete(r.mu.groups, name)
	}
	r.mu.Unlock()
	if !ok {
		return
	}
	if gs.group.db != nil {
		if err := gs.group.db.Drop(); err != nil {
			r.l.Error().Err(err).Str("group", name).Msg("failed to drop a deleted group's database")
		}
	}
	r.l.Info().Str("group", name).Msg("group removed")
}

// addGroup applies a created or changed group. A new group's database opens outside the lock
// and is installed under it; events arrive one at a time, so no other event races the install.
func (r *repository) addGroup(spec *commonv1.Group) {
	if spec.GetCatalog() != r.catalog {
		return
	}
	name := spec.GetMetadata().GetName()
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return
	}
	if gs, ok := r.mu.groups[name]; ok {
		r.updateGroupLocked(gs, spec)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	g := &group{spec: spec}
	if r.dbs != nil {
		db, err := r.dbs.OpenDB(spec)
		if err != nil {
			r.l.Error().Err(err).Str("group", name).Msg("failed to open the group's database")
			return
		}
		g.db = db
	}
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		// Closed while the database opened: nobody else will close it.
		if g.db != nil {
			if err := g.db.Close(); err != nil {
				r.l.Error().Err(err).Str("group", name).Msg("failed to close a group's database")
			}
		}
		return
	}
	r.mu.groups[name] = &groupState{
		group:     g,
		resources: make(map[string]*resource),
		pending:   make(map[string]ResourceSchema),
		rules:     make(map[string]*databasev1.IndexRule),
		bindings:  make(map[string]*databasev1.IndexRuleBinding),
	}
	r.mu.Unlock()
	r.l.Info().Str("group", name).Msg("group loaded")
}

func (r *repository) addResourceLocked(spec ResourceSchema) {
	md := spec.GetMetadata()
	gs, ok := r.mu.groups[md.GetGroup()]
	if !ok {
		r.l.Warn().Str("group", md.GetGroup()).Str("name", md.GetName()).Msg("resource of an unknown group ignored")
		return
	}
	res := &resource{schema: spec, group: gs.group}
	res.rules = r.indexRulesLocked(gs, md.GetName())
	listener, err := r.supplier.OpenResource(res)
	if err != nil {
		r.l.Error().Err(err).Str("group", md.GetGroup()).Str("name", md.GetName()).Msg("failed to open a resource")
		return
	}
	res.listener = listener
	gs.resources[md.GetName()] = res
	close(r.mu.changed)
	r.mu.changed = make(chan struct{})
	r.l.Info().Str("group", md.GetGroup()).Str("name", md.GetName()).Int64("mod_revision", md.GetModRevision()).
		Int("index_rules", len(res.rules)).Msg("resource opened")
}

// refreshIndexRulesLocked recomputes every resource's rules of a group and tells the listeners
// whose rule set changed.
func (r *repository) refreshIndexRulesLocked(gs *groupState) {
	for name, res := range gs.resources {
		rules := r.indexRulesLocked(gs, name)
		if sameRules(rules, res.rules) {
			continue
		}
		// Replace, never modify, a resource that readers may hold (see addGroupLocked).
		next := *res
		next.rules = rules
		gs.resources[name] = &next
		if res.listener != nil {
			res.listener.OnIndexUpdate(rules)
		}
	}
}

// scheduleBoundaryLocked arms the timer for the next instant a binding starts or stops applying,
// so that resources get their new rule sets then, not only at the next metadata event.
func (r *repository) scheduleBoundaryLocked() {
	now := r.now()
	var next time.Time
	for _, gs := range r.mu.groups {
		for _, b := range gs.bindings {
			for _, pb := range []*timestamppb.Timestamp{b.GetBeginAt(), b.GetExpireAt()} {
				if pb == nil {
					continue
				}
				if ts := pb.AsTime(); ts.After(now) && (next.IsZero() || ts.Before(next)) {
					next = ts
				}
			}
		}
	}
	if r.mu.boundary != nil {
		r.mu.boundary.Stop()
		r.mu.boundary = nil
	}
	if next.IsZero() {
		return
	}
	// A millisecond late, so that the boundary has passed for r.now().
	r.mu.boundary = time.AfterFunc(next.Sub(now)+time.Millisecond, r.onBoundary)
}

// onBoundary recomputes every resource's rules when a binding starts or stops applying.
func (r *repository) onBoundary() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return
	}
	for _, gs := range r.mu.groups {
		r.refreshIndexRulesLocked(gs)
	}
	r.scheduleBoundaryLocked()
}

// indexRulesLocked returns the rules bound to a resource now, in binding-name then rule order.
func (r *repository) indexRulesLocked(gs *groupState, resourceName string) []*databasev1.IndexRule {
	names := make([]string, 0, len(gs.bindings))
	for name := range gs.bindings {
		names = append(names, name)
	}
	sort.Strings(names)
	now := r.now()
	seen := make(map[string]bool)
	var rules []*databasev1.IndexRule
	for _, bn := range names {
		b := gs.bindings[bn]
		if b.GetSubject().GetName() != resourceName || b.GetSubject().GetCatalog() != r.catalog {
			continue
		}
		if b.GetBeginAt() != nil && now.Before(b.GetBeginAt().AsTime()) {
			continue
		}
		if b.GetExpireAt() != nil && !now.Before(b.GetExpireAt().AsTime()) {
			continue
		}
		for _, rn := range b.GetRules() {
			rule, ok := gs.rules[rn]
			if !ok || seen[rn] {
				continue
			}
			seen[rn] = true
			rules = append(rules, rule)
		}
	}
	return rules
}

// sameRules reports whether two rule sets are equal in content and order. A rule delivered again
// unchanged (a watch replay, an update that changed nothing) is a new message but not a change.
func sameRules(a, b []*databasev1.IndexRule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// updateGroupLocked applies a changed group's options and spec.
func (r *repository) updateGroupLocked(gs *groupState, spec *commonv1.Group) {
	name := spec.GetMetadata().GetName()
	if gs.group.db != nil {
		if err := gs.group.db.UpdateOptions(spec); err != nil {
			r.l.Error().Err(err).Str("group", name).Msg("failed to apply the group's new options")
		}
	}
	// The group's new spec replaces the old one in every open resource. Groups and resources
	// handed out by LoadGroup/LoadResource are read without the lock, so they are never
	// modified: each one is replaced by an updated copy.
	g := &group{spec: spec, db: gs.group.db}
	gs.group = g
	for resName, res := range gs.resources {
		next := *res
		next.group = g
		gs.resources[resName] = &next
	}
}
