// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package trace is the data side of the trace model and the seed's trace services. It owns the
// schema repository that keeps open traces in step with the metadata store (metadata.go), the
// services of a node that stores traces (svc_data.go: standalone or data node) and of a liaison
// (svc_liaison.go), the checks the front door runs once per request against the schemas
// (resolve.go, write_validate.go, query_check.go), the data-side write (write_data.go: one table
// batch per segment and shard) and query execution (query_data.go, query.go, query_index.go,
// query_filter.go), the group TSDBs (tsdb.go) and snapshots (snapshot.go). The public
// TraceService lives in banyand/liaison/grpc; the two meet through banyand/queue's typed data plane.
package trace

import (
	"context"
	"sync/atomic"

	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/pkg/logger"
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
	// Query runs a query against this trace's data in its group and returns the ranked traces.
	Query(ctx context.Context, opts QueryOptions) ([]*tracev1.InternalTrace, error)
}

// trace is an open trace schema bound to its group's storage.
type trace struct {
	pm          protector.Memory
	indexSchema atomic.Value // *indexSchema
	tsdb        atomic.Value // *tsdbHolder; unset on nodes that hold no data
	l           *logger.Logger
	schema      *databasev1.Trace
	name        string
	group       string
}

// traceSpec is what a supplier needs to open a trace.
type traceSpec struct {
	schema *databasev1.Trace
}

func (t *trace) GetSchema() *databasev1.Trace { return t.schema }

// revision is the mod_revision of the schema the trace was opened with.
func (t *trace) revision() int64 { return t.schema.GetMetadata().GetModRevision() }

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

func openTrace(spec traceSpec, rules []*databasev1.IndexRule, pm protector.Memory, l *logger.Logger) *trace {
	md := spec.schema.GetMetadata()
	t := &trace{
		pm:     pm,
		schema: spec.schema,
		name:   md.GetName(),
		group:  md.GetGroup(),
		l:      l.Named(md.GetGroup(), md.GetName()),
	}
	t.indexSchema.Store(newIndexSchema(spec.schema, rules))
	return t
}
