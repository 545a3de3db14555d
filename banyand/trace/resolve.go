// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"time"

	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	resourceSchema "github.com/apache/skywalking-banyandb/pkg/schema"
	"github.com/apache/skywalking-banyandb/pkg/tagspec"
)

// Schemas is what the public front door (banyand/liaison/grpc) needs of a node's trace service:
// the schemas to validate writes and queries against, once, before they reach the data plane.
type Schemas interface {
	// ResolveWrite returns the schema a write names. A schema created a moment ago through another
	// node may not have reached this one yet, so a missing one is waited for, up to
	// --trace-metadata-cache-wait-duration, once per batch: waited records the schemas the batch
	// already waited for.
	ResolveWrite(ctx context.Context, md *commonv1.Metadata, waited map[string]bool) (*WriteSchema, bool)
	// CheckQuery validates a query against the schemas of its groups and normalizes it for the
	// data nodes.
	CheckQuery(req *tracev1.QueryRequest) (*CheckedQuery, error)
	// TraceSchema returns the loaded schema of the trace name in group, for the front door's query
	// validation; false when the node follows no such trace.
	TraceSchema(group, name string) (*databasev1.Trace, bool)
	// QuerySchema returns the loaded schema of the trace name in group and the index rules bound
	// to it now, for BydbQL's binder; false when the node follows no such trace.
	QuerySchema(group, name string) (*databasev1.Trace, []*databasev1.IndexRule, bool)
	// QueryBounds returns what bounds a query on this node: the memory protector that the front
	// door charges a query's merged answers to, and the largest answer it may return.
	QueryBounds() QueryBounds
	// RefuseWrites reports whether the front door itself must refuse writes (STATUS_DISK_FULL).
	RefuseWrites() bool
	// ObserveMissingNodes records how many data nodes did not answer the last query.
	ObserveMissingNodes(n int)
	// HasGroup reports whether the node follows a TRACE group of that name.
	HasGroup(name string) bool
}

// WriteSchema is the loaded schema of one trace, as the front door validates a write against it.
type WriteSchema struct {
	t        *trace
	is       *indexSchema
	shardNum uint32
}

// Group names the schema's group.
func (w *WriteSchema) Group() string { return w.t.group }

// Name names the trace schema.
func (w *WriteSchema) Name() string { return w.t.name }

// ShardNum is the shard count of the schema's group.
func (w *WriteSchema) ShardNum() uint32 { return w.shardNum }

// TagNames lists the schema's tag names in schema order, the order a request's tag values follow.
func (w *WriteSchema) TagNames() []string { return w.is.tags.names }

// Normalize returns a request's tag values in schema order as the stream's tag spec places them
// (API 0.10), or the status that refuses them and a reason for the log.
func (w *WriteSchema) Normalize(spec tagspec.Spec, tags []*modelv1.TagValue) ([]*modelv1.TagValue, modelv1.Status, string) {
	return spec.Normalize(w.is.tags.spec, tags)
}

// Parse validates a request against the schema once: the schema revision it names, its tag values
// and the trace id, span id and timestamp; it returns the span routed to its shard, or the status
// of the failure with a reason for the log.
func (w *WriteSchema) Parse(req *tracev1.WriteRequest) (queue.Span, modelv1.Status, string) {
	if st := checkRevision(req, w.t.schema); st != modelv1.Status_STATUS_SUCCEED {
		return queue.Span{}, st, "the schema revision differs"
	}
	ps, st, reason := parseStoredSpan(w.t.name, &w.is.tags, req)
	if st != modelv1.Status_STATUS_SUCCEED {
		return queue.Span{}, st, reason
	}
	return queue.Span{
		Request:   req,
		TraceID:   ps.traceID,
		SpanID:    ps.spanID,
		Timestamp: ps.ts,
		Revision:  w.t.revision(),
		Shard:     shardOf(ps.traceID, w.shardNum),
	}, modelv1.Status_STATUS_SUCCEED, ""
}

// resolveWrite is ResolveWrite of both services.
func (sr *schemaRepo) resolveWrite(ctx context.Context, md *commonv1.Metadata, wait time.Duration, waited map[string]bool) (*WriteSchema, bool) {
	t, ok := sr.traceForWrite(ctx, md, wait, waited)
	if !ok {
		return nil, false
	}
	g, ok := sr.LoadGroup(t.group)
	if !ok {
		return nil, false
	}
	return &WriteSchema{t: t, is: t.loadIndexSchema(), shardNum: g.GetSchema().GetResourceOpts().GetShardNum()}, true
}

// group is LoadGroup of both services: the group, or false before the repository runs.
func (sr *schemaRepo) group(name string) (resourceSchema.Group, bool) {
	if sr.Repository == nil {
		return nil, false
	}
	return sr.LoadGroup(name)
}

