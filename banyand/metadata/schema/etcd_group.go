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

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
)

// groupContents are the kinds deleted with their group, children before the group itself, so that
// watchers see a resource's deletion before its group's.
var groupContents = []Kind{KindIndexRuleBinding, KindIndexRule, KindTrace}

func (r *etcdRegistry) CreateGroup(ctx context.Context, g *commonv1.Group) (int64, error) {
	return r.create(ctx, KindGroup, g)
}

func (r *etcdRegistry) UpdateGroup(ctx context.Context, g *commonv1.Group) (int64, error) {
	return r.update(ctx, KindGroup, g, nil)
}

// DeleteGroup deletes the group and every trace, index rule and binding in it in one transaction.
func (r *etcdRegistry) DeleteGroup(ctx context.Context, name string) (bool, error) {
	if err := r.checkOpen(); err != nil {
		return false, err
	}
	key, err := r.keys.key(KindGroup, &commonv1.Metadata{Name: name})
	if err != nil {
		return false, err
	}
	ops := make([]clientv3.Op, 0, len(groupContents)+1)
	for _, kind := range groupContents {
		ops = append(ops, clientv3.OpDelete(r.keys.groupPrefix(kind, name), clientv3.WithPrefix()))
	}
	ops = append(ops, clientv3.OpDelete(key))
	resp, err := r.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), ">", 0)).
		Then(ops...).
		Commit()
	if err != nil {
		return false, r.storeErr(err, "delete group %q", name)
	}
	if !resp.Succeeded {
		return false, errors.Wrapf(ErrNotFound, "delete group %q", name)
	}
	return true, nil
}

func (r *etcdRegistry) GetGroup(ctx context.Context, name string) (*commonv1.Group, error) {
	return getAs[*commonv1.Group](r.get(ctx, KindGroup, &commonv1.Metadata{Name: name}))
}

func (r *etcdRegistry) ListGroup(ctx context.Context) ([]*commonv1.Group, error) {
	all, err := r.list(ctx, KindGroup, r.keys.kindPrefix(KindGroup))
	if err != nil {
		return nil, err
	}
	return listAs[*commonv1.Group](all), nil
}
