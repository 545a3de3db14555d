// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package cmdsetup

import (
	"reflect"
	"testing"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/node"
)

func dataNode(name string, labels map[string]string) *databasev1.Node {
	return &databasev1.Node{Metadata: &commonv1.Metadata{Name: name}, Roles: []databasev1.Role{databasev1.Role_ROLE_DATA},
		GrpcAddress: name, Labels: labels}
}

func TestNodeWatcherPlacesShardsOnLiveMatchingNodes(t *testing.T) {
	client := queue.NewGRPCClient()
	defer client.Close()
	selector := node.NewRendezvousSelector()
	w := newNodeWatcher(nil, selector, client)
	w.l = logger.GetLogger("test")
	if err := w.fs.Parse([]string{"--data-node-selector=zone=a"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := selector.Pick("g", "sw", 0, 2); err == nil {
		t.Fatal("no nodes: a shard was placed")
	}
	w.OnAddOrUpdate(schema.Metadata{Kind: schema.KindNode, Spec: dataNode("127.0.0.1:1", map[string]string{"zone": "a"})})
	w.OnAddOrUpdate(schema.Metadata{Kind: schema.KindNode, Spec: dataNode("127.0.0.1:2", map[string]string{"zone": "a"})})
	w.OnAddOrUpdate(schema.Metadata{Kind: schema.KindNode, Spec: dataNode("127.0.0.1:3", map[string]string{"zone": "b"})})
	if got := selector.Nodes(); !reflect.DeepEqual(got, []string{"127.0.0.1:1", "127.0.0.1:2"}) {
		t.Fatalf("placement over %v, want the two nodes of zone a", got)
	}
	held := map[string]bool{}
	for shard := uint32(0); shard < 2; shard++ {
		n, err := selector.Pick("g", "sw", shard, 2)
		if err != nil {
			t.Fatal(err)
		}
		held[n] = true
	}
	if len(held) != 2 {
		t.Fatalf("two shards on %v, want one per node", held)
	}
	w.OnDelete(schema.Metadata{Kind: schema.KindNode, Spec: dataNode("127.0.0.1:1", nil)})
	for shard := uint32(0); shard < 2; shard++ {
		n, err := selector.Pick("g", "sw", shard, 2)
		if err != nil || n != "127.0.0.1:2" {
			t.Fatalf("after a node left, shard %d on %v (%v), want 127.0.0.1:2", shard, n, err)
		}
	}
}
