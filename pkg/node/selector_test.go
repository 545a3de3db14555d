// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package node

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

func dataNode(name string) *databasev1.Node {
	return &databasev1.Node{
		Metadata:    &commonv1.Metadata{Name: name},
		Roles:       []databasev1.Role{databasev1.Role_ROLE_DATA},
		GrpcAddress: name + ":17912",
	}
}

func selectorWith(names ...string) Selector {
	s := NewRendezvousSelector()
	for _, n := range names {
		s.AddNode(dataNode(n))
	}
	return s
}

// placement returns the node of every shard of a group.
func placement(t *testing.T, s Selector, group string, shards int) []string {
	t.Helper()
	out := make([]string, shards)
	for i := range out {
		n, err := s.Pick(group, "sw", uint32(i), uint32(shards))
		if err != nil {
			t.Fatalf("Pick(%s, %d): %v", group, i, err)
		}
		out[i] = n
	}
	return out
}

func TestRendezvousIsDeterministicAcrossInstances(t *testing.T) {
	nodes := []string{"data-a:17912", "data-b:17912", "data-c:17912", "data-d:17912"}
	a := selectorWith(nodes...)
	// Another liaison learns of the same nodes in another order, with a repeat and a removal on the way.
	b := NewRendezvousSelector()
	for i := len(nodes) - 1; i >= 0; i-- {
		b.AddNode(dataNode(nodes[i]))
	}
	b.AddNode(dataNode(nodes[2]))
	b.AddNode(dataNode("gone:17912"))
	b.RemoveNode(dataNode("gone:17912"))

	if !reflect.DeepEqual(a.Nodes(), b.Nodes()) {
		t.Fatalf("Nodes() differ: %v vs %v", a.Nodes(), b.Nodes())
	}
	for _, group := range []string{"test-trace-group", "zipkinTrace", "g"} {
		pa, pb := placement(t, a, group, 512), placement(t, b, group, 512)
		if !reflect.DeepEqual(pa, pb) {
			t.Fatalf("group %s: two selectors with the same nodes place shards differently", group)
		}
		// And asking again gives the same answers.
		if again := placement(t, a, group, 512); !reflect.DeepEqual(pa, again) {
			t.Fatalf("group %s: placement changed between calls", group)
		}
	}
}

func TestRendezvousDependsOnGroupNotResourceName(t *testing.T) {
	s := selectorWith("n1", "n2", "n3")
	for shard := uint32(0); shard < 64; shard++ {
		a, _ := s.Pick("g", "sw", shard, 64)
		b, _ := s.Pick("g", "zipkin", shard, 64)
		if a != b {
			t.Fatalf("shard %d: traces of one group are placed apart (%s vs %s)", shard, a, b)
		}
	}
}

// TestRendezvousMovesFewShardsWhenANodeJoinsOrLeaves measures how many shards change node when
// a third node joins two (and a sixth joins five). Plain rendezvous hashing would move exactly the
// shards the new node wins. The selector bounds every node's load to ceil(shards/nodes), which
// keeps small groups balanced but makes a few shards that overflow a node's lowered capacity
// move between the old nodes too; this test bounds that churn to a few percent of the shards.
func TestRendezvousMovesFewShardsWhenANodeJoinsOrLeaves(t *testing.T) {
	const shards = 1000
	tests := []struct {
		name   string
		before []string
		joiner string
	}{
		{name: "2 to 3 nodes", before: []string{"node-1", "node-2"}, joiner: "node-3"},
		{name: "2 to 3 addresses", before: []string{"10.0.0.1:17912", "10.0.0.2:17912"}, joiner: "10.0.0.3:17912"},
		{name: "5 to 6 nodes", before: []string{"a", "b", "c", "d", "e"}, joiner: "f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := selectorWith(tt.before...)
			before := placement(t, s, "test-trace-group", shards)
			s.AddNode(dataNode(tt.joiner))
			after := placement(t, s, "test-trace-group", shards)
			toNew, betweenOld := 0, 0
			for i := range before {
				switch {
				case before[i] == after[i]:
				case after[i] == tt.joiner:
					toNew++
				default:
					betweenOld++
				}
			}
			t.Logf("%s: %d of %d shards moved to the new node, %d between old nodes", tt.name, toNew, shards, betweenOld)
			// The joiner takes its fair share, 1/(n+1) of the shards, rounded up.
			fair := (shards + len(tt.before)) / (len(tt.before) + 1)
			if toNew < fair*9/10 || toNew > fair {
				t.Fatalf("%d shards moved to the new node, want about %d", toNew, fair)
			}
			// The ideal is 0; bounded load costs a little, which must stay little.
			if betweenOld > shards/20 {
				t.Fatalf("%d shards moved between nodes that were there before, want at most %d", betweenOld, shards/20)
			}
			// When it leaves again, placement is what it was before it joined.
			s.RemoveNode(dataNode(tt.joiner))
			if back := placement(t, s, "test-trace-group", shards); !reflect.DeepEqual(back, before) {
				t.Fatal("after the node left, placement differs from before it joined")
			}
		})
	}
}

