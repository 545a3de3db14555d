// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// DeleteExpiredSegments deletes the listed segments of a group on every data node and answers how
// many went. A segment is named by its directory suffix (YYYYMMDDHH, or upstream's YYYYMMDD for a
// segment starting at midnight UTC); only segments the TTL has expired are deleted, as upstream
// does. An unknown group is NotFound.
func (s *grpcService) DeleteExpiredSegments(ctx context.Context, req *tracev1.DeleteExpiredSegmentsRequest) (*tracev1.DeleteExpiredSegmentsResponse, error) {
	group := req.GetGroup()
	if group == "" {
		return nil, status.Error(codes.InvalidArgument, "group: is empty")
	}
	if _, ok := s.door.repo().LoadGroup(group); !ok {
		return nil, status.Errorf(codes.NotFound, "group %q not found", group)
	}
	n, err := s.door.deleteSegments(ctx, group, req.GetSegmentSuffixes())
	if err != nil {
		s.l.Error().Err(err).Str("group", group).Msg("failed to delete segments")
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Errorf(codes.Internal, "delete segments of group %q: %v", group, err)
	}
	s.l.Info().Str("group", group).Strs("suffixes", req.GetSegmentSuffixes()).Int64("deleted", n).Msg("segments deleted by request")
	return &tracev1.DeleteExpiredSegmentsResponse{Deleted: n}, nil
}
