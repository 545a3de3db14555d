// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"path/filepath"
	"time"

	"github.com/pkg/errors"

	clusterv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/cluster/v1"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/internal/storage"
	"github.com/apache/skywalking-banyandb/banyand/liaison/grpc"
)

// GroupSegments is what a node that stores traces holds of one group.
type GroupSegments struct {
	// Segments are the group's live segments, oldest first, each with its shards.
	Segments []*databasev1.SegmentInfo
	// DataSizeBytes is the bytes every table of the group takes on disk.
	DataSizeBytes int64
}

// InspectSegments answers the group's segments on this node with their time ranges and, per
// shard, the spans and bytes stored. A group this node holds no storage for has no segments.
func (s *standalone) InspectSegments(group string) (GroupSegments, error) {
	var out GroupSegments
	h, ok := s.schemaRepo.groupTSDB(group)
	if !ok {
		return out, nil
	}
	segs := h.db.Segments()
	defer func() {
		for _, seg := range segs {
			seg.DecRef()
		}
	}()
	for _, seg := range segs {
		tr := seg.TimeRange()
		si := &databasev1.SegmentInfo{
			SegmentId:       filepath.Base(seg.Dir()),
			TimeRangeStart:  tr.Start.UTC().Format(time.RFC3339),
			TimeRangeEnd:    tr.End.UTC().Format(time.RFC3339),
			SeriesIndexInfo: &databasev1.SeriesIndexInfo{},
		}
		for shard := range seg.ShardNum() {
			table, ok := seg.OpenedTable(storage.ShardID(shard))
			if !ok {
				continue
			}
			st, err := table.Stats()
			if err != nil {
				return GroupSegments{}, errors.Wrapf(err, "inspect %s shard %d of group %s", si.GetSegmentId(), shard, group)
			}
			si.ShardInfo = append(si.ShardInfo, &databasev1.ShardInfo{
				ShardId:           shard,
				DataCount:         st.Spans,
				DataSizeBytes:     st.DiskSize,
				PartCount:         st.Files,
				FilePartCount:     st.Files,
				InvertedIndexInfo: &databasev1.InvertedIndexInfo{},
				SidxInfo:          &databasev1.SIDXInfo{DataCount: st.IndexEntries},
			})
			out.DataSizeBytes += st.DiskSize
		}
		out.Segments = append(out.Segments, si)
	}
	return out, nil
}

// DeleteSegments deletes the group's segments whose directory suffix is listed and that the TTL
// has expired (as upstream does: a listed segment still inside the TTL is kept), answering how
// many went. A group this node holds no storage for has none to delete.
func (s *standalone) DeleteSegments(group string, suffixes []string) (int64, error) {
	h, ok := s.schemaRepo.groupTSDB(group)
	if !ok {
		return 0, nil
	}
	n, err := h.db.DeleteSegmentsBySuffix(suffixes)
	return int64(n), errors.Wrapf(err, "delete segments of group %s", group)
}

// DropData deletes every segment of the group on this node and keeps the group open for new
// data; it answers the bytes the segments took.
func (s *standalone) DropData(group string) (int64, error) {
	h, ok := s.schemaRepo.groupTSDB(group)
	if !ok {
		return 0, nil
	}
	before, err := s.InspectSegments(group)
	if err != nil {
		return 0, err
	}
	if _, err = h.db.DropSegments(); err != nil {
		return 0, errors.Wrapf(err, "drop the data of group %s", group)
	}
	return before.DataSizeBytes, nil
}

// standaloneNode is how a standalone server names itself in Inspect's data_info.
var standaloneNode = &databasev1.Node{
	Metadata: &commonv1.Metadata{Name: localNodeName},
	Roles:    []databasev1.Role{databasev1.Role_ROLE_DATA, databasev1.Role_ROLE_LIAISON},
}

// dataAdmin is the data side of the operator's calls of a front door: inspect a group, drop its
// data, delete segments. A standalone server answers for itself; a liaison asks every data node.
type dataAdmin interface {
	inspectGroup(ctx context.Context, group string) ([]*databasev1.DataInfo, []*databasev1.LiaisonInfo, error)
	dropGroupData(ctx context.Context, group string) (int64, error)
	deleteSegments(ctx context.Context, group string, suffixes []string) (int64, error)
}

var (
	_ dataAdmin = (*standalone)(nil)
	_ dataAdmin = (*liaison)(nil)
)

// inspectGroup answers this server's segments of the group; a standalone server forwards
// nothing, so it has no liaison_info.
func (s *standalone) inspectGroup(_ context.Context, group string) ([]*databasev1.DataInfo, []*databasev1.LiaisonInfo, error) {
	gs, err := s.InspectSegments(group)
	if err != nil {
		return nil, nil, err
	}
	return []*databasev1.DataInfo{{Node: standaloneNode, SegmentInfo: gs.Segments, DataSizeBytes: gs.DataSizeBytes}}, nil, nil
}

func (s *standalone) dropGroupData(_ context.Context, group string) (int64, error) {
	return s.DropData(group)
}

func (s *standalone) deleteSegments(_ context.Context, group string, suffixes []string) (int64, error) {
	return s.DeleteSegments(group, suffixes)
}

// groupData adapts a node's dataAdmin to the group registry's GroupData.
type groupData struct {
	admin dataAdmin
}

// InspectGroup answers what every data node holds of the group.
func (d groupData) InspectGroup(ctx context.Context, group string) ([]*databasev1.DataInfo, []*databasev1.LiaisonInfo, error) {
	return d.admin.inspectGroup(ctx, group)
}

// DropGroupData deletes the group's data on every data node.
func (d groupData) DropGroupData(ctx context.Context, group string) (int64, error) {
	return d.admin.dropGroupData(ctx, group)
}

// NewGroupData returns the data side of the group registry for the node's trace service: the
// service itself on a standalone server, every data node on a liaison.
func NewGroupData(svc Service) (grpc.GroupData, error) {
	admin, ok := svc.(dataAdmin)
	if !ok {
		return nil, errors.Errorf("trace: %T has no group data", svc)
	}
	return groupData{admin: admin}, nil
}

// adminCallback is the data side of a liaison's operator calls: it answers the inspect, drop and
// delete-segments topics for the node's own storage.
type adminCallback struct {
	s *standalone
}

// Handle answers one operator call; the payload and reply types are fixed per topic.
func (a adminCallback) Handle(_ context.Context, payload any) (any, error) {
	switch req := payload.(type) {
	case *clusterv1.TraceGroupInspectRequest:
		gs, err := a.s.InspectSegments(req.GetGroup())
		if err != nil {
			return nil, err
		}
		return &clusterv1.TraceGroupInspectResponse{SegmentInfo: gs.Segments, DataSizeBytes: gs.DataSizeBytes}, nil
	case *clusterv1.TraceGroupDropDataRequest:
		n, err := a.s.DropData(req.GetGroup())
		if err != nil {
			return nil, err
		}
		return &clusterv1.TraceGroupDropDataResponse{DataSizeBytes: n}, nil
	case *tracev1.DeleteExpiredSegmentsRequest:
		n, err := a.s.DeleteSegments(req.GetGroup(), req.GetSegmentSuffixes())
		if err != nil {
			return nil, err
		}
		return &tracev1.DeleteExpiredSegmentsResponse{Deleted: n}, nil
	}
	return nil, errors.Errorf("trace admin: unexpected payload %T", payload)
}
