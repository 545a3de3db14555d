// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package metadata

import (
	"context"
	"time"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
)

// proxy forwards every registry call to the repo's current registry, so that the registries can
// be handed out before PreRun.
type proxy struct{ r *repo }

var (
	_ schema.Group            = proxy{}
	_ schema.Trace            = proxy{}
	_ schema.IndexRule        = proxy{}
	_ schema.IndexRuleBinding = proxy{}
	_ schema.Node             = proxy{}
	_ schema.DeletionTask     = proxy{}
)

func (p proxy) CreateGroup(ctx context.Context, g *commonv1.Group) (int64, error) {
	reg, err := p.r.registry()
	if err != nil {
		return 0, err
	}
	return reg.CreateGroup(ctx, g)
}

func (p proxy) UpdateGroup(ctx context.Context, g *commonv1.Group) (int64, error) {
	reg, err := p.r.registry()
	if err != nil {
		return 0, err
	}
	return reg.UpdateGroup(ctx, g)
}

func (p proxy) DeleteGroup(ctx context.Context, name string) (bool, error) {
	reg, err := p.r.registry()
	if err != nil {
		return false, err
	}
	return reg.DeleteGroup(ctx, name)
}

func (p proxy) GetGroup(ctx context.Context, name string) (*commonv1.Group, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.GetGroup(ctx, name)
}

func (p proxy) ListGroup(ctx context.Context) ([]*commonv1.Group, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.ListGroup(ctx)
}

func (p proxy) CreateTrace(ctx context.Context, t *databasev1.Trace) (int64, error) {
	reg, err := p.r.registry()
	if err != nil {
		return 0, err
	}
	return reg.CreateTrace(ctx, t)
}

func (p proxy) UpdateTrace(ctx context.Context, t *databasev1.Trace) (int64, error) {
	reg, err := p.r.registry()
	if err != nil {
		return 0, err
	}
	return reg.UpdateTrace(ctx, t)
}

func (p proxy) DeleteTrace(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	reg, err := p.r.registry()
	if err != nil {
		return false, err
	}
	return reg.DeleteTrace(ctx, md)
}

func (p proxy) GetTrace(ctx context.Context, md *commonv1.Metadata) (*databasev1.Trace, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.GetTrace(ctx, md)
}

func (p proxy) ListTrace(ctx context.Context, opt schema.ListOpt) ([]*databasev1.Trace, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.ListTrace(ctx, opt)
}

func (p proxy) CreateIndexRule(ctx context.Context, rule *databasev1.IndexRule) (int64, error) {
	reg, err := p.r.registry()
	if err != nil {
		return 0, err
	}
	return reg.CreateIndexRule(ctx, rule)
}

func (p proxy) UpdateIndexRule(ctx context.Context, rule *databasev1.IndexRule) (int64, error) {
	reg, err := p.r.registry()
	if err != nil {
		return 0, err
	}
	return reg.UpdateIndexRule(ctx, rule)
}

func (p proxy) DeleteIndexRule(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	reg, err := p.r.registry()
	if err != nil {
		return false, err
	}
	return reg.DeleteIndexRule(ctx, md)
}

func (p proxy) GetIndexRule(ctx context.Context, md *commonv1.Metadata) (*databasev1.IndexRule, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.GetIndexRule(ctx, md)
}

func (p proxy) ListIndexRule(ctx context.Context, opt schema.ListOpt) ([]*databasev1.IndexRule, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.ListIndexRule(ctx, opt)
}

func (p proxy) CreateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	reg, err := p.r.registry()
	if err != nil {
		return 0, err
	}
	return reg.CreateIndexRuleBinding(ctx, b)
}

func (p proxy) UpdateIndexRuleBinding(ctx context.Context, b *databasev1.IndexRuleBinding) (int64, error) {
	reg, err := p.r.registry()
	if err != nil {
		return 0, err
	}
	return reg.UpdateIndexRuleBinding(ctx, b)
}

func (p proxy) DeleteIndexRuleBinding(ctx context.Context, md *commonv1.Metadata) (bool, error) {
	reg, err := p.r.registry()
	if err != nil {
		return false, err
	}
	return reg.DeleteIndexRuleBinding(ctx, md)
}

func (p proxy) GetIndexRuleBinding(ctx context.Context, md *commonv1.Metadata) (*databasev1.IndexRuleBinding, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.GetIndexRuleBinding(ctx, md)
}

func (p proxy) ListIndexRuleBinding(ctx context.Context, opt schema.ListOpt) ([]*databasev1.IndexRuleBinding, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.ListIndexRuleBinding(ctx, opt)
}

func (p proxy) RegisterNode(ctx context.Context, n *databasev1.Node, ttl time.Duration) error {
	reg, err := p.r.registry()
	if err != nil {
		return err
	}
	return reg.RegisterNode(ctx, n, ttl)
}

func (p proxy) ListNode(ctx context.Context, role databasev1.Role) ([]*databasev1.Node, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.ListNode(ctx, role)
}

func (p proxy) PutGroupDeletionTask(ctx context.Context, group string, t *databasev1.GroupDeletionTask) error {
	reg, err := p.r.registry()
	if err != nil {
		return err
	}
	return reg.PutGroupDeletionTask(ctx, group, t)
}

func (p proxy) GetGroupDeletionTask(ctx context.Context, group string) (*databasev1.GroupDeletionTask, error) {
	reg, err := p.r.registry()
	if err != nil {
		return nil, err
	}
	return reg.GetGroupDeletionTask(ctx, group)
}
