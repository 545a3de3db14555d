// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package trace is the trace model: the trace services of the liaison and of the data side
// (standalone or data node), the schema repository that keeps open traces in step with the
// metadata store, the write path (write_*.go) and the query path (query*.go).
package trace

import (
	"context"
	"sync/atomic"

	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/query/model"
	"github.com/apache/skywalking-banyandb/pkg/run"
	"github.com/apache/skywalking-banyandb/pkg/schema"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

var (
	errEmptyRootPath = errors.New("root path is empty")
	// ErrTraceNotExist is returned when a trace schema is not (or no longer) loaded.
	ErrTraceNotExist = errors.New("trace doesn't exist")
)

// Service allows inspecting the trace data.
type Service interface {
	run.PreRunner
	run.Config
	run.Service
	Query
}

// Query allows retrieving traces.
type Query interface {
	// LoadGroup returns an open group of catalog TRACE.
	LoadGroup(name string) (schema.Group, bool)
	// Trace returns the live trace of a schema; ErrTraceNotExist if it is not loaded.
	Trace(metadata *commonv1.Metadata) (Trace, error)
	// GetRemovalSegmentsTimeRange returns the time range the next retention sweep of a group removes.
	GetRemovalSegmentsTimeRange(group string) *timestamp.TimeRange
}

// Trace allows inspecting trace details.
type Trace interface {
	// GetSchema returns the trace schema.
	GetSchema() *databasev1.Trace
	// GetIndexRules returns the index rules bound to the trace.
	GetIndexRules() []*databasev1.IndexRule
	// Query runs a query against this trace's data in its group.
	Query(ctx context.Context, opts model.TraceQueryOptions) (model.TraceQueryResult, error)
}

// trace is an open trace schema bound to its group's storage.
type trace struct {
	pm          protector.Memory
	indexSchema atomic.Value // *indexSchema
	tsdb        atomic.Value // *tsdbHolder; unset on nodes that hold no data
	l           *logger.Logger
	schema      *databasev1.Trace
	schemaRepo  *schemaRepo
	name        string
	group       string
}

// traceSpec is what a supplier needs to open a trace.
type traceSpec struct {
	schema *databasev1.Trace
}

func (t *trace) GetSchema() *databasev1.Trace { return t.schema }

func (t *trace) GetIndexRules() []*databasev1.IndexRule {
	return t.loadIndexSchema().rules
}

// OnIndexUpdate swaps in the new rule set; writes and queries that started before keep the old one.
func (t *trace) OnIndexUpdate(rules []*databasev1.IndexRule) {
	t.indexSchema.Store(newIndexSchema(t.schema, rules))
	t.l.Info().Int("rules", len(rules)).Msg("index rules updated")
}

func (t *trace) loadIndexSchema() *indexSchema {
	return t.indexSchema.Load().(*indexSchema)
}

func (t *trace) loadTSDB() (*tsdbHolder, bool) {
	h, ok := t.tsdb.Load().(*tsdbHolder)
	return h, ok && h != nil
}

func openTrace(spec traceSpec, rules []*databasev1.IndexRule, repo *schemaRepo, pm protector.Memory, l *logger.Logger) *trace {
	md := spec.schema.GetMetadata()
	t := &trace{
		pm:         pm,
		schema:     spec.schema,
		schemaRepo: repo,
		name:       md.GetName(),
		group:      md.GetGroup(),
		l:          l.Named(md.GetGroup(), md.GetName()),
	}
	t.indexSchema.Store(newIndexSchema(spec.schema, rules))
	return t
}
