// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"
	"hash/crc32"

	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// IndexRuleID is the id the registry gives an index rule created without one:
// CRC32-IEEE of the group's bytes followed by the name's bytes.
func IndexRuleID(group, name string) uint32 {
	h := crc32.NewIEEE()
	_, _ = h.Write([]byte(group))
	_, _ = h.Write([]byte(name))
	return h.Sum32()
}

// CreateIndexRule stores the rule, with id IndexRuleID(group, name) when metadata.id is 0.
func (r *etcdRegistry) CreateIndexRule(ctx context.Context, rule *databasev1.IndexRule) (int64, error) {
	if rule != nil && rule.GetMetadata() != nil && rule.GetMetadata().GetId() == 0 {
		rule = proto.Clone(rule).(*databasev1.IndexRule)
		rule.Metadata.Id = IndexRuleID(rule.Metadata.GetGroup(), rule.Metadata.GetName())
	}
	return r.create(ctx, KindIndexRule, rule)
}

// UpdateIndexRule replaces the rule; a metadata.id of 0 keeps the stored id.
func (r *etcdRegistry) UpdateIndexRule(ctx context.Context, rule *databasev1.IndexRule) (int64, error) {
	return r.update(ctx, KindIndexRule, rule, func(stored, next resource) bool {
		if md := next.GetMetadata(); md.GetId() == 0 {
			md.Id = stored.GetMetadata().GetId()
		}
		return false
	})
}

func (r *etcdRegistry) DeleteIndexRule(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	return r.remove(ctx, KindIndexRule, md)
}

func (r *etcdRegistry) GetIndexRule(ctx context.Context, md *commonv1.Metadata) (*databasev1.IndexRule, error) {
	return getAs[*databasev1.IndexRule](r.get(ctx, KindIndexRule, md))
}

// ListIndexRule lists the rules of opt.Group; an empty group is ErrBadRequest.
func (r *etcdRegistry) ListIndexRule(ctx context.Context, opt ListOpt) ([]*databasev1.IndexRule, error) {
	prefix, err := r.groupListPrefix(KindIndexRule, opt.Group)
	if err != nil {
		return nil, err
	}
	all, err := r.list(ctx, KindIndexRule, prefix)
	if err != nil {
		return nil, err
	}
	return listAs[*databasev1.IndexRule](all), nil
}
