// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package node decides which node holds a shard.
package node

import (
	"hash/fnv"
	"sort"
	"strconv"
	"sync"

	"github.com/pkg/errors"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// ErrNoNode is returned when no node can hold a shard.
var ErrNoNode = errors.New("node: no data node available")

// Selector maps a (group, shard) to the name of the node that holds it.
type Selector interface {
	// Pick returns the node that holds the shard of a group's resource.
	Pick(group, name string, shardID uint32) (string, error)
	// AddNode adds or refreshes a live node.
	AddNode(n *databasev1.Node)
	// RemoveNode forgets a node.
	RemoveNode(n *databasev1.Node)
	// Nodes returns the names of the live nodes, sorted.
	Nodes() []string
}

// NewLocalSelector returns a selector that places every shard on one node: standalone's.
func NewLocalSelector(nodeName string) Selector {
	return &localSelector{name: nodeName}
}

type localSelector struct{ name string }

func (s *localSelector) Pick(string, string, uint32) (string, error) { return s.name, nil }

func (s *localSelector) AddNode(*databasev1.Node) {}

func (s *localSelector) RemoveNode(*databasev1.Node) {}

func (s *localSelector) Nodes() []string { return []string{s.name} }

// NewRendezvousSelector returns a selector that places shards by rendezvous (highest random
// weight) hashing over the live nodes: every selector with the same node list picks the same node,
// and a node joining or leaving moves only the shards it wins or held.
func NewRendezvousSelector() Selector {
	return &rendezvous{nodes: make(map[string]struct{})}
}

type rendezvous struct {
	nodes map[string]struct{}
	mu    sync.RWMutex
}

func (s *rendezvous) AddNode(n *databasev1.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[n.GetMetadata().GetName()] = struct{}{}
}

func (s *rendezvous) RemoveNode(n *databasev1.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.nodes, n.GetMetadata().GetName())
}

func (s *rendezvous) Nodes() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.nodes))
	for n := range s.nodes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s *rendezvous) Pick(group, _ string, shardID uint32) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best string
	var bestWeight uint64
	key := group + "/" + strconv.FormatUint(uint64(shardID), 10)
	for n := range s.nodes {
		h := fnv.New64a()
		_, _ = h.Write([]byte(key))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(n))
		w := h.Sum64()
		if best == "" || w > bestWeight || (w == bestWeight && n < best) {
			best, bestWeight = n, w
		}
	}
	if best == "" {
		return "", errors.Wrapf(ErrNoNode, "group %s shard %d", group, shardID)
	}
	return best, nil
}
