// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"errors"

	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// groupRegistryServer implements banyandb.database.v1.GroupRegistryService.
type groupRegistryServer struct {
	databasev1.UnimplementedGroupRegistryServiceServer
	groups schema.Group
	log    *logger.Logger
}

// Create stores a new group: InvalidArgument if it is invalid, AlreadyExists if it exists.
func (s *groupRegistryServer) Create(ctx context.Context, req *databasev1.GroupRegistryServiceCreateRequest) (
	*databasev1.GroupRegistryServiceCreateResponse, error,
) {
	if err := ValidateGroup(req.GetGroup()); err != nil {
		return nil, err
	}
	rev, err := s.groups.CreateGroup(ctx, req.GetGroup())
	if err != nil {
		return nil, storeError(s.log, "create group", err)
	}
	return &databasev1.GroupRegistryServiceCreateResponse{ModRevision: rev}, nil
}

// Update replaces a group: InvalidArgument if it is invalid or changes the catalog, NotFound if
// it does not exist. A group whose resource options equal the stored ones is left untouched and
// the response carries mod_revision 0.
func (s *groupRegistryServer) Update(ctx context.Context, req *databasev1.GroupRegistryServiceUpdateRequest) (
	*databasev1.GroupRegistryServiceUpdateResponse, error,
) {
	g := req.GetGroup()
	if err := ValidateGroup(g); err != nil {
		return nil, err
	}
	stored, err := s.groups.GetGroup(ctx, g.GetMetadata().GetName())
	if err != nil {
		return nil, storeError(s.log, "get group", err)
	}
	if err = validateGroupUpdate(stored, g); err != nil {
		return nil, err
	}
	if proto.Equal(stored.GetResourceOpts(), g.GetResourceOpts()) {
		return &databasev1.GroupRegistryServiceUpdateResponse{}, nil
	}
	rev, err := s.groups.UpdateGroup(ctx, g)
	if err != nil {
		return nil, storeError(s.log, "update group", err)
	}
	return &databasev1.GroupRegistryServiceUpdateResponse{ModRevision: rev}, nil
}

// Delete removes a group and every resource in it; NotFound if it does not exist.
func (s *groupRegistryServer) Delete(ctx context.Context, req *databasev1.GroupRegistryServiceDeleteRequest) (
	*databasev1.GroupRegistryServiceDeleteResponse, error,
) {
	if err := validateName("group", req.GetGroup()); err != nil {
		return nil, err
	}
	deleted, err := s.groups.DeleteGroup(ctx, req.GetGroup())
	if err != nil {
		return nil, storeError(s.log, "delete group", err)
	}
	return &databasev1.GroupRegistryServiceDeleteResponse{Deleted: deleted}, nil
}

// Get returns a group with its revisions; NotFound if it does not exist.
func (s *groupRegistryServer) Get(ctx context.Context, req *databasev1.GroupRegistryServiceGetRequest) (
	*databasev1.GroupRegistryServiceGetResponse, error,
) {
	if err := validateName("group", req.GetGroup()); err != nil {
		return nil, err
	}
	g, err := s.groups.GetGroup(ctx, req.GetGroup())
	if err != nil {
		return nil, storeError(s.log, "get group", err)
	}
	return &databasev1.GroupRegistryServiceGetResponse{Group: g}, nil
}

// List returns every group.
func (s *groupRegistryServer) List(ctx context.Context, _ *databasev1.GroupRegistryServiceListRequest) (
	*databasev1.GroupRegistryServiceListResponse, error,
) {
	groups, err := s.groups.ListGroup(ctx)
	if err != nil {
		return nil, storeError(s.log, "list groups", err)
	}
	return &databasev1.GroupRegistryServiceListResponse{Group: groups}, nil
}

// Exist reports whether a group exists.
func (s *groupRegistryServer) Exist(ctx context.Context, req *databasev1.GroupRegistryServiceExistRequest) (
	*databasev1.GroupRegistryServiceExistResponse, error,
) {
	if err := validateName("group", req.GetGroup()); err != nil {
		return nil, err
	}
	ok, err := groupExists(ctx, s.groups, req.GetGroup())
	if err != nil {
		return nil, storeError(s.log, "get group", err)
	}
	return &databasev1.GroupRegistryServiceExistResponse{HasGroup: ok}, nil
}

// groupExists reports whether the group exists; only errors other than ErrNotFound are returned.
func groupExists(ctx context.Context, groups schema.Group, name string) (bool, error) {
	_, err := groups.GetGroup(ctx, name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, schema.ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}

// lookupGroup returns the group a resource refers to through field; NotFound names the field.
func lookupGroup(ctx context.Context, log *logger.Logger, groups schema.Group, field, name string) (*commonv1.Group, error) {
	g, err := groups.GetGroup(ctx, name)
	if errors.Is(err, schema.ErrNotFound) {
		return nil, notFoundf(field, "group %q not found", name)
	}
	if err != nil {
		return nil, storeError(log, "get group", err)
	}
	return g, nil
}
