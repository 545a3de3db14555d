// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/pkg/errors"
	"go.uber.org/multierr"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/fs"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
	resourceSchema "github.com/apache/skywalking-banyandb/pkg/schema"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

var _ Service = (*standalone)(nil)

// Snapshotter is implemented by the trace service of nodes that store traces.
type Snapshotter interface {
	// Snapshot takes a consistent copy of every group's trace data and returns its directory.
	Snapshot(ctx context.Context) (string, error)
}

var _ Snapshotter = (*standalone)(nil)

// standalone is the trace service of a node that stores traces: a standalone server or a data node.
type standalone struct {
	pm                  protector.Memory
	pipeline            queue.Server
	omr                 observability.MetricsRegistry
	lfs                 fs.FileSystem
	metadata            metadata.Repo
	l                   *logger.Logger
	schemaRepo          schemaRepo
	snapshotDir         string
	root                string
	dataPath            string
	option              option
	maxDiskUsagePercent int
	maxFileSnapshotNum  int

	schemaWait time.Duration
	fs         *run.FlagSet
	stopCh     chan struct{}
	metrics    *metrics
	snapshot   *snapshotter
	write      *writeData
	query      *queryData
	// cache is the block cache of every table, sized by --trace-series-cache-max-size.
	cache *pebble.Cache
}

// DataService is the trace service of a node that stores traces: the seed's Service, the data
// side the data plane calls (queue.Handler), and the schemas the front door of a standalone
// server validates against.
type DataService interface {
	Service
	queue.Handler
	Schemas
	Snapshotter
}

// NewService returns the trace service of a node that stores traces. The front door of a
// standalone server calls it directly (queue.NewLocal); pipeline, on a data node, is the internal
// endpoint that hands it what liaisons send (nil in standalone).
func NewService(md metadata.Repo, pipeline queue.Server, omr observability.MetricsRegistry, pm protector.Memory) (DataService, error) {
	if md == nil || omr == nil || pm == nil {
		return nil, errors.New("trace: the metadata repo, metrics registry and memory protector are required")
	}
	s := &standalone{
		metadata: md,
		pipeline: pipeline,
		omr:      omr,
		pm:       pm,
		option:   option{mergePolicy: &mergePolicy{}},
		stopCh:   make(chan struct{}),
	}
	return s, nil
}

func (s *standalone) Name() string { return "trace" }

// Role returns the cluster role of the service.
func (s *standalone) Role() databasev1.Role { return databasev1.Role_ROLE_DATA }

func (s *standalone) FlagSet() *run.FlagSet {
	if s.fs != nil {
		return s.fs
	}
	fs := run.NewFlagSet("trace")
	commonFlags{root: &s.root, dataPath: &s.dataPath, option: &s.option, maxDiskUsagePercent: &s.maxDiskUsagePercent, schemaWait: &s.schemaWait}.register(fs)
	s.option.seriesCacheMaxSize = defaultSeriesCacheMaxSize
	fs.Var(&s.option.seriesCacheMaxSize, "trace-series-cache-max-size", "the size of the cache of trace data blocks")
	s.option.mergePolicy.maxFanOutSize = defaultMaxFanOutSize
	fs.Var(&s.option.mergePolicy.maxFanOutSize, "trace-max-fan-out-size", "the largest file a background merge of trace data writes")
	fs.IntVar(&s.maxFileSnapshotNum, "trace-max-file-snapshot-num", defaultMaxFileSnapshotNum, "the number of trace snapshots kept")
	fs.DurationVar(&s.option.maxFutureSkew, "trace-max-future-skew", defaultMaxFutureSkew,
		"how far ahead of the server's clock a span's timestamp may be; later spans are refused with STATUS_INVALID_TIMESTAMP")
	fs.DurationVar(&s.option.segmentIdleTimeout, "trace-segment-idle-timeout", defaultSegmentIdleTimeout,
		"how long a segment nobody reads or writes keeps its files open; 0 keeps them open until the group closes")
	fs.IntVar(&s.option.maxOpenSegments, "trace-max-open-segments", defaultMaxOpenSegments,
		"the most segments of a group whose files stay open while unused (the least recently used close first); 0 sets no bound")
	s.fs = fs
	return fs
}

