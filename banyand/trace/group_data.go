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
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/internal/storage"
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
			table, ok, err := seg.OpenedTable(storage.ShardID(shard))
			if err != nil {
				return GroupSegments{}, errors.Wrapf(err, "open %s shard %d of group %s", si.GetSegmentId(), shard, group)
			}
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
func (s *standalone) DeleteSegments(_ context.Context, group string, suffixes []string) (int64, error) {
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

// InspectGroup answers this node's segments of the group (queue.Handler).
func (s *standalone) InspectGroup(_ context.Context, group string) (*clusterv1.TraceGroupInspectResponse, error) {
	gs, err := s.InspectSegments(group)
	if err != nil {
		return nil, err
	}
	return &clusterv1.TraceGroupInspectResponse{SegmentInfo: gs.Segments, DataSizeBytes: gs.DataSizeBytes}, nil
}

// DropGroupData deletes every segment of the group on this node (queue.Handler).
func (s *standalone) DropGroupData(_ context.Context, group string) (int64, error) {
	return s.DropData(group)
}
