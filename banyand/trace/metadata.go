// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/internal/storage"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	resourceSchema "github.com/apache/skywalking-banyandb/pkg/schema"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// schemaRepo keeps the open traces of every TRACE group in step with the metadata store.
type schemaRepo struct {
	resourceSchema.Repository
	l *logger.Logger
}

// loadTrace returns the live trace of a schema.
func (sr *schemaRepo) loadTrace(md *commonv1.Metadata) (*trace, bool) {
	res, ok := sr.LoadResource(md)
	if !ok {
		return nil, false
	}
	t, ok := res.Delegated().(*trace)
	return t, ok && t != nil
}

// waitTrace returns the live trace of a schema, waiting until ctx ends for it to load.
func (sr *schemaRepo) waitTrace(ctx context.Context, md *commonv1.Metadata) (*trace, error) {
	if t, ok := sr.loadTrace(md); ok {
		return t, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.Wrapf(ErrTraceNotExist, "%s/%s", md.GetGroup(), md.GetName())
	}
	if _, err := sr.WaitResource(ctx, md); err != nil {
		return nil, errors.Wrapf(ErrTraceNotExist, "%s/%s", md.GetGroup(), md.GetName())
	}
	t, ok := sr.loadTrace(md)
	if !ok {
		return nil, errors.Wrapf(ErrTraceNotExist, "%s/%s", md.GetGroup(), md.GetName())
	}
	return t, nil
}

// traceForWrite returns the live trace a write names. A schema created a moment ago through
// another node may not have reached this one yet, so a missing one is waited for, up to wait, once
// per batch: waited records the schemas this batch already waited for.
func (sr *schemaRepo) traceForWrite(ctx context.Context, md *commonv1.Metadata, wait time.Duration,
	waited map[string]bool,
) (*trace, bool) {
	if t, ok := sr.loadTrace(md); ok {
		return t, true
	}
	key := md.GetGroup() + "/" + md.GetName()
	if wait <= 0 || waited[key] {
		return nil, false
	}
	waited[key] = true
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	t, err := sr.waitTrace(wctx, md)
	return t, err == nil
}

// groupTSDB returns the storage of a group on a data node.
func (sr *schemaRepo) groupTSDB(group string) (*tsdbHolder, bool) {
	g, ok := sr.LoadGroup(group)
	if !ok {
		return nil, false
	}
	h, ok := g.SupplyTSDB().(*tsdbHolder)
	return h, ok && h != nil
}

func (sr *schemaRepo) removalSegmentsTimeRange(group string) *timestamp.TimeRange {
	h, ok := sr.groupTSDB(group)
	if !ok {
		return nil
	}
	return h.db.GetExpiredSegmentsTimeRange()
}

// supplier opens traces and group storage on nodes that hold data.
type supplier struct {
	pm         protector.Memory
	l          *logger.Logger
	schemaRepo *schemaRepo
	path       string
	option     option
	// cache is the block cache every table of the service shares.
	cache *pebble.Cache
}

func newSupplier(path string, svc *standalone) *supplier {
	return &supplier{
		pm:         svc.pm,
		l:          svc.l,
		schemaRepo: &svc.schemaRepo,
		path:       path,
		option:     svc.option,
		cache:      svc.cache,
	}
}

// OpenResource opens a trace and binds it to its group's storage.
func (s *supplier) OpenResource(spec resourceSchema.Resource) (resourceSchema.IndexListener, error) {
	ts, ok := spec.Schema().(*databasev1.Trace)
	if !ok {
		return nil, errors.Errorf("trace: resource %s is not a trace", spec.Schema().GetMetadata().GetName())
	}
	t := openTrace(traceSpec{schema: ts}, spec.IndexRules(), s.pm, s.l)
	if h, ok := spec.Group().SupplyTSDB().(*tsdbHolder); ok && h != nil {
		t.tsdb.Store(h)
	}
	return t, nil
}

// OpenDB opens the TSDB of a TRACE group.
func (s *supplier) OpenDB(g *commonv1.Group) (resourceSchema.DB, error) {
	location, err := storage.GroupLocation(s.path, g.GetMetadata().GetName())
	if err != nil {
		return nil, errors.Wrap(err, "open group storage")
	}
	return openTSDB(location, g, s.option, s.cache, s.l)
}

// queueSupplier opens traces on a liaison: it holds no data, so its traces carry the schemas the
// front door validates against and open no storage.
type queueSupplier struct {
	pm protector.Memory
	l  *logger.Logger
}

func newQueueSupplier(svc *liaison) *queueSupplier {
	return &queueSupplier{pm: svc.pm, l: svc.l}
}

// OpenResource opens a trace without storage.
func (s *queueSupplier) OpenResource(spec resourceSchema.Resource) (resourceSchema.IndexListener, error) {
	ts, ok := spec.Schema().(*databasev1.Trace)
	if !ok {
		return nil, errors.Errorf("trace: resource %s is not a trace", spec.Schema().GetMetadata().GetName())
	}
	return openTrace(traceSpec{schema: ts}, spec.IndexRules(), s.pm, s.l), nil
}
