// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/bydbql"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// TraceQuerier answers trace QueryRequests and holds the schemas it checks them against: the
// TraceService front door.
type TraceQuerier interface {
	Query(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.QueryResponse, error)
	// QuerySchema returns the loaded schema of a trace and the index rules bound to it now; false
	// when the node follows no such trace (yet).
	QuerySchema(group, name string) (*databasev1.Trace, []*databasev1.IndexRule, bool)
}

// bydbqlServer is BydbQLService: it turns a statement into the QueryRequest it means and asks
// the trace front door, so that a statement and its QueryRequest twin answer the same.
type bydbqlServer struct {
	bydbqlv1.UnimplementedBydbQLServiceServer
	trace TraceQuerier
	tf    bydbql.Transformer
}

var _ bydbqlv1.BydbQLServiceServer = (*bydbqlServer)(nil)

// NewBydbQLServer returns BydbQLService over the trace front door, binding statements against the
// schemas the front door holds (a trace it does not hold yet is read from repo's registries);
// clock resolves relative times ('-15m') and nil means the real clock.
func NewBydbQLServer(trace TraceQuerier, repo metadata.Repo, clock timestamp.Clock) bydbqlv1.BydbQLServiceServer {
	if clock == nil {
		clock = timestamp.RealClock()
	}
	read := schemaLookup(repo, clock)
	lookup := func(ctx context.Context, group, name string) (*databasev1.Trace, []*databasev1.IndexRule, error) {
		if tr, rules, ok := trace.QuerySchema(group, name); ok {
			return tr, rules, nil
		}
		return read(ctx, group, name)
	}
	return &bydbqlServer{trace: trace, tf: bydbql.Transformer{Lookup: lookup, Clock: clock}}
}

// Query parses, binds and transforms the statement, then runs it as a trace query.
func (s *bydbqlServer) Query(ctx context.Context, req *bydbqlv1.QueryRequest) (*bydbqlv1.QueryResponse, error) {
	if req.GetQuery() == "" {
		return nil, status.Error(codes.InvalidArgument, "query: the statement is empty")
	}
	qr, err := s.tf.Compile(ctx, req.GetQuery(), req.GetParams())
	if err != nil {
		return nil, err
	}
	resp, err := s.trace.Query(ctx, qr)
	if err != nil {
		return nil, err
	}
	return &bydbqlv1.QueryResponse{Result: &bydbqlv1.QueryResponse_TraceResult{TraceResult: resp}}, nil
}

// schemaLookup reads a trace and the index rules bound to it now from the metadata registries.
func schemaLookup(repo metadata.Repo, clock timestamp.Clock) bydbql.SchemaLookup {
	return func(ctx context.Context, group, name string) (*databasev1.Trace, []*databasev1.IndexRule, error) {
		tr, err := repo.TraceRegistry().GetTrace(ctx, &commonv1.Metadata{Group: group, Name: name})
		if err != nil {
			return nil, nil, lookupError(err, "get trace %s/%s", group, name)
		}
		bindings, err := repo.IndexRuleBindingRegistry().ListIndexRuleBinding(ctx, schema.ListOpt{Group: group})
		if err != nil {
			return nil, nil, lookupError(err, "list the index rule bindings of group %s", group)
		}
		now := clock.Now()
		bound := make(map[string]bool)
		for _, b := range bindings {
			if b.GetSubject().GetName() != name || b.GetSubject().GetCatalog() != commonv1.Catalog_CATALOG_TRACE || !inEffect(b, now) {
				continue
			}
			for _, r := range b.GetRules() {
				bound[r] = true
			}
		}
		if len(bound) == 0 {
			return tr, nil, nil
		}
		all, err := repo.IndexRuleRegistry().ListIndexRule(ctx, schema.ListOpt{Group: group})
		if err != nil {
			return nil, nil, lookupError(err, "list the index rules of group %s", group)
		}
		var rules []*databasev1.IndexRule
		for _, r := range all {
			if bound[r.GetMetadata().GetName()] {
				rules = append(rules, r)
			}
		}
		return tr, rules, nil
	}
}

// inEffect reports whether a binding applies at now: from begin_at (inclusive) to expire_at.
func inEffect(b *databasev1.IndexRuleBinding, now time.Time) bool {
	if b.GetBeginAt() != nil && now.Before(b.GetBeginAt().AsTime()) {
		return false
	}
	return b.GetExpireAt() == nil || now.Before(b.GetExpireAt().AsTime())
}

// lookupError maps a registry error: a missing resource to bydbql.ErrNotFound, a closed registry
// to Unavailable, anything else to Internal.
func lookupError(err error, format string, args ...any) error {
	switch {
	case errors.Is(err, schema.ErrNotFound):
		return errors.Wrapf(bydbql.ErrNotFound, format, args...)
	case errors.Is(err, schema.ErrClosed):
		return status.Error(codes.Unavailable, errors.Wrapf(err, format, args...).Error())
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Internal, errors.Wrapf(err, format, args...).Error())
}
