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
	"slices"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// indexRuleRegistryServer implements banyandb.database.v1.IndexRuleRegistryService.
type indexRuleRegistryServer struct {
	databasev1.UnimplementedIndexRuleRegistryServiceServer
	groups   schema.Group
	traces   schema.Trace
	rules    schema.IndexRule
	bindings schema.IndexRuleBinding
	log      *logger.Logger
}

// Create stores a new index rule; the store gives it an id (schema.IndexRuleID) when it has none.
// InvalidArgument if it is
// invalid or does not fit a trace that an existing binding binds it to; NotFound if its group
// does not exist; AlreadyExists if it exists.
func (s *indexRuleRegistryServer) Create(ctx context.Context, req *databasev1.IndexRuleRegistryServiceCreateRequest) (
	*databasev1.IndexRuleRegistryServiceCreateResponse, error,
) {
	if err := s.validate(ctx, req.GetIndexRule()); err != nil {
		return nil, err
	}
	rev, err := s.rules.CreateIndexRule(ctx, req.GetIndexRule())
	if err != nil {
		return nil, storeError(s.log, "create index rule", err)
	}
	return &databasev1.IndexRuleRegistryServiceCreateResponse{ModRevision: rev}, nil
}

// Update replaces an index rule, with the checks of Create; NotFound if it does not exist. A rule
// sent without an id keeps the stored one (the store sees to it).
func (s *indexRuleRegistryServer) Update(ctx context.Context, req *databasev1.IndexRuleRegistryServiceUpdateRequest) (
	*databasev1.IndexRuleRegistryServiceUpdateResponse, error,
) {
	if err := s.validate(ctx, req.GetIndexRule()); err != nil {
		return nil, err
	}
	rev, err := s.rules.UpdateIndexRule(ctx, req.GetIndexRule())
	if err != nil {
		return nil, storeError(s.log, "update index rule", err)
	}
	return &databasev1.IndexRuleRegistryServiceUpdateResponse{ModRevision: rev}, nil
}

// validate checks an index rule on its own, then its group, then every trace it is bound to.
func (s *indexRuleRegistryServer) validate(ctx context.Context, r *databasev1.IndexRule) error {
	if err := ValidateIndexRule(r); err != nil {
		return err
	}
	md := r.GetMetadata()
	if _, err := lookupGroup(ctx, s.log, s.groups, "index_rule.metadata.group", md.GetGroup()); err != nil {
		return err
	}
	bindings, err := s.bindings.ListIndexRuleBinding(ctx, schema.ListOpt{Group: md.GetGroup()})
	if err != nil {
		return storeError(s.log, "list index rule bindings", err)
	}
	for _, b := range bindings {
		if b.GetSubject().GetCatalog() != commonv1.Catalog_CATALOG_TRACE || !slices.Contains(b.GetRules(), md.GetName()) {
			continue
		}
		t, err := s.traces.GetTrace(ctx, &commonv1.Metadata{Group: md.GetGroup(), Name: b.GetSubject().GetName()})
		if errors.Is(err, schema.ErrNotFound) {
			// The bound trace was deleted: the binding indexes nothing until it comes back, and
			// then the trace is checked against this rule.
			continue
		}
		if err != nil {
			return storeError(s.log, "get trace", err)
		}
		if m := matchRuleToTrace(r, t); m != nil {
			return fieldErrorf(fmt.Sprintf("index_rule.tags[%d]", m.tag), "binding %q binds the rule to trace %q: %s",
				b.GetMetadata().GetName(), t.GetMetadata().GetName(), m.reason)
		}
	}
	return nil
}

// Delete removes an index rule; deleted is false, without error, if it did not exist.
func (s *indexRuleRegistryServer) Delete(ctx context.Context, req *databasev1.IndexRuleRegistryServiceDeleteRequest) (
	*databasev1.IndexRuleRegistryServiceDeleteResponse, error,
) {
	if err := validateMetadata("metadata", req.GetMetadata()); err != nil {
		return nil, err
	}
	deleted, err := s.rules.DeleteIndexRule(ctx, req.GetMetadata())
	if err != nil {
		return nil, storeError(s.log, "delete index rule", err)
	}
	return &databasev1.IndexRuleRegistryServiceDeleteResponse{Deleted: deleted}, nil
}

