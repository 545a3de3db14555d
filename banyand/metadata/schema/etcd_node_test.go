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

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
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
	ns := namespaceOf(t)
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

	// The lease is kept alive well beyond its TTL.
	time.Sleep(3 * time.Second)
	if n := must(watcher.ListNode(ctx, databasev1.Role_ROLE_UNSPECIFIED))(t); len(n) != 2 {
		t.Fatalf("nodes after the ttl: %v", nodeNames(n))
	}
	// Closing the registering registry ends the registration: the nodes disappear.
	if err := member.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the nodes to leave", func() bool {
		n, err := watcher.ListNode(ctx, databasev1.Role_ROLE_UNSPECIFIED)
		return err == nil && len(n) == 0
	})
	events := rec.waitFor(t, 4)
	if events[2].op != "del" || events[3].op != "del" {
		t.Fatalf("node events: %v", names(events))
	}
}

func TestNodeLeaseExpiresWithoutKeepalive(t *testing.T) {
	t.Parallel()
	ns := namespaceOf(t)
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
	eventually(t, 8*time.Second, "the lease to expire", func() bool {
		n, err := watcher.ListNode(ctx, databasev1.Role_ROLE_UNSPECIFIED)
		return err == nil && len(n) == 0
	})
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
	eventually(t, 5*time.Second, "the node to leave", func() bool {
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
	eventually(t, 8*time.Second, "the node to come back under a new lease", func() bool {
		resp, err := reg.client.Get(ctx, reg.keys.kindPrefix(KindNode)+"n")
		return err == nil && len(resp.Kvs) == 1 && resp.Kvs[0].Lease != lease
	})
}
