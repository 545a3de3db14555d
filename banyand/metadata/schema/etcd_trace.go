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

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

func (r *etcdRegistry) CreateTrace(ctx context.Context, t *databasev1.Trace) (int64, error) {
	return r.create(ctx, KindTrace, t)
}

// UpdateTrace writes nothing and returns 0 when the new schema equals the stored one, ignoring
// timestamps, the metadata id and revisions.
func (r *etcdRegistry) UpdateTrace(ctx context.Context, t *databasev1.Trace) (int64, error) {
	return r.update(ctx, KindTrace, t, func(stored, next resource) bool {
		return proto.Equal(comparableTrace(stored.(*databasev1.Trace)), comparableTrace(next.(*databasev1.Trace)))
	})
}

// comparableTrace is a copy of t without the fields the server owns.
func comparableTrace(t *databasev1.Trace) *databasev1.Trace {
	c := proto.Clone(t).(*databasev1.Trace)
	c.CreatedAt, c.UpdatedAt = nil, nil
	if c.Metadata != nil {
		c.Metadata.Id, c.Metadata.CreateRevision, c.Metadata.ModRevision = 0, 0, 0
	}
	return c
}

func (r *etcdRegistry) DeleteTrace(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	return r.remove(ctx, KindTrace, md)
}

func (r *etcdRegistry) GetTrace(ctx context.Context, md *commonv1.Metadata) (*databasev1.Trace, error) {
	return getAs[*databasev1.Trace](r.get(ctx, KindTrace, md))
}

// ListTrace lists the traces of opt.Group, or of every group when it is empty.
func (r *etcdRegistry) ListTrace(ctx context.Context, opt ListOpt) ([]*databasev1.Trace, error) {
	prefix := r.keys.kindPrefix(KindTrace)
	if opt.Group != "" {
		if err := checkName(KindGroup, "name", opt.Group); err != nil {
			return nil, err
		}
		prefix = r.keys.groupPrefix(KindTrace, opt.Group)
	}
	all, err := r.list(ctx, KindTrace, prefix)
	if err != nil {
		return nil, err
	}
	return listAs[*databasev1.Trace](all), nil
}

// groupListPrefix is the prefix of a List that requires a group.
func (r *etcdRegistry) groupListPrefix(kind Kind, group string) (string, error) {
	if group == "" {
		return "", errors.Wrapf(ErrBadRequest, "list %ss: group should not be empty", kindLabel(kind))
	}
	if err := checkName(KindGroup, "name", group); err != nil {
		return "", err
	}
	return r.keys.groupPrefix(kind, group), nil
}
