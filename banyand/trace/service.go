// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"time"

	"github.com/pkg/errors"

	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/node"
)

// frontDoor is what the public TraceService needs of the node's trace service: the schemas to
// validate against, where to publish, and which node holds a shard.
type frontDoor interface {
	repo() *schemaRepo
	publisher() queue.Client
	selector() node.Selector
	queryMetrics() *metrics
	writeSchemaWait() time.Duration
	// refuseWrites reports whether the front door itself must refuse writes (STATUS_DISK_FULL).
	refuseWrites() bool
	// dataAdmin reaches the data side of the operator's calls (group data, segments).
	dataAdmin
}

func (s *standalone) repo() *schemaRepo       { return &s.schemaRepo }
func (s *standalone) publisher() queue.Client { return s.localPipeline }
func (s *standalone) selector() node.Selector { return localSelector }
func (s *standalone) queryMetrics() *metrics  { return s.metrics }
func (l *liaison) repo() *schemaRepo          { return &l.schemaRepo }
func (l *liaison) publisher() queue.Client    { return l.option.tire2Client }
func (l *liaison) selector() node.Selector    { return l.dataNodeSelector }
func (l *liaison) queryMetrics() *metrics     { return l.metrics }

// localNodeName names the only node of a standalone server.
const localNodeName = "local"

var localSelector = node.NewLocalSelector(localNodeName)

// grpcService implements the public TraceService on top of a node's trace service.
type grpcService struct {
	tracev1.UnimplementedTraceServiceServer
	door frontDoor
	l    *logger.Logger
}

// NewTraceServer returns the public TraceService of a standalone server or a liaison. It may be
// built before the service's PreRun; it serves once the service is running.
func NewTraceServer(svc Service) (tracev1.TraceServiceServer, error) {
	door, ok := svc.(frontDoor)
	if !ok {
		return nil, errors.Errorf("trace: %T cannot serve the trace API", svc)
	}
	return &grpcService{door: door, l: logger.GetLogger("trace", "grpc")}, nil
}

var (
	_ frontDoor = (*standalone)(nil)
	_ frontDoor = (*liaison)(nil)
)

func (s *standalone) writeSchemaWait() time.Duration { return s.schemaWait }

func (l *liaison) writeSchemaWait() time.Duration { return l.schemaWait }

// refuseWrites is false on a standalone server: its write handler checks the data disk itself.
func (s *standalone) refuseWrites() bool { return false }

// refuseWrites is true while the liaison's own disk is above --trace-max-disk-usage-percent.
func (l *liaison) refuseWrites() bool {
	if l.maxDiskUsagePercent <= 0 || l.maxDiskUsagePercent >= 100 || l.lfs == nil {
		return false
	}
	used, err := l.lfs.DiskUsagePercent(l.dataPath)
	if err != nil {
		l.l.Warn().Err(err).Msg("failed to read the disk usage")
		return false
	}
	return used >= l.maxDiskUsagePercent
}
