// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"
	"slices"
	"time"

	"github.com/pkg/errors"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/types/known/timestamppb"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// Backoff of the re-registration of a node whose lease was lost.
const (
	minRegisterBackoff = 200 * time.Millisecond
	maxRegisterBackoff = 5 * time.Second
)

// RegisterNode puts the node under a fresh lease of ttl (rounded up to whole seconds; etcd may
// raise very short TTLs to its minimum) and keeps the lease alive in the background until ctx
// ends or the registry closes; then the lease is revoked and the node leaves at once. If the
// lease is lost while the registration is alive (etcd unreachable for longer than ttl), the node
// is put again under a new lease as soon as etcd answers. created_at is set to now if empty.
func (r *etcdRegistry) RegisterNode(ctx context.Context, n *databasev1.Node, ttl time.Duration) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	if n == nil {
		return errors.Wrap(ErrBadRequest, "node is nil")
	}
	key, err := r.keys.key(KindNode, n.GetMetadata())
	if err != nil {
		return err
	}
	if ttl <= 0 {
		return errors.Wrapf(ErrBadRequest, "node %s: ttl %s is not positive", n.GetMetadata().GetName(), ttl)
	}
	createdAt := n.GetCreatedAt()
	if createdAt == nil {
		createdAt = timestamppb.Now()
	}
	data, err := marshalOpts.Marshal(forStore(n, createdAt, nil))
	if err != nil {
		return errors.Wrapf(err, "encode node %s", n.GetMetadata().GetName())
	}
	ttlSeconds := int64((ttl + time.Second - 1) / time.Second)
	lease, err := r.putWithLease(ctx, key, string(data), ttlSeconds)
	if err != nil {
		return errors.WithMessagef(err, "register node %s", n.GetMetadata().GetName())
	}

	keepCtx, cancel := context.WithCancel(r.ctx)
	stop := context.AfterFunc(ctx, cancel)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		stop()
		cancel()
		r.revoke(lease)
		return ErrClosed
	}
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		defer stop()
		defer cancel()
		r.keepNode(keepCtx, key, string(data), ttlSeconds, lease)
	}()
	return nil
}

// putWithLease grants a lease and puts key under it; the lease is revoked if the put fails.
func (r *etcdRegistry) putWithLease(ctx context.Context, key, value string, ttlSeconds int64) (clientv3.LeaseID, error) {
	grant, err := r.client.Grant(ctx, ttlSeconds)
	if err != nil {
		return 0, r.storeErr(err, "grant lease")
	}
	if _, err = r.client.Put(ctx, key, value, clientv3.WithLease(grant.ID)); err != nil {
		r.revoke(grant.ID)
		return 0, r.storeErr(err, "put %s", key)
	}
	return grant.ID, nil
}

// keepNode keeps the lease of a node alive until ctx ends, re-registering the node when the
// lease is lost, and revokes the current lease at the end.
func (r *etcdRegistry) keepNode(ctx context.Context, key, value string, ttlSeconds int64, lease clientv3.LeaseID) {
	defer func() { r.revoke(lease) }()
	for {
		// The channel closes when ctx ends or when the lease is gone (expired, revoked, or
		// not renewed before its deadline); the client retries transient failures itself.
		ch, err := r.client.KeepAlive(ctx, lease)
		if err == nil {
			for range ch {
			}
		}
		if ctx.Err() != nil {
			return
		}
		r.log.Warn().Str("key", key).Int64("lease", int64(lease)).Err(err).Msg("node lease lost; registering the node again")
		backoff := minRegisterBackoff
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			next, err := r.putWithLease(ctx, key, value, ttlSeconds)
			if err == nil {
				r.revoke(lease)
				lease = next
				r.log.Info().Str("key", key).Int64("lease", int64(lease)).Msg("node registered again")
				break
			}
			r.log.Warn().Str("key", key).Err(err).Dur("retry_in", backoff).Msg("cannot register the node again")
			backoff = min(2*backoff, maxRegisterBackoff)
		}
	}
}

// revoke revokes a lease, best effort: an unrevoked lease expires on its own.
func (r *etcdRegistry) revoke(lease clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	if _, err := r.client.Revoke(ctx, lease); err != nil {
		r.log.Debug().Int64("lease", int64(lease)).Err(err).Msg("revoke lease")
	}
}

// ListNode returns the registered nodes with the role, or all of them for ROLE_UNSPECIFIED.
func (r *etcdRegistry) ListNode(ctx context.Context, role databasev1.Role) ([]*databasev1.Node, error) {
	all, err := r.list(ctx, KindNode, r.keys.kindPrefix(KindNode))
	if err != nil {
		return nil, err
	}
	nodes := listAs[*databasev1.Node](all)
	if role == databasev1.Role_ROLE_UNSPECIFIED {
		return nodes, nil
	}
	return slices.DeleteFunc(nodes, func(n *databasev1.Node) bool {
		return !slices.Contains(n.GetRoles(), role)
	}), nil
}
