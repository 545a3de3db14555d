// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"io"
	"sync/atomic"

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
	// streamBuffer is how many received requests may wait while a batch commits; their bytes are
	// bounded by the stream's WriteMemory share first.
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
	// writeMem bounds the bytes the Write streams hold.
	writeMem *WriteMemory
	l        *logger.Logger
}

// TraceServiceOption adds an optional dependency to the TraceService.
type TraceServiceOption func(*TraceService)

// WithWriteMemory bounds the Write streams' memory by w (a unit that must be registered to get its
// flags and limits); without it a stream holds at most DefaultWriteBufferPerStream and all streams
// together minWriteBufferTotal.
func WithWriteMemory(w *WriteMemory) TraceServiceOption {
	return func(s *TraceService) { s.writeMem = w }
}

// NewTraceService returns the front door over a node's trace schemas, its data plane and the
// placement of shards on data nodes.
func NewTraceService(schemas trace.Schemas, plane queue.DataPlane, selector node.Selector, opts ...TraceServiceOption) (*TraceService, error) {
	if schemas == nil || plane == nil || selector == nil {
		return nil, errors.New("liaison grpc: the trace schemas, data plane and node selector are required")
	}
	s := &TraceService{schemas: schemas, plane: plane, selector: selector, l: logger.GetLogger("liaison", "trace")}
	for _, o := range opts {
		o(s)
	}
	if s.writeMem == nil {
		s.writeMem = NewWriteMemory(nil, nil)
		s.writeMem.limitPerStream, s.writeMem.limitTotal = int64(DefaultWriteBufferPerStream), minWriteBufferTotal
	}
	return s, nil
}

// Write is the span write stream. Requests are read ahead while the previous batch commits, as
// long as the stream's bytes stay within its WriteMemory share (then the stream stops reading and
// HTTP/2 flow control holds the client); each batch is validated, placed by shard and written;
// every request then gets its own response with the outcome of its batch, as soon as that batch
// is committed. A request that does not decode is answered alone (see receivedWrite). When gRPC
// itself fails a receive (a message above its size limit, a broken connection), it has already
// ended the stream: the requests received and not yet committed are then dropped unstored.
// Write receives through the server codec (serverCodec), which NewServer installs; on a gRPC
// server without it every receive fails.
func (s *TraceService) Write(stream tracev1.TraceService_WriteServer) error {
	ctx := stream.Context()
	ws := &writeStream{svc: s}
	mem := s.writeMem.openStream()
	defer mem.close()
	reqCh := make(chan *receivedWrite, streamBuffer)
	var recvErr error
	// broken is set before reqCh closes when gRPC has ended the stream on a receive error.
	var broken atomic.Bool
	go func() {
		defer close(reqCh)
		for {
			if err := mem.waitRoom(ctx); err != nil {
				return
			}
			rw := &receivedWrite{}
			if err := stream.RecvMsg(rw); err != nil {
				if !errors.Is(err, io.EOF) {
					recvErr = err
					broken.Store(true)
				}
				return
			}
			mem.charge(int64(rw.size))
			select {
			case reqCh <- rw:
			case <-ctx.Done():
				return
			}
		}
	}()
	batch := make([]*receivedWrite, 0, maxStreamBatch)
	resps := make([]*tracev1.WriteResponse, 0, maxStreamBatch)
	for {
		rw, ok := <-reqCh
		if !ok {
			break
		}
		batch = append(batch[:0], rw)
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
		if broken.Load() {
			// gRPC has answered the stream already: nothing more can be acknowledged, so
			// nothing more is stored.
			break
		}
		statuses, mds := ws.writeBatch(ctx, batch)
		var bytes int64
		resps = resps[:0]
		for i, r := range batch {
			bytes += int64(r.size)
			resps = append(resps, &tracev1.WriteResponse{Metadata: mds[i], Version: r.requestVersion(), Status: statuses[i].String()})
			batch[i] = nil
		}
		// The batch is committed: its bytes are free while its answers wait for the client.
		mem.release(bytes)
		for _, resp := range resps {
			if err := stream.Send(resp); err != nil {
				return errors.Wrap(err, "send write response")
			}
		}
	}
	if recvErr != nil {
		if st, ok := status.FromError(recvErr); ok && st.Code() == codes.Canceled {
			return nil
		}
		s.l.Debug().Err(recvErr).Msg("write stream ended by a receive error")
		return recvErr
	}
	return nil
}

// requestVersion is the version a response echoes: the request's, or what could be read of it.
func (rw *receivedWrite) requestVersion() uint64 {
	if rw.req != nil {
		return rw.req.GetVersion()
	}
	return rw.version
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
func (ws *writeStream) writeBatch(ctx context.Context, batch []*receivedWrite) ([]modelv1.Status, []*commonv1.Metadata) {
	s := ws.svc
	statuses := make([]modelv1.Status, len(batch))
	mds := make([]*commonv1.Metadata, len(batch))
	writes := make([]tagspec.Write, len(batch))
	for i, rw := range batch {
		if rw.req == nil {
			// Undecodable: refused alone, with the stream's state untouched.
			s.l.Debug().Err(rw.decodeErr).Uint64("version", rw.version).Int("bytes", rw.size).Msg("write request refused")
			statuses[i], mds[i] = modelv1.Status_STATUS_INVALID_TIMESTAMP, rw.metadata
			continue
		}
		writes[i], statuses[i] = ws.state.Next(rw.req)
		mds[i] = rw.req.GetMetadata()
		if mds[i] == nil {
			mds[i] = writes[i].Metadata
		}
	}
	if s.schemas.RefuseWrites() {
		for i := range statuses {
			if statuses[i] == modelv1.Status_STATUS_SUCCEED {
				statuses[i] = modelv1.Status_STATUS_DISK_FULL
			}
		}
		return statuses, mds
	}
	schemas := make(map[schemaKey]resolved)
	waited := make(map[string]bool)
	p := newPlacement(s.selector)
	for i, rw := range batch {
		if statuses[i] != modelv1.Status_STATUS_SUCCEED {
			continue
		}
		req := rw.req
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

// schemaKey names the (group, trace) of a request: a map key that costs no allocation per span.
type schemaKey struct{ group, name string }

// schemaOf resolves the schema a request names, once per batch.
func (ws *writeStream) schemaOf(ctx context.Context, md *commonv1.Metadata, cache map[schemaKey]resolved,
	waited map[string]bool,
) (*trace.WriteSchema, modelv1.Status) {
	key := schemaKey{group: md.GetGroup(), name: md.GetName()}
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
