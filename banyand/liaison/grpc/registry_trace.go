// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"errors"
	"fmt"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// traceRegistryServer implements banyandb.database.v1.TraceRegistryService.
type traceRegistryServer struct {
	databasev1.UnimplementedTraceRegistryServiceServer
	groups   schema.Group
	traces   schema.Trace
	rules    schema.IndexRule
	bindings schema.IndexRuleBinding
	log      *logger.Logger
}

// Create stores a new trace schema. InvalidArgument if it is invalid, if its group is not a
// CATALOG_TRACE group or if an index rule already bound to its name does not fit it; NotFound if
// its group does not exist; AlreadyExists if it exists.
func (s *traceRegistryServer) Create(ctx context.Context, req *databasev1.TraceRegistryServiceCreateRequest) (
	*databasev1.TraceRegistryServiceCreateResponse, error,
) {
	if err := s.validate(ctx, req.GetTrace()); err != nil {
		return nil, err
	}
	rev, err := s.traces.CreateTrace(ctx, req.GetTrace())
	if err != nil {
		return nil, storeError(s.log, "create trace", err)
	}
	return &databasev1.TraceRegistryServiceCreateResponse{ModRevision: rev}, nil
}

// Update replaces a trace schema, with the checks of Create; NotFound if it does not exist;
// FailedPrecondition, naming the tag, if it removes, renames, moves or retypes a stored tag or
// changes the trace id, span id or timestamp tag name (validateTraceUpdate): only tags added at
// the end are allowed. The response carries mod_revision 0 when the schema equals the stored one.
func (s *traceRegistryServer) Update(ctx context.Context, req *databasev1.TraceRegistryServiceUpdateRequest) (
	*databasev1.TraceRegistryServiceUpdateResponse, error,
) {
	// The layout check comes before the checks against the group and the bound index rules, so
	// that a renamed or moved tag is reported as such rather than as a rule that lost its tag.
	if err := ValidateTrace(req.GetTrace()); err != nil {
		return nil, err
	}
	stored, err := s.traces.GetTrace(ctx, req.GetTrace().GetMetadata())
	if err != nil {
		return nil, storeError(s.log, "get trace", err)
	}
	if err := validateTraceUpdate(stored, req.GetTrace()); err != nil {
		return nil, err
	}
	if err := s.validate(ctx, req.GetTrace()); err != nil {
		return nil, err
	}
	rev, err := s.traces.UpdateTrace(ctx, req.GetTrace())
	if err != nil {
		return nil, storeError(s.log, "update trace", err)
	}
	return &databasev1.TraceRegistryServiceUpdateResponse{ModRevision: rev}, nil
}

// validate checks a trace schema on its own, then its group, then the rules bound to it.
func (s *traceRegistryServer) validate(ctx context.Context, t *databasev1.Trace) error {
	if err := ValidateTrace(t); err != nil {
		return err
	}
	g, err := lookupGroup(ctx, s.log, s.groups, "trace.metadata.group", t.GetMetadata().GetGroup())
	if err != nil {
		return err
	}
	if err = validateTraceGroup("trace.metadata.group", g); err != nil {
		return err
	}
	return s.validateBoundRules(ctx, t)
}

// validateBoundRules checks the trace against every index rule that a binding of its group
// already binds to its name, so that changing a tag's type cannot break an index. Rules that no
// longer exist are skipped: they were deleted after the binding and index nothing.
func (s *traceRegistryServer) validateBoundRules(ctx context.Context, t *databasev1.Trace) error {
	md := t.GetMetadata()
	bindings, err := s.bindings.ListIndexRuleBinding(ctx, schema.ListOpt{Group: md.GetGroup()})
	if err != nil {
		return storeError(s.log, "list index rule bindings", err)
	}
	for _, b := range bindings {
		if !bindsTrace(b, md.GetName()) {
			continue
		}
		for _, name := range b.GetRules() {
			r, err := s.rules.GetIndexRule(ctx, &commonv1.Metadata{Group: md.GetGroup(), Name: name})
			if errors.Is(err, schema.ErrNotFound) {
				continue
			}
			if err != nil {
				return storeError(s.log, "get index rule", err)
			}
			if m := matchRuleToTrace(r, t); m != nil {
				return fieldErrorf("trace.tags", "index rule %q bound by %q: %s",
					name, b.GetMetadata().GetName(), m.reason)
			}
		}
	}
	return nil
}

