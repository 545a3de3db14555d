// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"hash/fnv"

	"github.com/cockroachdb/pebble"
	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	"github.com/apache/skywalking-banyandb/banyand/internal/storage"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// tsdbHolder is a TRACE group's storage: segments of tables, one table per (segment, shard).
type tsdbHolder struct {
	db    storage.TSDB[*tstable.Table]
	group string
}

// Close closes the group's storage.
func (h *tsdbHolder) Close() error { return h.db.Close() }

// Drop closes the group's storage and removes its data.
func (h *tsdbHolder) Drop() error { return h.db.Drop() }

// UpdateOptions applies a changed group layout to segments created from now on.
func (h *tsdbHolder) UpdateOptions(g *commonv1.Group) error {
	shardNum, seg, ttl, err := groupLayout(g)
	if err != nil {
		return err
	}
	h.db.UpdateOptions(shardNum, seg, ttl)
	return nil
}

func intervalRule(r *commonv1.IntervalRule) (storage.IntervalRule, error) {
	switch r.GetUnit() {
	case commonv1.IntervalRule_UNIT_HOUR:
		return storage.IntervalRule{Unit: storage.HOUR, Num: int(r.GetNum())}, nil
	case commonv1.IntervalRule_UNIT_DAY:
		return storage.IntervalRule{Unit: storage.DAY, Num: int(r.GetNum())}, nil
	}
	return storage.IntervalRule{}, errors.Errorf("interval unit %s is not supported", r.GetUnit())
}

func groupLayout(g *commonv1.Group) (uint32, storage.IntervalRule, storage.IntervalRule, error) {
	opts := g.GetResourceOpts()
	seg, err := intervalRule(opts.GetSegmentInterval())
	if err != nil {
		return 0, seg, seg, errors.Wrapf(err, "group %s segment_interval", g.GetMetadata().GetName())
	}
	ttl, err := intervalRule(opts.GetTtl())
	if err != nil {
		return 0, seg, ttl, errors.Wrapf(err, "group %s ttl", g.GetMetadata().GetName())
	}
	return opts.GetShardNum(), seg, ttl, nil
}

// openTSDB opens (or creates) the storage of a group at location.
func openTSDB(location string, g *commonv1.Group, opt option, cache *pebble.Cache, l *logger.Logger) (*tsdbHolder, error) {
	shardNum, seg, ttl, err := groupLayout(g)
	if err != nil {
		return nil, err
	}
	tableOpts := opt.tableOptions(cache, l)
	db, err := storage.OpenTSDB(storage.TSDBOpts[*tstable.Table]{
		Location:        location,
		ShardNum:        shardNum,
		SegmentInterval: seg,
		TTL:             ttl,
		IdleTimeout:     opt.segmentIdleTimeout,
		MaxOpenSegments: opt.maxOpenSegments,
		Logger:          l.Logger,
		OpenTable: func(dir string, _ timestamp.TimeRange, _ storage.ShardID) (*tstable.Table, error) {
			return tstable.Open(dir, tableOpts)
		},
	})
	if err != nil {
		return nil, errors.Wrapf(err, "open storage of group %s", g.GetMetadata().GetName())
	}
	return &tsdbHolder{db: db, group: g.GetMetadata().GetName()}, nil
}

// shardOf is the shard of a trace: FNV-1a 32-bit of the trace id modulo the shard count, so all
// spans of a trace share a shard.
func shardOf(traceID string, shardNum uint32) uint32 {
	if shardNum == 0 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(traceID))
	return h.Sum32() % shardNum
}
