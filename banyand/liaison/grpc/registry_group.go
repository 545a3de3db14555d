// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// GroupData is the data side of the group operations: what the data nodes hold of a group. A
// standalone server answers for itself; a liaison asks every data node.
type GroupData interface {
	// InspectGroup answers what every data node holds of the group (segments, shards, span counts,
	// bytes), and what this node holds for the data nodes that has not reached them yet (nil on
	// a node that forwards nothing).
	InspectGroup(ctx context.Context, group string) ([]*databasev1.DataInfo, []*databasev1.LiaisonInfo, error)
	// DropGroupData deletes every segment of the group on every data node and keeps the group;
	// it answers the bytes the segments took.
	DropGroupData(ctx context.Context, group string) (int64, error)
}

// groupRegistryServer implements banyandb.database.v1.GroupRegistryService.
type groupRegistryServer struct {
	databasev1.UnimplementedGroupRegistryServiceServer
	groups   schema.Group
	traces   schema.Trace
	rules    schema.IndexRule
	bindings schema.IndexRuleBinding
	// data is nil where no data side is wired (then Inspect reports no data and Delete finds none).
	data GroupData
	log  *logger.Logger
	// tasks holds each group's latest deletion task, in the metadata store: every liaison of a
	// cluster answers the same, and a restart loses none.
	tasks schema.DeletionTask
}

// Task count keys: the kinds of GroupDeletionTask.total_counts and deleted_counts.
const (
	countTraces            = "traces"
	countIndexRules        = "index_rules"
	countIndexRuleBindings = "index_rule_bindings"
	countSpans             = "spans"
	countSegments          = "segments"
)

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

// Delete removes a group and every resource in it; NotFound if it does not exist. dry_run answers
// the SchemaInfo that would go and changes nothing; a group holding spans is refused with
// FailedPrecondition unless force is set; data_only deletes the group's data and keeps the group
// and its resources (the SchemaInfo answered is then empty: no schema resource went). Every
// deletion that runs is recorded as the group's GroupDeletionTask, which Query reports.
func (s *groupRegistryServer) Delete(ctx context.Context, req *databasev1.GroupRegistryServiceDeleteRequest) (
	*databasev1.GroupRegistryServiceDeleteResponse, error,
) {
	name := req.GetGroup()
	if err := validateName("group", name); err != nil {
		return nil, err
	}
	if _, err := s.groups.GetGroup(ctx, name); err != nil {
		return nil, storeError(s.log, "get group", err)
	}
	info, err := s.schemaInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	if req.GetDataOnly() {
		if s.data == nil {
			return nil, status.Errorf(codes.FailedPrecondition, "data_only: this server has no data side to delete the data of group %q from", name)
		}
		info = &databasev1.SchemaInfo{}
	}
	spans, segments, bytes, err := s.dataTotals(ctx, name)
	if err != nil {
		return nil, err
	}
	if req.GetDryRun() {
		return &databasev1.GroupRegistryServiceDeleteResponse{SchemaInfo: info}, nil
	}
	if spans > 0 && !req.GetForce() {
		return nil, status.Errorf(codes.FailedPrecondition, "group %q holds %d spans in %d segments: delete it with force", name, spans, segments)
	}
	now := timestamppb.Now()
	task := &databasev1.GroupDeletionTask{
		CurrentPhase: databasev1.GroupDeletionTask_PHASE_IN_PROGRESS,
		TotalCounts: map[string]int32{
			countTraces: int32(len(info.GetTraces())), countIndexRules: int32(len(info.GetIndexRules())),
			countIndexRuleBindings: int32(len(info.GetIndexRuleBindings())), countSpans: clampInt32(spans), countSegments: clampInt32(segments),
		},
		DeletedCounts:      map[string]int32{},
		TotalDataSizeBytes: bytes,
		CreatedAt:          now,
		UpdatedAt:          now,
	}
	if err = s.tasks.PutGroupDeletionTask(ctx, name, task); err != nil {
		return nil, storeError(s.log, "record the deletion task", err)
	}
	fail := func(err error) error {
		s.finishTask(ctx, name, task, databasev1.GroupDeletionTask_PHASE_FAILED, err.Error())
		return err
	}
	if req.GetDataOnly() {
		if _, err = s.data.DropGroupData(ctx, name); err != nil {
			return nil, fail(status.Errorf(codes.Internal, "drop the data of group %q: %v", name, err))
		}
		s.finishTask(ctx, name, task, databasev1.GroupDeletionTask_PHASE_COMPLETED, "the data was deleted; the schema was kept")
		return &databasev1.GroupRegistryServiceDeleteResponse{SchemaInfo: info}, nil
	}
	if _, err = s.groups.DeleteGroup(ctx, name); err != nil {
		return nil, fail(storeError(s.log, "delete group", err))
	}
	// Every node drops the group's data when it sees the group go.
	s.finishTask(ctx, name, task, databasev1.GroupDeletionTask_PHASE_COMPLETED, "the group, its resources and its data were deleted")
	return &databasev1.GroupRegistryServiceDeleteResponse{SchemaInfo: info}, nil
}