// TestRendezvousBoundsEveryNodesLoad checks the bounded-load promise on the shard counts groups
// really use: no node holds more than ceil(shards/nodes) shards of a group.
func TestRendezvousBoundsEveryNodesLoad(t *testing.T) {
	for nodes := 1; nodes <= 6; nodes++ {
		names := make([]string, nodes)
		for i := range names {
			names[i] = fmt.Sprintf("data-%d", i)
		}
		s := selectorWith(names...)
		for _, shards := range []int{1, 2, 3, 4, 5, 8, 16, 32, 1000} {
			for _, group := range []string{"test-trace-group", "zipkinTrace", "sw"} {
				load := map[string]int{}
				for _, n := range placement(t, s, group, shards) {
					load[n]++
				}
				limit := (shards + nodes - 1) / nodes
				for n, l := range load {
					if l > limit {
						t.Errorf("%d nodes, group %s with %d shards: %s holds %d shards, more than %d", nodes, group, shards, n, l, limit)
					}
				}
			}
		}
	}
}

func TestRendezvousSpreadsShardsEvenly(t *testing.T) {
	const shards = 3000
	tests := [][]string{
		{"node-1", "node-2", "node-3"},
		{"data-0", "data-1", "data-2", "data-3"},
		{"10.0.0.1:17912", "10.0.0.2:17912", "10.0.0.3:17912"},
	}
	for _, names := range tests {
		t.Run(fmt.Sprint(names), func(t *testing.T) {
			s := selectorWith(names...)
			count := map[string]int{}
			for _, n := range placement(t, s, "test-trace-group", shards) {
				count[n]++
			}
			fair := shards / len(names)
			for _, n := range names {
				// Within ±25% of a fair share: hashing noise is far smaller at this size.
				if c := count[n]; c < fair*3/4 || c > fair*5/4 {
					t.Fatalf("node %s holds %d of %d shards, want about %d (all: %v)", n, c, shards, fair, count)
				}
			}
		})
	}
}

func TestRendezvousWithoutNodes(t *testing.T) {
	s := NewRendezvousSelector()
	if _, err := s.Pick("g", "sw", 0, 8); !errors.Is(err, ErrNoNode) {
		t.Fatalf("Pick with no nodes: %v, want ErrNoNode", err)
	}
	if got := s.Nodes(); len(got) != 0 {
		t.Fatalf("Nodes() = %v, want none", got)
	}
	s.AddNode(dataNode("only"))
	if n, err := s.Pick("g", "sw", 7, 8); err != nil || n != "only" {
		t.Fatalf("Pick with one node = %q, %v", n, err)
	}
	s.RemoveNode(dataNode("only"))
	if _, err := s.Pick("g", "sw", 7, 8); !errors.Is(err, ErrNoNode) {
		t.Fatalf("Pick after the last node left: %v, want ErrNoNode", err)
	}
}

func TestRendezvousIgnoresNodesWithoutAName(t *testing.T) {
	s := NewRendezvousSelector()
	s.AddNode(&databasev1.Node{})
	s.AddNode(&databasev1.Node{Metadata: &commonv1.Metadata{}})
	if got := s.Nodes(); len(got) != 0 {
		t.Fatalf("Nodes() = %q after adding nameless nodes, want none", got)
	}
	if _, err := s.Pick("g", "sw", 0, 8); !errors.Is(err, ErrNoNode) {
		t.Fatalf("Pick with only nameless nodes: %v, want ErrNoNode", err)
	}
	s.AddNode(dataNode("real"))
	for shard := uint32(0); shard < 100; shard++ {
		if n, err := s.Pick("g", "sw", shard, 100); err != nil || n != "real" {
			t.Fatalf("Pick(shard %d) = %q, %v; want the only named node", shard, n, err)
		}
	}
}

