// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"math"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/pkg/errors"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// Defaults of the trace flags.
const (
	defaultRootPath            = "/tmp"
	defaultFlushTimeout        = time.Second
	defaultMaxDiskUsagePercent = 95
	defaultSeriesCacheMaxSize  = 32 << 20
	defaultMaxFanOutSize       = 256 << 20
	defaultMaxFileSnapshotNum  = 2
	defaultSchemaWait          = 2 * time.Second
	defaultMaxFutureSkew       = 24 * time.Hour
	// defaultSegmentIdleTimeout is the idle time after which upstream closes the segments of
	// a lifecycle stage with close=true.
	defaultSegmentIdleTimeout = 5 * time.Minute
	defaultMaxOpenSegments    = 16
)

// mergePolicy bounds what background compactions produce.
type mergePolicy struct {
	// maxFanOutSize is the largest file a merge may write.
	maxFanOutSize run.Bytes
}

// option is the engine configuration the flags bind to.
type option struct {
	mergePolicy        *mergePolicy
	seriesCacheMaxSize run.Bytes
	flushTimeout       time.Duration
	// maxFutureSkew is --trace-max-future-skew: spans stamped later than now plus this are refused.
	maxFutureSkew time.Duration
	// segmentIdleTimeout and maxOpenSegments are --trace-segment-idle-timeout and
	// --trace-max-open-segments: when a group's unused segments close their tables.
	segmentIdleTimeout time.Duration
	maxOpenSegments    int
	// maxQueryResponseSize is --trace-max-query-response-size: the largest encoded answer of one
	// query, on a data node and at the front door.
	maxQueryResponseSize run.Bytes
	// elementIndexFlushTimeout is the plan's flush deadline for index entries. Index entries live in
	// the same table (and write-ahead log) as the spans, so the table flushes by the shorter of the
	// two; no flag sets it apart from --trace-flush-timeout (0 means the same).
	elementIndexFlushTimeout time.Duration
}

// tableOptions is the single place where flags become table options. cache, shared by every
// table of the service, is sized by --trace-series-cache-max-size.
func (o option) tableOptions(cache *pebble.Cache, l *logger.Logger) tstable.Options {
	opts := tstable.DefaultOptions()
	opts.FlushTimeout = o.flushTimeout
	if o.elementIndexFlushTimeout > 0 && o.elementIndexFlushTimeout < opts.FlushTimeout {
		opts.FlushTimeout = o.elementIndexFlushTimeout
	}
	opts.Cache = cache
	if o.mergePolicy != nil {
		opts.MaxFanOutSize = int64(o.mergePolicy.maxFanOutSize)
	}
	opts.Logger = l.Logger
	return opts
}

// commonFlags is the part of the configuration every trace role has.
type commonFlags struct {
	root                *string
	dataPath            *string
	option              *option
	maxDiskUsagePercent *int
	schemaWait          *time.Duration
}

func (c commonFlags) register(fs *run.FlagSet) {
	fs.StringVar(c.root, "trace-root-path", defaultRootPath, "the root path of the trace data and working files")
	fs.StringVar(c.dataPath, "trace-data-path", "", "the data directory of traces (default <trace-root-path>/trace/data)")
	fs.DurationVar(&c.option.flushTimeout, "trace-flush-timeout", defaultFlushTimeout,
		"the longest time written trace data may stay only in memory before it is flushed to files")
	fs.IntVar(c.maxDiskUsagePercent, "trace-max-disk-usage-percent", defaultMaxDiskUsagePercent,
		"the disk usage percent above which trace writes are refused with STATUS_DISK_FULL")
	fs.DurationVar(c.schemaWait, "trace-metadata-cache-wait-duration", defaultSchemaWait,
		"how long a write waits for a trace schema this node has not loaded yet before it fails")
	c.option.maxQueryResponseSize = defaultMaxQueryResponseSize
	fs.Var(&c.option.maxQueryResponseSize, "trace-max-query-response-size",
		"the largest answer of one query, e.g. 64mb; a query whose answer would be larger fails with ResourceExhausted (page it with limit/offset)")
}

func (c commonFlags) validate() error {
	var err error
	if *c.root == "" {
		err = multierr.Append(err, errEmptyRootPath)
	}
	if *c.maxDiskUsagePercent < 0 || *c.maxDiskUsagePercent > 100 {
		err = multierr.Append(err, errors.Errorf("--trace-max-disk-usage-percent must be within [0, 100], got %d", *c.maxDiskUsagePercent))
	}
	if *c.schemaWait < 0 {
		err = multierr.Append(err, errors.Errorf("--trace-metadata-cache-wait-duration must not be negative, got %s", *c.schemaWait))
	}
	if c.option.maxQueryResponseSize <= 0 || c.option.maxQueryResponseSize >= math.MaxInt32 {
		err = multierr.Append(err, errors.Errorf("--trace-max-query-response-size must be above 0 and below 2gb, got %s", c.option.maxQueryResponseSize))
	}
	if c.option.flushTimeout < 0 {
		err = multierr.Append(err, errors.Errorf("--trace-flush-timeout must not be negative, got %s", c.option.flushTimeout))
	}
	return err
}

// resolveDataPath returns the data directory: the flag, or <root>/trace/data.
func resolveDataPath(root, dataPath string) string {
	if dataPath != "" {
		return dataPath
	}
	return filepath.Join(root, "trace", "data")
}
