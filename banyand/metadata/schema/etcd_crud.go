// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"

	"github.com/pkg/errors"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
)

// maxUpdateAttempts bounds the read-modify-write retries of an update whose caller did not pin a
// revision; beyond it the update fails with ErrConcurrentModification.
const maxUpdateAttempts = 5

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// prepareFunc adjusts next (a private copy of the caller's value) from the stored value before an
// update is written. It returns unchanged=true when nothing needs to be written.
type prepareFunc func(stored, next resource) (unchanged bool)

// forStore clones m for storage: revisions are dropped (etcd owns them) and the timestamps set.
func forStore(m resource, createdAt, updatedAt *timestamppb.Timestamp) resource {
	c := proto.Clone(m).(resource)
	md, created, updated := fields(c)
	if *md != nil {
		(*md).CreateRevision = 0
		(*md).ModRevision = 0
	}
	*created = createdAt
	if updated != nil {
		*updated = updatedAt
	}
	return c
}

// create stores a new resource. It fails with ErrAlreadyExists when the key exists and, for
// grouped kinds, with ErrNotFound when the group does not; both conditions are checked in the
// same transaction as the write. It returns the revision of the write.
func (r *etcdRegistry) create(ctx context.Context, kind Kind, m resource) (int64, error) {
	if err := r.checkOpen(); err != nil {
		return 0, err
	}
	if m == nil {
		return 0, errors.Wrapf(ErrBadRequest, "%s is nil", kindLabel(kind))
	}
	md := m.GetMetadata()
	key, err := r.keys.key(kind, md)
	if err != nil {
		return 0, err
	}
	now := timestamppb.Now()
	data, err := marshalOpts.Marshal(forStore(m, now, now))
	if err != nil {
		return 0, errors.Wrapf(err, "encode %s %s", kindLabel(kind), qualified(md.GetGroup(), md.GetName()))
	}
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)}
	var orElse []clientv3.Op
	if grouped(kind) {
		groupKey := r.keys.groupKey(md.GetGroup())
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(groupKey), ">", 0))
		orElse = append(orElse, clientv3.OpGet(groupKey, clientv3.WithCountOnly()))
	}
	resp, err := r.client.Txn(ctx).If(cmps...).Then(clientv3.OpPut(key, string(data))).Else(orElse...).Commit()
	if err != nil {
		return 0, r.storeErr(err, "create %s %s", kindLabel(kind), qualified(md.GetGroup(), md.GetName()))
	}
	if !resp.Succeeded {
		if grouped(kind) && resp.Responses[0].GetResponseRange().GetCount() == 0 {
			return 0, errors.Wrapf(ErrNotFound, "create %s %s: group %q", kindLabel(kind), qualified(md.GetGroup(), md.GetName()), md.GetGroup())
		}
		return 0, errors.Wrapf(ErrAlreadyExists, "create %s %s", kindLabel(kind), qualified(md.GetGroup(), md.GetName()))
	}
	return resp.Header.Revision, nil
}

// update replaces a stored resource. It reads the stored value, lets prepare adjust the new one,
// and writes it only if the key has not changed since the read. When the caller set
// metadata.mod_revision, it must equal the stored one (ErrConcurrentModification otherwise);
// when it did not, a lost race is retried. created_at is kept from the stored value, updated_at
// is the server's time. It returns the revision of the write, or 0 when prepare found nothing to
// write.
func (r *etcdRegistry) update(ctx context.Context, kind Kind, m resource, prepare prepareFunc) (int64, error) {
	if err := r.checkOpen(); err != nil {
		return 0, err
	}
	if m == nil {
		return 0, errors.Wrapf(ErrBadRequest, "%s is nil", kindLabel(kind))
	}
	md := m.GetMetadata()
	key, err := r.keys.key(kind, md)
	if err != nil {
		return 0, err
	}
	what := qualified(md.GetGroup(), md.GetName())
	for attempt := 1; ; attempt++ {
		stored, kv, err := r.read(ctx, kind, key, md.GetGroup(), md.GetName())
		if err != nil {
			return 0, errors.WithMessagef(err, "update %s %s", kindLabel(kind), what)
		}
		if want := md.GetModRevision(); want > 0 && want != kv.ModRevision {
			return 0, errors.Wrapf(ErrConcurrentModification, "update %s %s: mod_revision %d, stored %d",
				kindLabel(kind), what, want, kv.ModRevision)
		}
		_, storedCreated, _ := fields(stored)
		next := forStore(m, *storedCreated, timestamppb.Now())
		if prepare != nil && prepare(stored, next) {
			return 0, nil
		}
		data, err := marshalOpts.Marshal(next)
		if err != nil {
			return 0, errors.Wrapf(err, "encode %s %s", kindLabel(kind), what)
		}
		// The group is checked in the same transaction: a resource never outlives its group.
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)}
		var orElse []clientv3.Op
		if grouped(kind) {
			groupKey := r.keys.groupKey(md.GetGroup())
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(groupKey), ">", 0))
			orElse = append(orElse, clientv3.OpGet(groupKey, clientv3.WithCountOnly()))
		}
		resp, err := r.client.Txn(ctx).If(cmps...).Then(clientv3.OpPut(key, string(data))).Else(orElse...).Commit()
		if err != nil {
			return 0, r.storeErr(err, "update %s %s", kindLabel(kind), what)
		}
		if resp.Succeeded {
			return resp.Header.Revision, nil
		}
		if grouped(kind) && resp.Responses[0].GetResponseRange().GetCount() == 0 {
			return 0, errors.Wrapf(ErrNotFound, "update %s %s: group %q", kindLabel(kind), what, md.GetGroup())
		}
		if md.GetModRevision() > 0 || attempt >= maxUpdateAttempts {
			return 0, errors.Wrapf(ErrConcurrentModification, "update %s %s", kindLabel(kind), what)
		}
	}
}

