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
	"github.com/apache/skywalking-banyandb/banyand/liaison/grpc"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/fs"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/node"
	"github.com/apache/skywalking-banyandb/pkg/run"
	resourceSchema "github.com/apache/skywalking-banyandb/pkg/schema"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

var _ Service = (*liaison)(nil)

// liaison is the trace service of a liaison node: it follows the trace schemas but holds no
// data; its gRPC front door routes writes and queries to the data nodes.
type liaison struct {
	pm                  protector.Memory
	metadata            metadata.Repo
	pipeline            queue.Server
	omr                 observability.MetricsRegistry
	lfs                 fs.FileSystem
	dataNodeSelector    node.Selector
	l                   *logger.Logger
	schemaRepo          schemaRepo
	dataPath            string
	root                string
	option              option
	maxDiskUsagePercent int

	nodeRegistry grpc.NodeRegistry
	schemaWait   time.Duration
	fs           *run.FlagSet
	stopCh       chan struct{}
	metrics      *metrics
}

// NewLiaison returns the trace service of a liaison. tire2Client sends batches and queries to the
// data nodes that dataNodeSelector picks.
func NewLiaison(md metadata.Repo, pipeline queue.Server, tire2Client queue.Client, omr observability.MetricsRegistry,
	pm protector.Memory, dataNodeSelector node.Selector, nodeRegistry grpc.NodeRegistry,
) (Service, error) {
	if md == nil || tire2Client == nil || omr == nil || pm == nil || dataNodeSelector == nil {
		return nil, errors.New("trace: the metadata repo, data-node client, metrics registry, memory protector and node selector are required")
	}
	return &liaison{
		metadata:         md,
		pipeline:         pipeline,
		omr:              omr,
		pm:               pm,
		dataNodeSelector: dataNodeSelector,
		nodeRegistry:     nodeRegistry,
		option:           option{mergePolicy: &mergePolicy{}, protector: pm, tire2Client: tire2Client},
		stopCh:           make(chan struct{}),
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
	l.schemaRepo = *newSchemaRepo(l.dataPath, l.metadata, l.l)
	l.schemaRepo.Repository = resourceSchema.NewPortableRepository(l.metadata, commonv1.Catalog_CATALOG_TRACE,
		newQueueSupplier(l.dataPath, l, l.nodeRegistry), l.l)
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
	if l.schemaRepo.Repository == nil {
		return nil, false
	}
	return l.schemaRepo.LoadGroup(name)
}

func (l *liaison) Trace(md *commonv1.Metadata) (Trace, error) {
	if l.schemaRepo.Repository == nil {
		return nil, ErrTraceNotExist
	}
	t, ok := l.schemaRepo.loadTrace(md)
	if !ok {
		return nil, errors.Wrapf(ErrTraceNotExist, "%s/%s", md.GetGroup(), md.GetName())
	}
	return t, nil
}

// GetRemovalSegmentsTimeRange is nil on a liaison: it holds no segments.
func (l *liaison) GetRemovalSegmentsTimeRange(string) *timestamp.TimeRange { return nil }