// Get returns an index rule with its revisions; NotFound if it does not exist.
func (s *indexRuleRegistryServer) Get(ctx context.Context, req *databasev1.IndexRuleRegistryServiceGetRequest) (
	*databasev1.IndexRuleRegistryServiceGetResponse, error,
) {
	if err := validateMetadata("metadata", req.GetMetadata()); err != nil {
		return nil, err
	}
	r, err := s.rules.GetIndexRule(ctx, req.GetMetadata())
	if err != nil {
		return nil, storeError(s.log, "get index rule", err)
	}
	return &databasev1.IndexRuleRegistryServiceGetResponse{IndexRule: r}, nil
}

// List returns the index rules of a group; InvalidArgument when the group is empty.
func (s *indexRuleRegistryServer) List(ctx context.Context, req *databasev1.IndexRuleRegistryServiceListRequest) (
	*databasev1.IndexRuleRegistryServiceListResponse, error,
) {
	if err := validateName("group", req.GetGroup()); err != nil {
		return nil, err
	}
	rules, err := s.rules.ListIndexRule(ctx, schema.ListOpt{Group: req.GetGroup()})
	if err != nil {
		return nil, storeError(s.log, "list index rules", err)
	}
	return &databasev1.IndexRuleRegistryServiceListResponse{IndexRule: rules}, nil
}

// Exist reports whether the index rule and its group exist.
func (s *indexRuleRegistryServer) Exist(ctx context.Context, req *databasev1.IndexRuleRegistryServiceExistRequest) (
	*databasev1.IndexRuleRegistryServiceExistResponse, error,
) {
	if err := validateMetadata("metadata", req.GetMetadata()); err != nil {
		return nil, err
	}
	_, err := s.rules.GetIndexRule(ctx, req.GetMetadata())
	hasGroup, hasRule, err := existence(ctx, s.groups, req.GetMetadata().GetGroup(), err)
	if err != nil {
		return nil, storeError(s.log, "exist index rule", err)
	}
	return &databasev1.IndexRuleRegistryServiceExistResponse{HasGroup: hasGroup, HasIndexRule: hasRule}, nil
}

// indexRuleBindingRegistryServer implements banyandb.database.v1.IndexRuleBindingRegistryService.
type indexRuleBindingRegistryServer struct {
	databasev1.UnimplementedIndexRuleBindingRegistryServiceServer
	groups   schema.Group
	traces   schema.Trace
	rules    schema.IndexRule
	bindings schema.IndexRuleBinding
	log      *logger.Logger
}

// Create stores a new binding. InvalidArgument if it is invalid or a rule does not fit the
// trace; NotFound if its group, its subject trace or one of its rules does not exist;
// AlreadyExists if it exists.
func (s *indexRuleBindingRegistryServer) Create(ctx context.Context, req *databasev1.IndexRuleBindingRegistryServiceCreateRequest) (
	*databasev1.IndexRuleBindingRegistryServiceCreateResponse, error,
) {
	if err := s.validate(ctx, req.GetIndexRuleBinding()); err != nil {
		return nil, err
	}
	rev, err := s.bindings.CreateIndexRuleBinding(ctx, req.GetIndexRuleBinding())
	if err != nil {
		return nil, storeError(s.log, "create index rule binding", err)
	}
	return &databasev1.IndexRuleBindingRegistryServiceCreateResponse{ModRevision: rev}, nil
}

// Update replaces a binding, with the checks of Create; NotFound if it does not exist.
func (s *indexRuleBindingRegistryServer) Update(ctx context.Context, req *databasev1.IndexRuleBindingRegistryServiceUpdateRequest) (
	*databasev1.IndexRuleBindingRegistryServiceUpdateResponse, error,
) {
	if err := s.validate(ctx, req.GetIndexRuleBinding()); err != nil {
		return nil, err
	}
	rev, err := s.bindings.UpdateIndexRuleBinding(ctx, req.GetIndexRuleBinding())
	if err != nil {
		return nil, storeError(s.log, "update index rule binding", err)
	}
	return &databasev1.IndexRuleBindingRegistryServiceUpdateResponse{ModRevision: rev}, nil
}