// read returns the stored resource at key with its key-value. A missing key is ErrNotFound; for
// a grouped kind whose group is missing too, the error names the group.
func (r *etcdRegistry) read(ctx context.Context, kind Kind, key, group, name string) (resource, *kvMeta, error) {
	resp, err := r.client.Get(ctx, key)
	if err != nil {
		return nil, nil, r.storeErr(err, "get %s %s", kindLabel(kind), qualified(group, name))
	}
	if len(resp.Kvs) == 0 {
		if grouped(kind) {
			if ok, gerr := r.exists(ctx, r.keys.groupKey(group)); gerr == nil && !ok {
				return nil, nil, errors.Wrapf(ErrNotFound, "group %q", group)
			}
		}
		return nil, nil, errors.Wrapf(ErrNotFound, "%s %s", kindLabel(kind), qualified(group, name))
	}
	kv := resp.Kvs[0]
	m, err := decode(kind, group, name, kv.Value, kv.CreateRevision, kv.ModRevision)
	if err != nil {
		return nil, nil, err
	}
	return m, &kvMeta{CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision}, nil
}

// kvMeta are the revisions of a stored key.
type kvMeta struct {
	CreateRevision int64
	ModRevision    int64
}

func (r *etcdRegistry) exists(ctx context.Context, key string) (bool, error) {
	resp, err := r.client.Get(ctx, key, clientv3.WithCountOnly())
	if err != nil {
		return false, r.storeErr(err, "check %s", key)
	}
	return resp.Count > 0, nil
}

// get returns one resource; ErrNotFound if missing.
func (r *etcdRegistry) get(ctx context.Context, kind Kind, md *commonv1.Metadata) (resource, error) {
	if err := r.checkOpen(); err != nil {
		return nil, err
	}
	key, err := r.keys.key(kind, md)
	if err != nil {
		return nil, err
	}
	m, _, err := r.read(ctx, kind, key, md.GetGroup(), md.GetName())
	return m, err
}

// list returns every resource under prefix, in key order.
func (r *etcdRegistry) list(ctx context.Context, kind Kind, prefix string) ([]resource, error) {
	if err := r.checkOpen(); err != nil {
		return nil, err
	}
	resp, err := r.client.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, r.storeErr(err, "list %s", prefix)
	}
	out := make([]resource, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		k, group, name, ok := r.keys.parse(string(kv.Key))
		if !ok || k != kind {
			continue
		}
		m, err := decode(kind, group, name, kv.Value, kv.CreateRevision, kv.ModRevision)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// remove deletes one resource; false without error if it was missing.
func (r *etcdRegistry) remove(ctx context.Context, kind Kind, md *commonv1.Metadata) (bool, error) {
	if err := r.checkOpen(); err != nil {
		return false, err
	}
	key, err := r.keys.key(kind, md)
	if err != nil {
		return false, err
	}
	resp, err := r.client.Delete(ctx, key)
	if err != nil {
		return false, r.storeErr(err, "delete %s %s", kindLabel(kind), qualified(md.GetGroup(), md.GetName()))
	}
	return resp.Deleted > 0, nil
}

// listAs converts a list of resources to their concrete type.
func listAs[T resource](in []resource) []T {
	out := make([]T, 0, len(in))
	for _, m := range in {
		out = append(out, m.(T))
	}
	return out
}

// getAs converts the result of get to its concrete type.
func getAs[T resource](m resource, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	return m.(T), nil
}
