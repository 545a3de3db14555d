// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"sync"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/node"
)

// nodeBatch is the part of a stream batch placed on one node.
type nodeBatch struct {
	node  string
	spans []queue.Span
	index []int // positions of the spans' requests in the stream batch
}

// placement groups the spans of a stream batch by the node that holds their shard.
type placement struct {
	selector node.Selector
	byNode   map[string]*nodeBatch
	nodes    []*nodeBatch
}

func newPlacement(selector node.Selector) *placement {
	return &placement{selector: selector, byNode: make(map[string]*nodeBatch)}
}

// place puts span i of the batch on the node that holds its shard of group (of shardNum shards).
func (p *placement) place(group, name string, shardNum uint32, span queue.Span, i int) error {
	n, err := p.selector.Pick(group, name, span.Shard, shardNum)
	if err != nil {
		return err
	}
	nb, ok := p.byNode[n]
	if !ok {
		nb = &nodeBatch{node: n}
		p.byNode[n] = nb
		p.nodes = append(p.nodes, nb)
	}
	nb.spans = append(nb.spans, span)
	nb.index = append(nb.index, i)
	return nil
}

// dispatch writes each node's spans through the data plane and records their statuses: one node
// in the caller's goroutine (a standalone server has one), several in parallel.
func (p *placement) dispatch(ctx context.Context, s *TraceService, statuses []modelv1.Status) {
	if len(p.nodes) == 1 {
		s.writeNode(ctx, p.nodes[0], statuses)
		return
	}
	var wg sync.WaitGroup
	for _, nb := range p.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.writeNode(ctx, nb, statuses)
		}()
	}
	wg.Wait()
}
