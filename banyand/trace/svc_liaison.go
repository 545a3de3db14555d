// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"time"

	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/pkg/fs"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
	resourceSchema "github.com/apache/skywalking-banyandb/pkg/schema"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

var _ Service = (*liaison)(nil)

// liaison is the trace service of a liaison node: it follows the trace schemas but holds no
// data; the front door (banyand/liaison/grpc) validates against them and routes writes and
// queries to the data nodes.
type liaison struct {
	pm                  protector.Memory
	metadata            metadata.Repo
	omr                 observability.MetricsRegistry
	lfs                 fs.FileSystem
	l                   *logger.Logger
	schemaRepo          schemaRepo
	dataPath            string
	root                string
	option              option
	maxDiskUsagePercent int

	schemaWait time.Duration
	fs         *run.FlagSet
	stopCh     chan struct{}
	metrics    *metrics
}

// LiaisonService is the trace service of a liaison: the seed's Service and the schemas its front
// door validates against.
type LiaisonService interface {
	Service
	Schemas
}

// NewLiaison returns the trace service of a liaison. The front door it serves reaches the data
// nodes through the data plane it is given (queue.NewGRPCClient).
func NewLiaison(md metadata.Repo, omr observability.MetricsRegistry, pm protector.Memory) (LiaisonService, error) {
	if md == nil || omr == nil || pm == nil {
		return nil, errors.New("trace: the metadata repo, metrics registry and memory protector are required")
	}
	return &liaison{
		metadata: md,
		omr:      omr,
		pm:       pm,
		option:   option{mergePolicy: &mergePolicy{}},
		stopCh:   make(chan struct{}),
	}, nil
}

func (l *liaison) Name() string { return "trace" }

// Role returns the cluster role of the service.
func (l *liaison) Role() databasev1.Role { return databasev1.Role_ROLE_LIAISON }

func (l *liaison) FlagSet() *run.FlagSet {
	if l.fs != nil {
		return l.fs
	}
	fs := run.NewFlagSet("trace")
	commonFlags{root: &l.root, dataPath: &l.dataPath, option: &l.option, maxDiskUsagePercent: &l.maxDiskUsagePercent, schemaWait: &l.schemaWait}.register(fs)
	l.fs = fs
	return fs
}

func (l *liaison) Validate() error {
	return commonFlags{root: &l.root, dataPath: &l.dataPath, option: &l.option, maxDiskUsagePercent: &l.maxDiskUsagePercent, schemaWait: &l.schemaWait}.validate()
}

func (l *liaison) PreRun(_ context.Context) error {
	l.l = logger.GetLogger("trace", "liaison")
	l.lfs = fs.NewLocalFileSystem()
	if l.root == "" {
		return errEmptyRootPath
	}
	l.dataPath = resolveDataPath(l.root, l.dataPath)
	if err := l.lfs.MkdirIfNotExist(l.dataPath, 0o755); err != nil {
		return errors.Wrapf(err, "create the liaison's trace directory %s", l.dataPath)
	}
	l.metrics = newMetrics(l.omr)
	l.schemaRepo = schemaRepo{l: l.l}
	l.schemaRepo.Repository = resourceSchema.NewPortableRepository(l.metadata, commonv1.Catalog_CATALOG_TRACE,
		newQueueSupplier(l), l.l)
	l.schemaRepo.Watch()
	return nil
}

func (l *liaison) Serve() run.StopNotify { return l.stopCh }

func (l *liaison) GracefulStop() {
	if l.schemaRepo.Repository != nil {
		l.schemaRepo.Close()
	}
	select {
	case <-l.stopCh:
	default:
		close(l.stopCh)
	}
}

func (l *liaison) LoadGroup(name string) (resourceSchema.Group, bool) {
	return l.schemaRepo.group(name)
}

func (l *liaison) Trace(md *commonv1.Metadata) (Trace, error) {
	return l.schemaRepo.trace(md)
}

// GetRemovalSegmentsTimeRange is nil on a liaison: it holds no segments.
func (l *liaison) GetRemovalSegmentsTimeRange(string) *timestamp.TimeRange { return nil }
