// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"sync"

	"github.com/pkg/errors"
	"go.uber.org/multierr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/node"
)

// planeGroupData is the group registry's data side over the data plane: it asks every live data
// node (the one local node in standalone) through the same plane the front door writes through.
type planeGroupData struct {
	plane    queue.DataPlane
	selector node.Selector
	// forwards is true on a liaison, which holds no data itself: it reports one LiaisonInfo.
	forwards bool
}

// NewGroupData returns the data side of the group registry over a node's data plane and its
// placement of data nodes. forwards is true on a liaison (it answers a liaison_info of its own)
// and false on a standalone server.
func NewGroupData(plane queue.DataPlane, selector node.Selector, forwards bool) GroupData {
	return planeGroupData{plane: plane, selector: selector, forwards: forwards}
}

// askNodes calls f for every live data node in parallel. A node that fails fails the call
// (Unavailable, naming the nodes): an answer that silently lacks a node would under-report a
// group's data or leave segments behind.
func askNodes(ctx context.Context, selector node.Selector, what string, f func(ctx context.Context, i int, node string) error) ([]string, error) {
	nodes := selector.Nodes()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx, i, n); err != nil {
				errs[i] = errors.Wrapf(err, "data node %s", n)
			}
		}()
	}
	wg.Wait()
	if err := multierr.Combine(errs...); err != nil {
		return nil, status.Errorf(codes.Unavailable, "%s: %v", what, err)
	}
	return nodes, nil
}

// InspectGroup answers every data node's segments of the group. A liaison forwards writes
// synchronously and keeps nothing pending, so its liaison_info is one entry of zeros.
func (d planeGroupData) InspectGroup(ctx context.Context, group string) ([]*databasev1.DataInfo, []*databasev1.LiaisonInfo, error) {
	var infos []*databasev1.DataInfo
	var mu sync.Mutex
	nodes, err := askNodes(ctx, d.selector, "inspect group", func(ctx context.Context, _ int, n string) error {
		r, err := d.plane.InspectGroup(ctx, n, group)
		if err != nil {
			return err
		}
		reg := d.selector.Node(n)
		if reg == nil {
			// The node left while it answered: its name is all that is left of it.
			reg = &databasev1.Node{Metadata: &commonv1.Metadata{Name: n}, Roles: []databasev1.Role{databasev1.Role_ROLE_DATA}}
		}
		mu.Lock()
		defer mu.Unlock()
		infos = append(infos, &databasev1.DataInfo{
			Node:          reg,
			SegmentInfo:   r.GetSegmentInfo(),
			DataSizeBytes: r.GetDataSizeBytes(),
		})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// In the order of the node names, whatever order the nodes answered in.
	byName := make(map[string]*databasev1.DataInfo, len(infos))
	for _, in := range infos {
		byName[in.GetNode().GetMetadata().GetName()] = in
	}
	ordered := make([]*databasev1.DataInfo, 0, len(nodes))
	for _, n := range nodes {
		ordered = append(ordered, byName[n])
	}
	if !d.forwards {
		return ordered, nil, nil
	}
	return ordered, []*databasev1.LiaisonInfo{{}}, nil
}

// DropGroupData deletes the group's segments on every data node and answers the bytes they took.
func (d planeGroupData) DropGroupData(ctx context.Context, group string) (int64, error) {
	var mu sync.Mutex
	var total int64
	_, err := askNodes(ctx, d.selector, "drop group data", func(ctx context.Context, _ int, n string) error {
		b, err := d.plane.DropGroupData(ctx, n, group)
		if err != nil {
			return err
		}
		mu.Lock()
		total += b
		mu.Unlock()
		return nil
	})
	return total, err
}
