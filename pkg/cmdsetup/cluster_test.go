// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package cmdsetup

import (
	"context"
	"testing"

	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/liaison/grpc"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/node"
)

// groupsOnly is a metadata.Repo that knows groups and nothing else: Locate reads only shard counts.
type groupsOnly struct {
	metadata.Repo
	schema.Group
	groups map[string]*commonv1.Group
}

func (g groupsOnly) GroupRegistry() schema.Group { return g }

func (g groupsOnly) GetGroup(_ context.Context, name string) (*commonv1.Group, error) {
	if gr, ok := g.groups[name]; ok {
		return gr, nil
	}
	return nil, errors.Wrap(schema.ErrNotFound, name)
}

func dataNode(name string, labels map[string]string) *databasev1.Node {
	return &databasev1.Node{Metadata: &commonv1.Metadata{Name: name}, Roles: []databasev1.Role{databasev1.Role_ROLE_DATA},
		GrpcAddress: name, Labels: labels}
}

func TestNodeWatcherLocatesShardsOnLiveMatchingNodes(t *testing.T) {
	md := groupsOnly{groups: map[string]*commonv1.Group{
		"g": {Metadata: &commonv1.Metadata{Name: "g"}, ResourceOpts: &commonv1.ResourceOpts{ShardNum: 2}},
	}}
	client := queue.NewGRPCClient()
	defer client.Close()
	selector := node.NewRendezvousSelector()
	w := newNodeWatcher(md, selector, client)
	w.l = logger.GetLogger("test")
	if err := w.fs.Parse([]string{"--data-node-selector=zone=a"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Locate("g", "sw", 0); !errors.Is(err, grpc.ErrNoNode) {
		t.Fatalf("no nodes: err = %v, want ErrNoNode", err)
	}
	w.OnAddOrUpdate(schema.Metadata{Kind: schema.KindNode, Spec: dataNode("127.0.0.1:1", map[string]string{"zone": "a"})})
	w.OnAddOrUpdate(schema.Metadata{Kind: schema.KindNode, Spec: dataNode("127.0.0.1:2", map[string]string{"zone": "a"})})
	w.OnAddOrUpdate(schema.Metadata{Kind: schema.KindNode, Spec: dataNode("127.0.0.1:3", map[string]string{"zone": "b"})})
	held := map[string]bool{}
	for shard := uint32(0); shard < 2; shard++ {
		n, err := w.Locate("g", "sw", shard)
		if err != nil {
			t.Fatal(err)
		}
		if n.GetLabels()["zone"] != "a" {
			t.Fatalf("shard %d on %s, outside the selector", shard, n.GetMetadata().GetName())
		}
		want, _ := selector.Pick("g", "sw", shard, 2)
		if n.GetMetadata().GetName() != want {
			t.Fatalf("shard %d located on %s, routed to %s", shard, n.GetMetadata().GetName(), want)
		}
		held[want] = true
	}
	if len(held) != 2 {
		t.Fatalf("two shards on %v, want one per node", held)
	}
	w.OnDelete(schema.Metadata{Kind: schema.KindNode, Spec: dataNode("127.0.0.1:1", nil)})
	for shard := uint32(0); shard < 2; shard++ {
		n, err := w.Locate("g", "sw", shard)
		if err != nil || n.GetMetadata().GetName() != "127.0.0.1:2" {
			t.Fatalf("after a node left, shard %d on %v (%v), want 127.0.0.1:2", shard, n.GetMetadata().GetName(), err)
		}
	}
	if _, err := w.Locate("nope", "sw", 0); !errors.Is(err, schema.ErrNotFound) {
		t.Fatalf("unknown group: err = %v", err)
	}
}