// bindsTrace reports whether the binding's subject is the named trace.
func bindsTrace(b *databasev1.IndexRuleBinding, trace string) bool {
	return b.GetSubject().GetCatalog() == commonv1.Catalog_CATALOG_TRACE && b.GetSubject().GetName() == trace
}

// Delete removes a trace schema; deleted is false, without error, if it did not exist.
func (s *traceRegistryServer) Delete(ctx context.Context, req *databasev1.TraceRegistryServiceDeleteRequest) (
	*databasev1.TraceRegistryServiceDeleteResponse, error,
) {
	if err := validateMetadata("metadata", req.GetMetadata()); err != nil {
		return nil, err
	}
	deleted, err := s.traces.DeleteTrace(ctx, req.GetMetadata())
	if err != nil {
		return nil, storeError(s.log, "delete trace", err)
	}
	return &databasev1.TraceRegistryServiceDeleteResponse{Deleted: deleted}, nil
}

// Get returns a trace schema with its revisions; NotFound if it does not exist.
func (s *traceRegistryServer) Get(ctx context.Context, req *databasev1.TraceRegistryServiceGetRequest) (
	*databasev1.TraceRegistryServiceGetResponse, error,
) {
	if err := validateMetadata("metadata", req.GetMetadata()); err != nil {
		return nil, err
	}
	t, err := s.traces.GetTrace(ctx, req.GetMetadata())
	if err != nil {
		return nil, storeError(s.log, "get trace", err)
	}
	return &databasev1.TraceRegistryServiceGetResponse{Trace: t}, nil
}

// List returns the trace schemas of a group, or of every group when the group is empty.
func (s *traceRegistryServer) List(ctx context.Context, req *databasev1.TraceRegistryServiceListRequest) (
	*databasev1.TraceRegistryServiceListResponse, error,
) {
	if req.GetGroup() != "" {
		if err := validateName("group", req.GetGroup()); err != nil {
			return nil, err
		}
	}
	traces, err := s.traces.ListTrace(ctx, schema.ListOpt{Group: req.GetGroup()})
	if err != nil {
		return nil, storeError(s.log, "list traces", err)
	}
	return &databasev1.TraceRegistryServiceListResponse{Trace: traces}, nil
}

// Exist reports whether the trace schema and its group exist.
func (s *traceRegistryServer) Exist(ctx context.Context, req *databasev1.TraceRegistryServiceExistRequest) (
	*databasev1.TraceRegistryServiceExistResponse, error,
) {
	if err := validateMetadata("metadata", req.GetMetadata()); err != nil {
		return nil, err
	}
	_, err := s.traces.GetTrace(ctx, req.GetMetadata())
	hasGroup, hasTrace, err := existence(ctx, s.groups, req.GetMetadata().GetGroup(), err)
	if err != nil {
		return nil, storeError(s.log, "exist trace", err)
	}
	return &databasev1.TraceRegistryServiceExistResponse{HasGroup: hasGroup, HasTrace: hasTrace}, nil
}

// existence turns the outcome of a Get of a grouped resource into (has group, has resource):
// found means both; ErrNotFound asks the group registry about the group.
func existence(ctx context.Context, groups schema.Group, group string, getErr error) (bool, bool, error) {
	if getErr == nil {
		return true, true, nil
	}
	if !errors.Is(getErr, schema.ErrNotFound) {
		return false, false, getErr
	}
	hasGroup, err := groupExists(ctx, groups, group)
	if err != nil {
		return false, false, fmt.Errorf("get group %q: %w", group, err)
	}
	return hasGroup, false, nil
}