// validate checks a binding on its own, then that its group, trace and rules exist, then that
// every rule fits the trace.
func (s *indexRuleBindingRegistryServer) validate(ctx context.Context, b *databasev1.IndexRuleBinding) error {
	if err := ValidateIndexRuleBinding(b); err != nil {
		return err
	}
	group := b.GetMetadata().GetGroup()
	if _, err := lookupGroup(ctx, s.log, s.groups, "index_rule_binding.metadata.group", group); err != nil {
		return err
	}
	t, err := s.traces.GetTrace(ctx, &commonv1.Metadata{Group: group, Name: b.GetSubject().GetName()})
	if errors.Is(err, schema.ErrNotFound) {
		return notFoundf("index_rule_binding.subject.name", "trace %q not found in group %q", b.GetSubject().GetName(), group)
	}
	if err != nil {
		return storeError(s.log, "get trace", err)
	}
	rules := make([]*databasev1.IndexRule, len(b.GetRules()))
	for i, name := range b.GetRules() {
		r, err := s.rules.GetIndexRule(ctx, &commonv1.Metadata{Group: group, Name: name})
		if errors.Is(err, schema.ErrNotFound) {
			return notFoundf(fmt.Sprintf("index_rule_binding.rules[%d]", i), "index rule %q not found in group %q", name, group)
		}
		if err != nil {
			return storeError(s.log, "get index rule", err)
		}
		rules[i] = r
	}
	return validateBindingReferences(b, t, rules)
}

// Delete removes a binding; deleted is false, without error, if it did not exist.
func (s *indexRuleBindingRegistryServer) Delete(ctx context.Context, req *databasev1.IndexRuleBindingRegistryServiceDeleteRequest) (
	*databasev1.IndexRuleBindingRegistryServiceDeleteResponse, error,
) {
	if err := validateMetadata("metadata", req.GetMetadata()); err != nil {
		return nil, err
	}
	deleted, err := s.bindings.DeleteIndexRuleBinding(ctx, req.GetMetadata())
	if err != nil {
		return nil, storeError(s.log, "delete index rule binding", err)
	}
	return &databasev1.IndexRuleBindingRegistryServiceDeleteResponse{Deleted: deleted}, nil
}

// Get returns a binding with its revisions; NotFound if it does not exist.
func (s *indexRuleBindingRegistryServer) Get(ctx context.Context, req *databasev1.IndexRuleBindingRegistryServiceGetRequest) (
	*databasev1.IndexRuleBindingRegistryServiceGetResponse, error,
) {
	if err := validateMetadata("metadata", req.GetMetadata()); err != nil {
		return nil, err
	}
	b, err := s.bindings.GetIndexRuleBinding(ctx, req.GetMetadata())
	if err != nil {
		return nil, storeError(s.log, "get index rule binding", err)
	}
	return &databasev1.IndexRuleBindingRegistryServiceGetResponse{IndexRuleBinding: b}, nil
}

// List returns the bindings of a group; InvalidArgument when the group is empty.
func (s *indexRuleBindingRegistryServer) List(ctx context.Context, req *databasev1.IndexRuleBindingRegistryServiceListRequest) (
	*databasev1.IndexRuleBindingRegistryServiceListResponse, error,
) {
	if err := validateName("group", req.GetGroup()); err != nil {
		return nil, err
	}
	bindings, err := s.bindings.ListIndexRuleBinding(ctx, schema.ListOpt{Group: req.GetGroup()})
	if err != nil {
		return nil, storeError(s.log, "list index rule bindings", err)
	}
	return &databasev1.IndexRuleBindingRegistryServiceListResponse{IndexRuleBinding: bindings}, nil
}

// Exist reports whether the binding and its group exist.
func (s *indexRuleBindingRegistryServer) Exist(ctx context.Context, req *databasev1.IndexRuleBindingRegistryServiceExistRequest) (
	*databasev1.IndexRuleBindingRegistryServiceExistResponse, error,
) {
	if err := validateMetadata("metadata", req.GetMetadata()); err != nil {
		return nil, err
	}
	_, err := s.bindings.GetIndexRuleBinding(ctx, req.GetMetadata())
	hasGroup, hasBinding, err := existence(ctx, s.groups, req.GetMetadata().GetGroup(), err)
	if err != nil {
		return nil, storeError(s.log, "exist index rule binding", err)
	}
	return &databasev1.IndexRuleBindingRegistryServiceExistResponse{HasGroup: hasGroup, HasIndexRuleBinding: hasBinding}, nil
}