func TestRendezvousNodesIsSorted(t *testing.T) {
	s := selectorWith("c", "a", "b", "a")
	if got, want := s.Nodes(), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Nodes() = %v, want %v", got, want)
	}
	s.RemoveNode(dataNode("b"))
	s.RemoveNode(dataNode("never-added"))
	if got, want := s.Nodes(), []string{"a", "c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Nodes() after removal = %v, want %v", got, want)
	}
}

func TestRendezvousIsSafeForConcurrentUse(t *testing.T) {
	s := selectorWith("n1", "n2")
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				name := fmt.Sprintf("churn-%d", i)
				s.AddNode(dataNode(name))
				if _, err := s.Pick("g", "sw", uint32(j), 200); err != nil {
					t.Errorf("Pick: %v", err)
					return
				}
				_ = s.Nodes()
				s.RemoveNode(dataNode(name))
			}
		}(i)
	}
	wg.Wait()
	if got := s.Nodes(); !reflect.DeepEqual(got, []string{"n1", "n2"}) {
		t.Fatalf("Nodes() = %v after churn", got)
	}
}

func TestLocalSelector(t *testing.T) {
	s := NewLocalSelector("local")
	for _, tc := range []struct {
		group string
		shard uint32
	}{{"g", 0}, {"other", 1}, {"", 1 << 31}} {
		n, err := s.Pick(tc.group, "sw", tc.shard, 2)
		if err != nil || n != "local" {
			t.Fatalf("Pick(%q, %d) = %q, %v; want local", tc.group, tc.shard, n, err)
		}
	}
	// Cluster membership changes do not concern a standalone server.
	s.AddNode(dataNode("other"))
	s.RemoveNode(dataNode("local"))
	if got := s.Nodes(); !reflect.DeepEqual(got, []string{"local"}) {
		t.Fatalf("Nodes() = %v, want [local]", got)
	}
	if n, _ := s.Pick("g", "sw", 3, 4); n != "local" {
		t.Fatalf("Pick after AddNode/RemoveNode = %q", n)
	}
}

func TestRendezvousNodeAnswersTheLatestRegistration(t *testing.T) {
	s := NewRendezvousSelector()
	if got := s.Node("a"); got != nil {
		t.Fatalf("Node(a) before any registration = %v, want nil", got)
	}
	first := dataNode("a")
	first.Labels = map[string]string{"zone": "1"}
	s.AddNode(first)
	placed, err := s.Pick("g", "sw", 0, 4)
	if err != nil {
		t.Fatalf("Pick: %v", err)
	}
	refreshed := dataNode("a")
	refreshed.Labels = map[string]string{"zone": "2"}
	s.AddNode(refreshed)
	got := s.Node("a")
	if !proto.Equal(got, refreshed) {
		t.Fatalf("Node(a) = %v, want the refreshed registration %v", got, refreshed)
	}
	// The answer is a copy: changing it changes nothing the selector holds.
	got.GrpcAddress = "elsewhere:1"
	if s.Node("a").GetGrpcAddress() != "a:17912" {
		t.Fatalf("Node(a) changed through a returned copy: %v", s.Node("a"))
	}
	refreshed.Labels["zone"] = "3"
	if s.Node("a").GetLabels()["zone"] != "2" {
		t.Fatalf("Node(a) changed through the registered message: %v", s.Node("a"))
	}
	if again, _ := s.Pick("g", "sw", 0, 4); again != placed {
		t.Fatalf("a refresh moved shard 0 from %q to %q", placed, again)
	}
	s.RemoveNode(dataNode("a"))
	if got := s.Node("a"); got != nil {
		t.Fatalf("Node(a) after it left = %v, want nil", got)
	}
}

func TestLocalSelectorNodeIsDataAndLiaison(t *testing.T) {
	s := NewLocalSelector("local")
	n := s.Node("local")
	if n.GetMetadata().GetName() != "local" || n.GetCreatedAt() == nil {
		t.Fatalf("Node(local) = %v, want the named node with its start time", n)
	}
	want := []databasev1.Role{databasev1.Role_ROLE_DATA, databasev1.Role_ROLE_LIAISON}
	if !reflect.DeepEqual(n.GetRoles(), want) {
		t.Fatalf("roles = %v, want %v", n.GetRoles(), want)
	}
	if got := s.Node("other"); got != nil {
		t.Fatalf("Node(other) = %v, want nil", got)
	}
}
