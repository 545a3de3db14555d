// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

func (r *etcdRegistry) CreateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	return r.create(ctx, KindIndexRuleBinding, b)
}

func (r *etcdRegistry) UpdateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	return r.update(ctx, KindIndexRuleBinding, b, nil)
}

func (r *etcdRegistry) DeleteIndexRuleBinding(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	return r.remove(ctx, KindIndexRuleBinding, md)
}

func (r *etcdRegistry) GetIndexRuleBinding(ctx context.Context, md *commonv1.Metadata) (*databasev1.IndexRuleBinding, error) {
	return getAs[*databasev1.IndexRuleBinding](r.get(ctx, KindIndexRuleBinding, md))
}

// ListIndexRuleBinding lists the bindings of opt.Group; an empty group is ErrBadRequest.
func (r *etcdRegistry) ListIndexRuleBinding(ctx context.Context, opt ListOpt) ([]*databasev1.IndexRuleBinding, error) {
	prefix, err := r.groupListPrefix(KindIndexRuleBinding, opt.Group)
	if err != nil {
		return nil, err
	}
	all, err := r.list(ctx, KindIndexRuleBinding, prefix)
	if err != nil {
		return nil, err
	}
	return listAs[*databasev1.IndexRuleBinding](all), nil
}
