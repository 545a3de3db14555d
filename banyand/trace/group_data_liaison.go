// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"sync"

	"github.com/pkg/errors"
	"go.uber.org/multierr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	clusterv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/cluster/v1"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/bus"
)

// askDataNodes sends payload on topic to every live data node in parallel and returns the replies
// by node name. A node that fails fails the call (Unavailable, naming the nodes): an answer that
// silently lacks a node would under-report a group's data or leave segments behind.
func (l *liaison) askDataNodes(ctx context.Context, topic bus.Topic, payload any) ([]string, []any, error) {
	nodes := l.dataNodeSelector.Nodes()
	replies := make([]any, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], errs[i] = l.option.tire2Client.Publish(ctx, topic, n, payload)
			if errs[i] != nil {
				errs[i] = errors.Wrapf(errs[i], "data node %s", n)
			}
		}()
	}
	wg.Wait()
	if err := multierr.Combine(errs...); err != nil {
		return nil, nil, status.Errorf(codes.Unavailable, "%s: %v", topic, err)
	}
	return nodes, replies, nil
}

// inspectGroup asks every data node for its segments of the group. The liaison forwards writes
// synchronously and keeps nothing pending, so its liaison_info is one entry of zeros.
func (l *liaison) inspectGroup(ctx context.Context, group string) ([]*databasev1.DataInfo, []*databasev1.LiaisonInfo, error) {
	nodes, replies, err := l.askDataNodes(ctx, bus.TopicTraceInspectGroup, &clusterv1.TraceGroupInspectRequest{Group: group})
	if err != nil {
		return nil, nil, err
	}
	infos := make([]*databasev1.DataInfo, 0, len(nodes))
	for i, n := range nodes {
		r, ok := replies[i].(*clusterv1.TraceGroupInspectResponse)
		if !ok {
			return nil, nil, errors.Errorf("data node %s answered an inspect with %T", n, replies[i])
		}
		infos = append(infos, &databasev1.DataInfo{
			Node:          &databasev1.Node{Metadata: &commonv1.Metadata{Name: n}, Roles: []databasev1.Role{databasev1.Role_ROLE_DATA}},
			SegmentInfo:   r.GetSegmentInfo(),
			DataSizeBytes: r.GetDataSizeBytes(),
		})
	}
	return infos, []*databasev1.LiaisonInfo{{}}, nil
}

// dropGroupData deletes the group's segments on every data node and answers the bytes they took.
func (l *liaison) dropGroupData(ctx context.Context, group string) (int64, error) {
	nodes, replies, err := l.askDataNodes(ctx, bus.TopicTraceDropGroupData, &clusterv1.TraceGroupDropDataRequest{Group: group})
	if err != nil {
		return 0, err
	}
	var total int64
	for i, n := range nodes {
		r, ok := replies[i].(*clusterv1.TraceGroupDropDataResponse)
		if !ok {
			return 0, errors.Errorf("data node %s answered a drop with %T", n, replies[i])
		}
		total += r.GetDataSizeBytes()
	}
	return total, nil
}

// deleteSegments deletes the listed expired segments of the group on every data node and answers
// how many went in all.
func (l *liaison) deleteSegments(ctx context.Context, group string, suffixes []string) (int64, error) {
	nodes, replies, err := l.askDataNodes(ctx, bus.TopicTraceDeleteSegments,
		&tracev1.DeleteExpiredSegmentsRequest{Group: group, SegmentSuffixes: suffixes})
	if err != nil {
		return 0, err
	}
	var total int64
	for i, n := range nodes {
		r, ok := replies[i].(*tracev1.DeleteExpiredSegmentsResponse)
		if !ok {
			return 0, errors.Errorf("data node %s answered a segment deletion with %T", n, replies[i])
		}
		total += r.GetDeleted()
	}
	return total, nil
}
