// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"fmt"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
)

// MaxShardNum is the most shards a group (or a lifecycle stage) may have. Every shard of every
// segment is a storage table of its own, with its files and memory, on the node that holds it:
// shards beyond this many exhaust a node's file descriptors long before they spread any load.
// Upstream sets no bound.
const MaxShardNum = 256

// ValidateGroup checks a group sent to Create or Update. It reports the first problem as a
// *FieldError whose field starts with "group":
//   - metadata present with a name that passes ValidateName;
//   - catalog a defined, non-UNSPECIFIED value;
//   - resource_opts present (except for CATALOG_PROPERTY groups, which have no storage layout),
//     with shard_num in [1, MaxShardNum] and segment_interval and ttl present, each with a defined
//     unit and num > 0;
//   - every lifecycle stage: a unique non-empty name, shard_num in [1, MaxShardNum], valid segment_interval and
//     ttl, a ttl unit equal to the group's ttl unit (stage ttls add up to the group's), and a
//     non-empty node_selector.
func ValidateGroup(g *commonv1.Group) error {
	const field = "group"
	if g == nil {
		return fieldErrorf(field, reasonRequired)
	}
	if g.GetMetadata() == nil {
		return fieldErrorf(field+".metadata", reasonRequired)
	}
	if err := validateName(field+".metadata.name", g.GetMetadata().GetName()); err != nil {
		return err
	}
	if _, ok := commonv1.Catalog_name[int32(g.GetCatalog())]; !ok || g.GetCatalog() == commonv1.Catalog_CATALOG_UNSPECIFIED {
		return fieldErrorf(field+".catalog", "must be specified, got %s", g.GetCatalog())
	}
	opts := g.GetResourceOpts()
	if opts == nil {
		if g.GetCatalog() == commonv1.Catalog_CATALOG_PROPERTY {
			return nil
		}
		return fieldErrorf(field+".resource_opts", reasonRequired)
	}
	return validateResourceOpts(field+".resource_opts", opts)
}

func validateResourceOpts(field string, opts *commonv1.ResourceOpts) error {
	if err := validateShardNum(field+".shard_num", opts.GetShardNum()); err != nil {
		return err
	}
	if err := validateIntervalRule(field+".segment_interval", opts.GetSegmentInterval()); err != nil {
		return err
	}
	if err := validateIntervalRule(field+".ttl", opts.GetTtl()); err != nil {
		return err
	}
	seen := make(map[string]int, len(opts.GetStages()))
	for i, stage := range opts.GetStages() {
		stageField := fmt.Sprintf("%s.stages[%d]", field, i)
		if stage == nil {
			return fieldErrorf(stageField, reasonRequired)
		}
		if stage.GetName() == "" {
			return fieldErrorf(stageField+".name", reasonEmpty)
		}
		if j, dup := seen[stage.GetName()]; dup {
			return fieldErrorf(stageField+".name", "stage %q is already defined by stages[%d]", stage.GetName(), j)
		}
		seen[stage.GetName()] = i
		if err := validateShardNum(stageField+".shard_num", stage.GetShardNum()); err != nil {
			return err
		}
		if err := validateIntervalRule(stageField+".segment_interval", stage.GetSegmentInterval()); err != nil {
			return err
		}
		if err := validateIntervalRule(stageField+".ttl", stage.GetTtl()); err != nil {
			return err
		}
		if stage.GetTtl().GetUnit() != opts.GetTtl().GetUnit() {
			return fieldErrorf(stageField+".ttl.unit", "must equal %s.ttl.unit %s, got %s",
				field, opts.GetTtl().GetUnit(), stage.GetTtl().GetUnit())
		}
		if stage.GetNodeSelector() == "" {
			return fieldErrorf(stageField+".node_selector", reasonEmpty)
		}
	}
	return nil
}

func validateShardNum(field string, n uint32) error {
	if n == 0 {
		return fieldErrorf(field, reasonPositive)
	}
	if n > MaxShardNum {
		return fieldErrorf(field, "must be at most %d (each shard of each segment is a table of its own), got %d", MaxShardNum, n)
	}
	return nil
}

func validateIntervalRule(field string, r *commonv1.IntervalRule) error {
	if r == nil {
		return fieldErrorf(field, reasonRequired)
	}
	if _, ok := commonv1.IntervalRule_Unit_name[int32(r.GetUnit())]; !ok || r.GetUnit() == commonv1.IntervalRule_UNIT_UNSPECIFIED {
		return fieldErrorf(field+".unit", "must be UNIT_HOUR or UNIT_DAY, got %s", r.GetUnit())
	}
	if r.GetNum() == 0 {
		return fieldErrorf(field+".num", reasonPositive)
	}
	return nil
}

// validateGroupUpdate checks what may not change when a stored group is replaced: its catalog,
// because the resources already in the group were validated against it.
func validateGroupUpdate(stored, updated *commonv1.Group) error {
	if stored.GetCatalog() != updated.GetCatalog() {
		return fieldErrorf("group.catalog", "cannot change from %s to %s", stored.GetCatalog(), updated.GetCatalog())
	}
	return nil
}

// validateTraceGroup checks that the group a trace schema is created in holds traces.
func validateTraceGroup(field string, g *commonv1.Group) error {
	if g.GetCatalog() != commonv1.Catalog_CATALOG_TRACE {
		return fieldErrorf(field, "group %q has catalog %s, want CATALOG_TRACE", g.GetMetadata().GetName(), g.GetCatalog())
	}
	return nil
}
