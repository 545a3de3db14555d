// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"github.com/pkg/errors"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// ErrNoNode is returned by NodeRegistry.Locate when no node can hold the shard.
var ErrNoNode = errors.New("liaison grpc: no node for the shard")

// NodeRegistry tells the write path which data node holds a shard of a resource. Every liaison
// must answer the same node for the same (group, name, shard) given the same live nodes, so that
// all spans of one trace meet on one node. The cluster implementation follows the data nodes
// registered in etcd; LocalNodeRegistry serves a standalone process.
type NodeRegistry interface {
	// Locate returns the node holding shardID of the resource name in group. The node is shared:
	// callers must not modify it. It fails with ErrNoNode (wrapped) when no node is available.
	Locate(group, name string, shardID uint32) (*databasev1.Node, error)
}

// LocalNodeRegistry is the NodeRegistry of a standalone process: every shard is local.
type LocalNodeRegistry struct {
	node *databasev1.Node
}

var _ NodeRegistry = (*LocalNodeRegistry)(nil)

// NewLocalNodeRegistry returns a registry that answers node for every shard. A nil node is
// allowed and then makes Locate fail with ErrNoNode.
func NewLocalNodeRegistry(node *databasev1.Node) *LocalNodeRegistry {
	return &LocalNodeRegistry{node: node}
}

// Locate returns the local node whatever the group, name and shard.
func (r *LocalNodeRegistry) Locate(group, name string, shardID uint32) (*databasev1.Node, error) {
	if r == nil || r.node == nil {
		return nil, errors.Wrapf(ErrNoNode, "%s/%s shard %d: no local node", group, name, shardID)
	}
	return r.node, nil
}