// Inspect answers the group, its schema resources and what every data node holds of it.
func (s *groupRegistryServer) Inspect(ctx context.Context, req *databasev1.GroupRegistryServiceInspectRequest) (
	*databasev1.GroupRegistryServiceInspectResponse, error,
) {
	name := req.GetGroup()
	if err := validateName("group", name); err != nil {
		return nil, err
	}
	g, err := s.groups.GetGroup(ctx, name)
	if err != nil {
		return nil, storeError(s.log, "get group", err)
	}
	info, err := s.schemaInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	resp := &databasev1.GroupRegistryServiceInspectResponse{Group: g, SchemaInfo: info}
	if s.data != nil {
		if resp.DataInfo, resp.LiaisonInfo, err = s.data.InspectGroup(ctx, name); err != nil {
			return nil, status.Errorf(codes.Unavailable, "inspect the data of group %q: %v", name, err)
		}
	}
	return resp, nil
}

// Query answers the latest deletion task of the group, whichever node ran it; NotFound if there
// is none. A task outlives its group.
func (s *groupRegistryServer) Query(ctx context.Context, req *databasev1.GroupRegistryServiceQueryRequest) (
	*databasev1.GroupRegistryServiceQueryResponse, error,
) {
	name := req.GetGroup()
	if err := validateName("group", name); err != nil {
		return nil, err
	}
	t, err := s.tasks.GetGroupDeletionTask(ctx, name)
	if errors.Is(err, schema.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "group %q has no deletion task", name)
	}
	if err != nil {
		return nil, storeError(s.log, "get the deletion task", err)
	}
	return &databasev1.GroupRegistryServiceQueryResponse{Task: t}, nil
}

// schemaInfo lists the schema resources of a group.
func (s *groupRegistryServer) schemaInfo(ctx context.Context, group string) (*databasev1.SchemaInfo, error) {
	opt := schema.ListOpt{Group: group}
	info := &databasev1.SchemaInfo{}
	traces, err := s.traces.ListTrace(ctx, opt)
	if err != nil {
		return nil, storeError(s.log, "list traces", err)
	}
	for _, t := range traces {
		info.Traces = append(info.Traces, t.GetMetadata().GetName())
	}
	rules, err := s.rules.ListIndexRule(ctx, opt)
	if err != nil {
		return nil, storeError(s.log, "list index rules", err)
	}
	for _, r := range rules {
		info.IndexRules = append(info.IndexRules, r.GetMetadata().GetName())
	}
	bindings, err := s.bindings.ListIndexRuleBinding(ctx, opt)
	if err != nil {
		return nil, storeError(s.log, "list index rule bindings", err)
	}
	for _, b := range bindings {
		info.IndexRuleBindings = append(info.IndexRuleBindings, b.GetMetadata().GetName())
	}
	return info, nil
}

// dataTotals sums what the data nodes hold of a group.
func (s *groupRegistryServer) dataTotals(ctx context.Context, group string) (spans, segments, bytes int64, err error) {
	if s.data == nil {
		return 0, 0, 0, nil
	}
	infos, _, err := s.data.InspectGroup(ctx, group)
	if err != nil {
		return 0, 0, 0, status.Errorf(codes.Unavailable, "inspect the data of group %q: %v", group, err)
	}
	for _, di := range infos {
		bytes += di.GetDataSizeBytes()
		segments += int64(len(di.GetSegmentInfo()))
		for _, seg := range di.GetSegmentInfo() {
			for _, sh := range seg.GetShardInfo() {
				spans += sh.GetDataCount()
			}
		}
	}
	return spans, segments, bytes, nil
}

// taskWriteTimeout bounds the write of a finished task, which outlives the client's call.
const taskWriteTimeout = 10 * time.Second

// finishTask moves a task to its last phase and stores it; on success everything it counted is
// deleted. The store is written even if the client has gone: the deletion happened. A store
// that fails leaves the task in progress there; it is logged.
func (s *groupRegistryServer) finishTask(ctx context.Context, group string, t *databasev1.GroupDeletionTask,
	phase databasev1.GroupDeletionTask_Phase, msg string,
) {
	t.CurrentPhase = phase
	t.Message = msg
	t.UpdatedAt = timestamppb.New(time.Now())
	if phase == databasev1.GroupDeletionTask_PHASE_COMPLETED {
		for k, v := range t.GetTotalCounts() {
			t.DeletedCounts[k] = v
		}
		t.DeletedDataSizeBytes = t.GetTotalDataSizeBytes()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), taskWriteTimeout)
	defer cancel()
	if err := s.tasks.PutGroupDeletionTask(ctx, group, t); err != nil {
		s.log.Error().Err(err).Str("group", group).Stringer("phase", phase).Msg("cannot store the finished deletion task")
	}
}

func clampInt32(n int64) int32 {
	if n > 1<<31-1 {
		return 1<<31 - 1
	}
	return int32(n)
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
