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
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// ErrNoNode is returned when no node can hold a shard.
var ErrNoNode = errors.New("node: no data node available")

// Selector maps a (group, shard) to the name of the node that holds it.
type Selector interface {
	// Pick returns the node that holds shard shardID of a group's resource, the group having shardNum shards.
	Pick(group, name string, shardID, shardNum uint32) (string, error)
	// AddNode adds or refreshes a live node.
	AddNode(n *databasev1.Node)
	// RemoveNode forgets a node.
	RemoveNode(n *databasev1.Node)
	// Nodes returns the names of the live nodes, sorted.
	Nodes() []string
	// Node returns the registration of the live node named name (a copy), or nil if there is none.
	Node(name string) *databasev1.Node
}

// NewLocalSelector returns a selector that places every shard on one node: standalone's, which
// is both the data node and the liaison.
func NewLocalSelector(nodeName string) Selector {
	return &localSelector{name: nodeName, created: timestamppb.Now()}
}

type localSelector struct {
	created *timestamppb.Timestamp
	name    string
}

func (s *localSelector) Pick(string, string, uint32, uint32) (string, error) { return s.name, nil }

func (s *localSelector) AddNode(*databasev1.Node) {}

func (s *localSelector) RemoveNode(*databasev1.Node) {}

func (s *localSelector) Nodes() []string { return []string{s.name} }

func (s *localSelector) Node(name string) *databasev1.Node {
	if name != s.name {
		return nil
	}
	return &databasev1.Node{
		Metadata:  &commonv1.Metadata{Name: s.name},
		Roles:     []databasev1.Role{databasev1.Role_ROLE_DATA, databasev1.Role_ROLE_LIAISON},
		CreatedAt: proto.Clone(s.created).(*timestamppb.Timestamp),
	}
}

// NewRendezvousSelector returns a selector that places shards by rendezvous (highest random
// weight) hashing with bounded load over the live nodes: shards are placed in order, each on the
// node of highest weight that holds fewer than ceil(shards/nodes) of the group's shards. Every
// selector with the same node list picks the same nodes, every node gets its share of a group's
// shards, and a node joining or leaving moves few shards.
func NewRendezvousSelector() Selector {
	return &rendezvous{nodes: make(map[string]*databasev1.Node), placements: make(map[placementKey][]string)}
}

type placementKey struct {
	group    string
	shardNum uint32
}

type rendezvous struct {
	// nodes holds the latest registration of each live node, by name.
	nodes map[string]*databasev1.Node
	// placements caches the shard -> node assignment per group; cleared when the nodes change.
	placements map[placementKey][]string
	mu         sync.Mutex
}

func (s *rendezvous) AddNode(n *databasev1.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := n.GetMetadata().GetName()
	if name == "" {
		// A node without a name cannot be addressed: Pick would hand out "" as a node.
		return
	}
	_, known := s.nodes[name]
	s.nodes[name] = proto.Clone(n).(*databasev1.Node)
	if known {
		// A refresh (new labels, a new lease) changes no placement: placement hashes names only.
		return
	}
	s.placements = make(map[placementKey][]string)
}

func (s *rendezvous) RemoveNode(n *databasev1.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := n.GetMetadata().GetName()
	if _, ok := s.nodes[name]; !ok {
		return
	}
	delete(s.nodes, name)
	s.placements = make(map[placementKey][]string)
}

func (s *rendezvous) Nodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedNodesLocked()
}

func (s *rendezvous) Node(name string) *databasev1.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[name]
	if !ok {
		return nil
	}
	return proto.Clone(n).(*databasev1.Node)
}

func (s *rendezvous) sortedNodesLocked() []string {
	out := make([]string, 0, len(s.nodes))
	for n := range s.nodes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s *rendezvous) Pick(group, _ string, shardID, shardNum uint32) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.nodes) == 0 {
		return "", errors.Wrapf(ErrNoNode, "group %s shard %d", group, shardID)
	}
	if shardNum <= shardID {
		shardNum = shardID + 1
	}
	key := placementKey{group: group, shardNum: shardNum}
	p, ok := s.placements[key]
	if !ok {
		p = place(group, shardNum, s.sortedNodesLocked())
		s.placements[key] = p
	}
	return p[shardID], nil
}

// place assigns every shard of a group to a node by bounded-load rendezvous hashing.
func place(group string, shardNum uint32, nodes []string) []string {
	capacity := (int(shardNum) + len(nodes) - 1) / len(nodes)
	load := make(map[string]int, len(nodes))
	out := make([]string, shardNum)
	ranked := make([]string, len(nodes))
	for shard := uint32(0); shard < shardNum; shard++ {
		copy(ranked, nodes)
		weights := make(map[string]uint64, len(nodes))
		for _, n := range nodes {
			weights[n] = weight(group, shard, n)
		}
		sort.SliceStable(ranked, func(i, j int) bool { return weights[ranked[i]] > weights[ranked[j]] })
		for _, n := range ranked {
			if load[n] < capacity {
				out[shard] = n
				load[n]++
				break
			}
		}
	}
	return out
}

func weight(group string, shard uint32, node string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(group))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(strconv.FormatUint(uint64(shard), 10)))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(node))
	// Mix the bits: FNV of similar inputs differs little in its high bits.
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
