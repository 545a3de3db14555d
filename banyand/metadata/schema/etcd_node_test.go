// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

func dataNode(name string, roles ...databasev1.Role) *databasev1.Node {
	return &databasev1.Node{
		Metadata:    &commonv1.Metadata{Name: name},
		Roles:       roles,
		GrpcAddress: name + ":17912",
		Labels:      map[string]string{"zone": "a"},
	}
}

func nodeNames(nodes []*databasev1.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Metadata.Name
	}
	return out
}

func TestNodeRegistryAndRoles(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	watcher := openRegistry(t, sharedEtcd.ClientURL(), ns)
	member := openRegistry(t, sharedEtcd.ClientURL(), ns)
	ctx := testCtx(t)

	rec := &recorder{}
	watcher.RegisterHandler("nodes", []Kind{KindNode}, rec)
	if err := member.RegisterNode(ctx, dataNode("data-1", databasev1.Role_ROLE_DATA), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := member.RegisterNode(ctx, dataNode("liaison-1", databasev1.Role_ROLE_LIAISON), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	all := must(watcher.ListNode(ctx, databasev1.Role_ROLE_UNSPECIFIED))(t)
	if len(all) != 2 || all[0].CreatedAt == nil || all[0].Metadata.ModRevision == 0 {
		t.Fatalf("all nodes: %v", all)
	}
	data := must(watcher.ListNode(ctx, databasev1.Role_ROLE_DATA))(t)
	if len(data) != 1 || data[0].Metadata.Name != "data-1" || data[0].GrpcAddress != "data-1:17912" {
		t.Fatalf("data nodes: %v", data)
	}
	rec.waitFor(t, 2)

	// The leases are kept alive beyond their TTL.
	for _, name := range []string{"data-1", "liaison-1"} {
		awaitLeaseRenewed(t, ctx, watcher, name)
	}
	// Closing the registering registry ends the registration: the nodes disappear.
	if err := member.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "the nodes to leave", func() bool {
		n, err := watcher.ListNode(ctx, databasev1.Role_ROLE_UNSPECIFIED)
		return err == nil && len(n) == 0
	})
	// Each node was added first and deleted last. A lease the keepalive lost under load (etcd
	// slower than the TTL) is put again under a new one, which adds a deletion and an addition
	// in between; the registry's contract holds all the same.
	var last map[string]string
	eventually(t, ctx, "the deletion of both nodes", func() bool {
		last = map[string]string{}
		for _, e := range rec.snapshot() {
			last[e.name] = e.op
		}
		return last["data-1"] == "del" && last["liaison-1"] == "del"
	})
	if events := rec.snapshot(); events[0].op != "add" || events[1].op != "add" {
		t.Fatalf("node events: %v", names(events))
	}
}

// awaitLeaseRenewed waits until the node's registration shows a renewed lease: a lease that is
// alive (one whole second or more left) after its granted TTL has passed since it was first seen,
// which only a keepalive can do. The elapsed time is the condition waited for, not a limit: when
// a lease lapses under load and the node is put again under a new one, the new lease is watched
// the same way.
func awaitLeaseRenewed(t *testing.T, ctx context.Context, reg *etcdRegistry, node string) {
	t.Helper()
	key := reg.keys.kindPrefix(KindNode) + node
	var lease clientv3.LeaseID
	var seen time.Time
	for {
		resp, err := reg.client.Get(ctx, key)
		if err != nil {
			t.Fatalf("node %s: %v", node, err)
		}
		if len(resp.Kvs) == 1 && clientv3.LeaseID(resp.Kvs[0].Lease) != lease {
			lease, seen = clientv3.LeaseID(resp.Kvs[0].Lease), time.Now()
		}
		if lease != 0 {
			ttl, err := reg.client.TimeToLive(ctx, lease)
			if err != nil {
				t.Fatalf("lease of node %s: %v", node, err)
			}
			if time.Since(seen) > time.Duration(ttl.GrantedTTL)*time.Second && ttl.TTL >= 1 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the lease of node %s was never renewed: %v", node, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestNodeLeaseExpiresWithoutKeepalive(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	watcher := openRegistry(t, sharedEtcd.ClientURL(), ns)
	member := openRegistry(t, sharedEtcd.ClientURL(), ns)
	ctx := testCtx(t)
	if err := member.RegisterNode(ctx, dataNode("data-1", databasev1.Role_ROLE_DATA), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	// Kill the connection under the keepalive, as a dying process would: nothing revokes the
	// lease, it has to expire.
	killed := time.Now()
	_ = member.client.Close()
	eventually(t, ctx, "the lease to expire", func() bool {
		n, err := watcher.ListNode(ctx, databasev1.Role_ROLE_UNSPECIFIED)
		return err == nil && len(n) == 0
	})
	// Load can only lengthen this wait, never shorten it: a node gone sooner was revoked, not
	// expired.
	if d := time.Since(killed); d < time.Second {
		t.Fatalf("node left after %s, before its lease could expire", d)
	}
}

func TestNodeRegistrationEndsWithContext(t *testing.T) {
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	regCtx, cancel := context.WithCancel(ctx)
	if err := reg.RegisterNode(regCtx, dataNode("n", databasev1.Role_ROLE_DATA), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := must(reg.ListNode(ctx, databasev1.Role_ROLE_DATA))(t); len(n) != 1 {
		t.Fatalf("nodes: %v", nodeNames(n))
	}
	cancel()
	eventually(t, ctx, "the node to leave", func() bool {
		n, err := reg.ListNode(ctx, databasev1.Role_ROLE_UNSPECIFIED)
		return err == nil && len(n) == 0
	})
}

// A node whose lease was revoked behind its back is put again under a new lease.
func TestNodeReRegistersAfterLeaseLoss(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t)
	ctx := testCtx(t)
	if err := reg.RegisterNode(ctx, dataNode("n", databasev1.Role_ROLE_DATA), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	resp, err := reg.client.Get(ctx, reg.keys.kindPrefix(KindNode)+"n")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("node key: %v %v", resp, err)
	}
	lease := resp.Kvs[0].Lease
	if _, err = reg.client.Revoke(ctx, clientLease(lease)); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "the node to come back under a new lease", func() bool {
		resp, err := reg.client.Get(ctx, reg.keys.kindPrefix(KindNode)+"n")
		return err == nil && len(resp.Kvs) == 1 && resp.Kvs[0].Lease != lease
	})
}