func (s *standalone) Validate() error {
	err := commonFlags{root: &s.root, dataPath: &s.dataPath, option: &s.option, maxDiskUsagePercent: &s.maxDiskUsagePercent, schemaWait: &s.schemaWait}.validate()
	if s.maxFileSnapshotNum < 0 {
		err = multierr.Append(err, errors.Errorf("--trace-max-file-snapshot-num must not be negative, got %d", s.maxFileSnapshotNum))
	}
	if s.option.maxFutureSkew <= 0 {
		err = multierr.Append(err, errors.Errorf("--trace-max-future-skew must be positive, got %s", s.option.maxFutureSkew))
	}
	if s.option.segmentIdleTimeout < 0 {
		err = multierr.Append(err, errors.Errorf("--trace-segment-idle-timeout must not be negative, got %s", s.option.segmentIdleTimeout))
	}
	if s.option.maxOpenSegments < 0 {
		err = multierr.Append(err, errors.Errorf("--trace-max-open-segments must not be negative, got %d", s.option.maxOpenSegments))
	}
	if s.option.seriesCacheMaxSize < 0 {
		err = multierr.Append(err, errors.Errorf("--trace-series-cache-max-size must not be negative, got %s", s.option.seriesCacheMaxSize))
	}
	if s.option.mergePolicy.maxFanOutSize < 0 {
		err = multierr.Append(err, errors.Errorf("--trace-max-fan-out-size must not be negative, got %s", s.option.mergePolicy.maxFanOutSize))
	}
	return err
}

func (s *standalone) PreRun(_ context.Context) error {
	s.l = logger.GetLogger("trace")
	s.lfs = fs.NewLocalFileSystem()
	if s.root == "" {
		return errEmptyRootPath
	}
	s.dataPath = resolveDataPath(s.root, s.dataPath)
	s.snapshotDir = filepath.Join(s.root, "trace", "snapshots")
	for _, dir := range []string{s.dataPath, s.snapshotDir} {
		if err := s.lfs.MkdirIfNotExist(dir, 0o755); err != nil {
			return errors.Wrapf(err, "create trace directory %s", dir)
		}
	}
	s.metrics = newMetrics(s.omr)
	s.cache = pebble.NewCache(int64(s.option.seriesCacheMaxSize))
	s.schemaRepo = schemaRepo{l: s.l}
	s.schemaRepo.Repository = resourceSchema.NewRepository(s.metadata, commonv1.Catalog_CATALOG_TRACE,
		newSupplier(s.dataPath, s), s.l)
	s.snapshot = newSnapshotter(&s.schemaRepo, s.snapshotDir, s.maxFileSnapshotNum, s.lfs, s.l)
	s.write = newWriteData(&s.schemaRepo, s.lfs, s.dataPath, s.maxDiskUsagePercent, s.schemaWait, s.option.maxFutureSkew, s.metrics, s.l)
	s.query = &queryData{schemaRepo: &s.schemaRepo, metrics: s.metrics, pm: s.pm, maxAnswer: queue.MaxNodeAnswerBytes}
	if s.pipeline != nil {
		if err := s.pipeline.Handle(s); err != nil {
			return errors.Wrap(err, "serve the trace data on the internal endpoint")
		}
	}
	s.schemaRepo.Watch()
	return nil
}

func (s *standalone) Serve() run.StopNotify { return s.stopCh }

func (s *standalone) GracefulStop() {
	if s.schemaRepo.Repository != nil {
		s.schemaRepo.Close()
	}
	if s.cache != nil {
		// The tables hold their own references; the cache goes when the last of them closes.
		s.cache.Unref()
		s.cache = nil
	}
	select {
	case <-s.stopCh:
	default:
		close(s.stopCh)
	}
}

func (s *standalone) LoadGroup(name string) (resourceSchema.Group, bool) {
	return s.schemaRepo.group(name)
}

func (s *standalone) Trace(md *commonv1.Metadata) (Trace, error) {
	return s.schemaRepo.trace(md)
}

func (s *standalone) GetRemovalSegmentsTimeRange(group string) *timestamp.TimeRange {
	if s.schemaRepo.Repository == nil {
		return nil
	}
	return s.schemaRepo.removalSegmentsTimeRange(group)
}

// Snapshot takes a consistent copy of every group's trace data and returns its directory.
func (s *standalone) Snapshot(ctx context.Context) (string, error) {
	if s.snapshot == nil {
		return "", errors.New("trace: the service is not running")
	}
	return s.snapshot.take(ctx)
}
