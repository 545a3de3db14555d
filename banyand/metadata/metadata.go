// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package metadata is the metadata unit of a node: the registries of groups, traces, index rules,
// index rule bindings and nodes, and the watch of their changes, kept in etcd.
//
// A standalone node runs etcd inside the process (NewEmbeddedService); liaison and data nodes
// connect to an etcd cluster (NewClientService). Both are run.Group units: flags, then PreRun
// connects, then GracefulStop disconnects. The registries handed out by Repo can be taken at any
// time; calls made before PreRun fail with schema.ErrClosed, and handlers registered before PreRun
// are subscribed (and replayed) during PreRun.
package metadata

import (
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// name is the unit name of both services.
const name = "metadata"

// Repo gives access to the registries and their events.
type Repo interface {
	GroupRegistry() schema.Group
	TraceRegistry() schema.Trace
	IndexRuleRegistry() schema.IndexRule
	IndexRuleBindingRegistry() schema.IndexRuleBinding
	NodeRegistry() schema.Node
	DeletionTaskRegistry() schema.DeletionTask
	// RegisterHandler subscribes h to the kinds; see schema.Registry. Before PreRun the handler is
	// queued and subscribed (with its replay) at the end of PreRun.
	RegisterHandler(name string, kinds []schema.Kind, h schema.EventHandler)
}

// Service is the metadata unit.
type Service interface {
	Repo
	run.Config
	run.PreRunner
	run.Service
}

// repo implements Repo over a registry that appears in PreRun and goes away in GracefulStop.
type repo struct {
	mu struct {
		sync.Mutex
		// reg is nil before start.
		reg     schema.Registry
		pending []pendingHandler
	}
	log *logger.Logger
}

type pendingHandler struct {
	h     schema.EventHandler
	name  string
	kinds []schema.Kind
}

var errNotStarted = errors.Wrap(schema.ErrClosed, "metadata service has not started")

func (r *repo) GroupRegistry() schema.Group                       { return proxy{r} }
func (r *repo) TraceRegistry() schema.Trace                       { return proxy{r} }
func (r *repo) IndexRuleRegistry() schema.IndexRule               { return proxy{r} }
func (r *repo) IndexRuleBindingRegistry() schema.IndexRuleBinding { return proxy{r} }
func (r *repo) NodeRegistry() schema.Node                         { return proxy{r} }
func (r *repo) DeletionTaskRegistry() schema.DeletionTask         { return proxy{r} }

func (r *repo) RegisterHandler(name string, kinds []schema.Kind, h schema.EventHandler) {
	r.mu.Lock()
	reg := r.mu.reg
	if reg == nil {
		r.mu.pending = append(r.mu.pending, pendingHandler{name: name, kinds: kinds, h: h})
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	reg.RegisterHandler(name, kinds, h)
}

// registry returns the live registry, or errNotStarted.
func (r *repo) registry() (schema.Registry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.reg == nil {
		return nil, errNotStarted
	}
	return r.mu.reg, nil
}

// start makes reg the registry of the repo and subscribes the queued handlers.
func (r *repo) start(reg schema.Registry) {
	r.mu.Lock()
	r.mu.reg = reg
	pending := r.mu.pending
	r.mu.pending = nil
	r.mu.Unlock()
	for _, p := range pending {
		reg.RegisterHandler(p.name, p.kinds, p.h)
	}
}

// stop closes the registry; later calls fail with schema.ErrClosed.
func (r *repo) stop() {
	r.mu.Lock()
	reg := r.mu.reg
	r.mu.Unlock()
	if reg == nil {
		return
	}
	if err := reg.Close(); err != nil {
		r.log.Warn().Err(err).Msg("close metadata registry")
	}
}

// checkURL accepts http(s)://host:port URLs.
func checkURL(flag, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.Wrapf(err, "--%s %q", flag, raw)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.Errorf("--%s %q is not an http(s)://host:port URL", flag, raw)
	}
	return nil
}

// checkEndpoint accepts what the etcd client dials: a URL or a bare host:port.
func checkEndpoint(flag, raw string) error {
	if strings.Contains(raw, "://") {
		return checkURL(flag, raw)
	}
	if _, _, err := net.SplitHostPort(raw); err != nil {
		return errors.Wrapf(err, "--%s %q is neither a URL nor host:port", flag, raw)
	}
	return nil
}
