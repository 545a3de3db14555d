// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// deletionTaskDir is the directory of the deletion tasks under the namespace. It is not a Kind:
// tasks are not watched, and the watcher ignores keys outside the kinds.
const deletionTaskDir = "group-deletion-tasks/"

func (k keyspace) deletionTaskKey(group string) string {
	return k.root + deletionTaskDir + group
}

// PutGroupDeletionTask stores t as the latest deletion task of the group, replacing any earlier
// one. The task outlives the group: it is how a client learns that a deletion completed.
func (r *etcdRegistry) PutGroupDeletionTask(ctx context.Context, group string, t *databasev1.GroupDeletionTask) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	if err := checkName(KindGroup, "name", group); err != nil {
		return err
	}
	data, err := marshalOpts.Marshal(t)
	if err != nil {
		return errors.Wrapf(err, "encode the deletion task of group %q", group)
	}
	if _, err = r.client.Put(ctx, r.keys.deletionTaskKey(group), string(data)); err != nil {
		return r.storeErr(err, "store the deletion task of group %q", group)
	}
	return nil
}

// GetGroupDeletionTask returns the latest deletion task of the group; ErrNotFound if none was stored.
func (r *etcdRegistry) GetGroupDeletionTask(ctx context.Context, group string) (*databasev1.GroupDeletionTask, error) {
	if err := r.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkName(KindGroup, "name", group); err != nil {
		return nil, err
	}
	resp, err := r.client.Get(ctx, r.keys.deletionTaskKey(group))
	if err != nil {
		return nil, r.storeErr(err, "get the deletion task of group %q", group)
	}
	if len(resp.Kvs) == 0 {
		return nil, errors.Wrapf(ErrNotFound, "deletion task of group %q", group)
	}
	t := &databasev1.GroupDeletionTask{}
	if err := proto.Unmarshal(resp.Kvs[0].Value, t); err != nil {
		return nil, errors.Wrapf(err, "decode the deletion task of group %q", group)
	}
	return t, nil
}
