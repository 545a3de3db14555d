// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"io"

	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/banyand/trace"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/node"
	"github.com/apache/skywalking-banyandb/pkg/tagspec"
)

const (
	// maxStreamBatch bounds how many requests of one stream are committed together.
	maxStreamBatch = 2000
	// streamBuffer is how many received requests may wait while a batch commits.
	streamBuffer = 4096
)

// TraceService is the public TraceService of a standalone server or a liaison: the front door.
// It validates each request once against the schemas of the node's trace service, computes its
// shard once, places it on the node that holds the shard and hands typed batches to the data
// plane (the local data side in standalone, the data nodes' gRPC endpoints in a cluster).
type TraceService struct {
	tracev1.UnimplementedTraceServiceServer
	schemas  trace.Schemas
	plane    queue.DataPlane
	selector node.Selector
	l        *logger.Logger
}

// NewTraceService returns the front door over a node's trace schemas, its data plane and the
// placement of shards on data nodes.
func NewTraceService(schemas trace.Schemas, plane queue.DataPlane, selector node.Selector) (*TraceService, error) {
	if schemas == nil || plane == nil || selector == nil {
		return nil, errors.New("liaison grpc: the trace schemas, data plane and node selector are required")
	}
	return &TraceService{schemas: schemas, plane: plane, selector: selector, l: logger.GetLogger("liaison", "trace")}, nil
}

// Write is the span write stream. Requests are read ahead while the previous batch commits; each
// batch is validated, placed by shard and written; every request then gets its own response with
// the outcome of its batch, as soon as that batch is committed.
func (s *TraceService) Write(stream tracev1.TraceService_WriteServer) error {
	ctx := stream.Context()
	ws := &writeStream{svc: s}
	reqCh := make(chan *tracev1.WriteRequest, streamBuffer)
	var recvErr error
	go func() {
		defer close(reqCh)
		for {
			req, err := stream.Recv()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					recvErr = err
				}
				return
			}
			select {
			case reqCh <- req:
			case <-ctx.Done():
				return
			}
		}
	}()
	batch := make([]*tracev1.WriteRequest, 0, maxStreamBatch)
	for {
		req, ok := <-reqCh
		if !ok {
			break
		}
		batch = append(batch[:0], req)
	drain:
		for len(batch) < maxStreamBatch {
			select {
			case r, ok := <-reqCh:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		statuses, mds := ws.writeBatch(ctx, batch)
		for i, r := range batch {
			if err := stream.Send(&tracev1.WriteResponse{Metadata: mds[i], Version: r.GetVersion(), Status: statuses[i].String()}); err != nil {
				return errors.Wrap(err, "send write response")
			}
		}
	}
	if recvErr != nil {
		if st, ok := status.FromError(recvErr); ok && st.Code() == codes.Canceled {
			return nil
		}
		return recvErr
	}
	return nil
}

// writeStream is the state of one Write stream: everything a stream remembers between its
// requests lives here.
type writeStream struct {
	svc *TraceService
	// state is the stream's metadata and tag spec in force (API 0.10), applied in receive order.
	state tagspec.Stream
}

// resolved is the schema of one (group, trace) of a batch, resolved once per batch.
type resolved struct {
	schema *trace.WriteSchema
	ok     bool
}

// writeBatch validates and places a batch and returns the status of each request and the
// metadata its response names (the request's, or the stream's for a request without). For each
// request: the stream's metadata and tag spec in force for it, its schema (resolved once per
// batch), its tags put in schema order by the spec, then one validation that yields the parsed
// span and its shard; the spans then go to their nodes, which only ever see schema order.
func (ws *writeStream) writeBatch(ctx context.Context, batch []*tracev1.WriteRequest) ([]modelv1.Status, []*commonv1.Metadata) {
	s := ws.svc
	statuses := make([]modelv1.Status, len(batch))
	mds := make([]*commonv1.Metadata, len(batch))
	writes := make([]tagspec.Write, len(batch))
	for i, req := range batch {
		writes[i], statuses[i] = ws.state.Next(req)
		mds[i] = req.GetMetadata()
		if mds[i] == nil {
			mds[i] = writes[i].Metadata
		}
	}
	if s.schemas.RefuseWrites() {
		for i := range statuses {
			statuses[i] = modelv1.Status_STATUS_DISK_FULL
		}
		return statuses, mds
	}
	schemas := make(map[string]resolved)
	waited := make(map[string]bool)
	p := newPlacement(s.selector)
	for i, req := range batch {
		if statuses[i] != modelv1.Status_STATUS_SUCCEED {
			continue
		}
		md := writes[i].Metadata
		sch, st := ws.schemaOf(ctx, md, schemas, waited)
		if st != modelv1.Status_STATUS_SUCCEED {
			statuses[i] = st
			continue
		}
		tags, st, reason := sch.Normalize(writes[i].Spec, req.GetTags())
		if st != modelv1.Status_STATUS_SUCCEED {
			s.l.Debug().Str("group", sch.Group()).Str("trace", sch.Name()).Uint64("version", req.GetVersion()).Str("reason", reason).Msg("span refused")
			statuses[i] = st
			continue
		}
		if req.GetMetadata() != md || len(tags) != len(req.GetTags()) || !writes[i].Spec.IsSchemaOrder() {
			req = &tracev1.WriteRequest{Metadata: md, Tags: tags, Span: req.GetSpan(), Version: req.GetVersion()}
		}
		span, st, reason := sch.Parse(req)
		if st != modelv1.Status_STATUS_SUCCEED {
			s.l.Debug().Str("group", sch.Group()).Str("trace", sch.Name()).Uint64("version", req.GetVersion()).Str("reason", reason).Msg("span refused")
			statuses[i] = st
			continue
		}
		if err := p.place(sch.Group(), sch.Name(), sch.ShardNum(), span, i); err != nil {
			s.l.Warn().Err(err).Str("group", sch.Group()).Uint32("shard", span.Shard).Msg("no node for a shard")
			statuses[i] = modelv1.Status_STATUS_INTERNAL_ERROR
		}
	}
	p.dispatch(ctx, s, statuses)
	return statuses, mds
}

// schemaOf resolves the schema a request names, once per batch.
func (ws *writeStream) schemaOf(ctx context.Context, md *commonv1.Metadata, cache map[string]resolved,
	waited map[string]bool,
) (*trace.WriteSchema, modelv1.Status) {
	key := md.GetGroup() + "/" + md.GetName()
	r, ok := cache[key]
	if !ok {
		r.schema, r.ok = ws.svc.schemas.ResolveWrite(ctx, md, waited)
		cache[key] = r
	}
	if !r.ok {
		return nil, modelv1.Status_STATUS_NOT_FOUND
	}
	return r.schema, modelv1.Status_STATUS_SUCCEED
}

// writeNode writes one node's spans and records their statuses.
func (s *TraceService) writeNode(ctx context.Context, nb *nodeBatch, statuses []modelv1.Status) {
	got, err := s.plane.Write(ctx, nb.node, nb.spans)
	if err == nil && len(got) != len(nb.spans) {
		err = errors.Errorf("node %s answered %d statuses for %d spans", nb.node, len(got), len(nb.spans))
	}
	if err != nil {
		s.l.Error().Err(err).Str("node", nb.node).Int("spans", len(nb.spans)).Msg("failed to write spans")
		for _, i := range nb.index {
			statuses[i] = modelv1.Status_STATUS_INTERNAL_ERROR
		}
		return
	}
	for j, i := range nb.index {
		statuses[i] = got[j]
	}
}
