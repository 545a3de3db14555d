// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/bydbql"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// schemaCache holds the traces, index rules and bindings of the registries, kept current by their
// watch, so that a statement costs no registry read. It only speeds lookups up: a trace it does
// not hold (yet) is read from the registries, and the front door stays the judge of what exists.
type schemaCache struct {
	mu struct {
		sync.RWMutex
		// Each map is keyed by "group/name".
		traces   map[string]*databasev1.Trace
		rules    map[string]*databasev1.IndexRule
		bindings map[string]*databasev1.IndexRuleBinding
	}
}

var _ schema.EventHandler = (*schemaCache)(nil)

func newSchemaCache() *schemaCache {
	c := &schemaCache{}
	c.mu.traces = make(map[string]*databasev1.Trace)
	c.mu.rules = make(map[string]*databasev1.IndexRule)
	c.mu.bindings = make(map[string]*databasev1.IndexRuleBinding)
	return c
}

func cacheKey(md *commonv1.Metadata) string { return md.GetGroup() + "/" + md.GetName() }

// OnAddOrUpdate stores the resource.
func (c *schemaCache) OnAddOrUpdate(m schema.Metadata) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch spec := m.Spec.(type) {
	case *databasev1.Trace:
		c.mu.traces[cacheKey(spec.GetMetadata())] = spec
	case *databasev1.IndexRule:
		c.mu.rules[cacheKey(spec.GetMetadata())] = spec
	case *databasev1.IndexRuleBinding:
		c.mu.bindings[cacheKey(spec.GetMetadata())] = spec
	}
}

// OnDelete forgets the resource; a deleted group takes everything in it along.
func (c *schemaCache) OnDelete(m schema.Metadata) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch spec := m.Spec.(type) {
	case *commonv1.Group:
		prefix := spec.GetMetadata().GetName() + "/"
		deleteWithPrefix(c.mu.traces, prefix)
		deleteWithPrefix(c.mu.rules, prefix)
		deleteWithPrefix(c.mu.bindings, prefix)
	case *databasev1.Trace:
		delete(c.mu.traces, cacheKey(spec.GetMetadata()))
	case *databasev1.IndexRule:
		delete(c.mu.rules, cacheKey(spec.GetMetadata()))
	case *databasev1.IndexRuleBinding:
		delete(c.mu.bindings, cacheKey(spec.GetMetadata()))
	}
}

func deleteWithPrefix[V any](m map[string]V, prefix string) {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			delete(m, k)
		}
	}
}

// get returns the trace and the rules bound to it at now, or false if the trace is not held.
func (c *schemaCache) get(group, name string, now time.Time) (*databasev1.Trace, []*databasev1.IndexRule, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	tr, ok := c.mu.traces[group+"/"+name]
	if !ok {
		return nil, nil, false
	}
	var names []string
	for _, b := range c.mu.bindings {
		if b.GetMetadata().GetGroup() == group && b.GetSubject().GetName() == name &&
			b.GetSubject().GetCatalog() == commonv1.Catalog_CATALOG_TRACE && inEffect(b, now) {
			names = append(names, b.GetRules()...)
		}
	}
	sort.Strings(names)
	var rules []*databasev1.IndexRule
	for i, n := range names {
		if i > 0 && names[i-1] == n {
			continue
		}
		if r, ok := c.mu.rules[group+"/"+n]; ok {
			rules = append(rules, r)
		}
	}
	return tr, rules, true
}

// cachedLookup answers from the cache and reads the registries for what it does not hold.
func cachedLookup(repo metadata.Repo, clock timestamp.Clock) bydbql.SchemaLookup {
	cache := newSchemaCache()
	repo.RegisterHandler("bydbql-schema", []schema.Kind{schema.KindGroup, schema.KindTrace, schema.KindIndexRule, schema.KindIndexRuleBinding}, cache)
	read := schemaLookup(repo, clock)
	return func(ctx context.Context, group, name string) (*databasev1.Trace, []*databasev1.IndexRule, error) {
		if tr, rules, ok := cache.get(group, name, clock.Now()); ok {
			return tr, rules, nil
		}
		return read(ctx, group, name)
	}
}
