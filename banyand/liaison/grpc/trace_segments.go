// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// DeleteExpiredSegments deletes the listed segments of a group on every data node and answers how
// many went. A segment is named by its directory suffix (YYYYMMDDHH, or upstream's YYYYMMDD for a
// segment starting at midnight UTC); only segments the TTL has expired are deleted, as upstream
// does. An unknown group is NotFound.
func (s *TraceService) DeleteExpiredSegments(ctx context.Context, req *tracev1.DeleteExpiredSegmentsRequest) (*tracev1.DeleteExpiredSegmentsResponse, error) {
	group := req.GetGroup()
	if group == "" {
		return nil, status.Error(codes.InvalidArgument, "group: is empty")
	}
	if err := ValidateName(group); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "group: %v", err)
	}
	if !s.schemas.HasGroup(group) {
		return nil, status.Errorf(codes.NotFound, "group %q not found", group)
	}
	var deleted atomic.Int64
	_, err := askNodes(ctx, s.selector, "delete segments", func(ctx context.Context, _ int, n string) error {
		c, err := s.plane.DeleteSegments(ctx, n, group, req.GetSegmentSuffixes())
		deleted.Add(c)
		return err
	})
	if err != nil {
		s.l.Error().Err(err).Str("group", group).Msg("failed to delete segments")
		return nil, err
	}
	s.l.Info().Str("group", group).Strs("suffixes", req.GetSegmentSuffixes()).Int64("deleted", deleted.Load()).Msg("segments deleted by request")
	return &tracev1.DeleteExpiredSegmentsResponse{Deleted: deleted.Load()}, nil
}