// trace is Trace of both services: the loaded trace, or ErrTraceNotExist.
func (sr *schemaRepo) trace(md *commonv1.Metadata) (Trace, error) {
	if sr.Repository != nil {
		if t, ok := sr.loadTrace(md); ok {
			return t, nil
		}
	}
	return nil, errors.Wrapf(ErrTraceNotExist, "%s/%s", md.GetGroup(), md.GetName())
}

// querySchema is QuerySchema of both services.
func (sr *schemaRepo) querySchema(group, name string) (*databasev1.Trace, []*databasev1.IndexRule, bool) {
	t, ok := sr.loadTrace(&commonv1.Metadata{Group: group, Name: name})
	if !ok {
		return nil, nil, false
	}
	return t.schema, t.loadIndexSchema().rules, true
}

// traceSchema is TraceSchema of both services.
func (sr *schemaRepo) traceSchema(group, name string) (*databasev1.Trace, bool) {
	t, ok := sr.loadTrace(&commonv1.Metadata{Group: group, Name: name})
	if !ok {
		return nil, false
	}
	return t.schema, true
}

var (
	_ Schemas = (*standalone)(nil)
	_ Schemas = (*liaison)(nil)
)

// ResolveWrite returns the schema a write names.
func (s *standalone) ResolveWrite(ctx context.Context, md *commonv1.Metadata, waited map[string]bool) (*WriteSchema, bool) {
	return s.schemaRepo.resolveWrite(ctx, md, s.schemaWait, waited)
}

// CheckQuery validates a query; the data side compiles its plan when it runs it.
func (s *standalone) CheckQuery(req *tracev1.QueryRequest) (*CheckedQuery, error) {
	return s.schemaRepo.checkQuery(req, false)
}

// TraceSchema returns the loaded schema of a trace.
func (s *standalone) TraceSchema(group, name string) (*databasev1.Trace, bool) {
	return s.schemaRepo.traceSchema(group, name)
}

// QuerySchema returns the loaded schema of a trace and the index rules bound to it.
func (s *standalone) QuerySchema(group, name string) (*databasev1.Trace, []*databasev1.IndexRule, bool) {
	return s.schemaRepo.querySchema(group, name)
}

// QueryBounds returns the node's memory protector and --trace-max-query-response-size.
func (s *standalone) QueryBounds() QueryBounds {
	return QueryBounds{Memory: s.pm, MaxResponseBytes: int(s.option.maxQueryResponseSize)}
}

// RefuseWrites is false on a standalone server: its data side checks the data disk itself.
func (s *standalone) RefuseWrites() bool { return false }

// ObserveMissingNodes records how many nodes did not answer the last query.
func (s *standalone) ObserveMissingNodes(n int) {
	s.metrics.missingNodes.WithLabelValues().Set(float64(n))
}

// ResolveWrite returns the schema a write names.
func (l *liaison) ResolveWrite(ctx context.Context, md *commonv1.Metadata, waited map[string]bool) (*WriteSchema, bool) {
	return l.schemaRepo.resolveWrite(ctx, md, l.schemaWait, waited)
}

// CheckQuery validates a query and compiles its plan for every group.
func (l *liaison) CheckQuery(req *tracev1.QueryRequest) (*CheckedQuery, error) {
	return l.schemaRepo.checkQuery(req, true)
}

// TraceSchema returns the loaded schema of a trace.
func (l *liaison) TraceSchema(group, name string) (*databasev1.Trace, bool) {
	return l.schemaRepo.traceSchema(group, name)
}

// QuerySchema returns the loaded schema of a trace and the index rules bound to it.
func (l *liaison) QuerySchema(group, name string) (*databasev1.Trace, []*databasev1.IndexRule, bool) {
	return l.schemaRepo.querySchema(group, name)
}

// QueryBounds returns the liaison's memory protector and --trace-max-query-response-size.
func (l *liaison) QueryBounds() QueryBounds {
	return QueryBounds{Memory: l.pm, MaxResponseBytes: int(l.option.maxQueryResponseSize)}
}

// RefuseWrites is true while the liaison's own disk is above --trace-max-disk-usage-percent.
func (l *liaison) RefuseWrites() bool {
	return diskAbove(l.lfs, l.dataPath, l.maxDiskUsagePercent, l.l)
}

// ObserveMissingNodes records how many data nodes did not answer the last query.
func (l *liaison) ObserveMissingNodes(n int) {
	l.metrics.missingNodes.WithLabelValues().Set(float64(n))
}

// HasGroup reports whether the server follows a TRACE group of that name.
func (s *standalone) HasGroup(name string) bool {
	_, ok := s.schemaRepo.LoadGroup(name)
	return ok
}

// HasGroup reports whether the liaison follows a TRACE group of that name.
func (l *liaison) HasGroup(name string) bool {
	_, ok := l.schemaRepo.LoadGroup(name)
	return ok
}
