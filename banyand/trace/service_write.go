// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"io"
	"sync"

	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/bus"
	"github.com/apache/skywalking-banyandb/pkg/tagspec"
)

const (
	// maxStreamBatch bounds how many requests of one stream are committed together.
	maxStreamBatch = 2000
	// streamBuffer is how many received requests may wait while a batch commits.
	streamBuffer = 4096
)

// Write is the span write stream. Requests are read ahead while the previous batch commits;
// each batch is validated, routed by shard and published; every request then gets its own response
// with the outcome of its batch, as soon as that batch is committed.
func (s *grpcService) Write(stream tracev1.TraceService_WriteServer) error {
	ctx := stream.Context()
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
	// state is the stream's metadata and tag spec in force (API 0.10), applied in receive order.
	var state tagspec.Stream
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
		writes, pre := make([]tagspec.Write, len(batch)), make([]modelv1.Status, len(batch))
		for i, r := range batch {
			writes[i], pre[i] = state.Next(r)
		}
		statuses := s.writeBatch(ctx, batch, writes, pre)
		for i, r := range batch {
			md := r.GetMetadata()
			if md == nil {
				md = writes[i].Metadata
			}
			if err := stream.Send(&tracev1.WriteResponse{Metadata: md, Version: r.GetVersion(), Status: statuses[i].String()}); err != nil {
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

// nodeBatch is the part of a stream batch routed to one node.
type nodeBatch struct {
	node  string
	reqs  []*tracev1.InternalWriteRequest
	index []int
}

// writeBatch validates and routes a batch and returns the status of each request. writes are the
// metadata and tag spec in force for each request, pre the status the stream state gave it.
func (s *grpcService) writeBatch(ctx context.Context, batch []*tracev1.WriteRequest, writes []tagspec.Write, pre []modelv1.Status) []modelv1.Status {
	statuses := make([]modelv1.Status, len(batch))
	if s.door.refuseWrites() {
		for i := range statuses {
			statuses[i] = modelv1.Status_STATUS_DISK_FULL
		}
		return statuses
	}
	repo := s.door.repo()
	byNode := make(map[string]*nodeBatch)
	var nodes []*nodeBatch
	waited := make(map[string]bool)
	for i, req := range batch {
		if pre[i] != modelv1.Status_STATUS_SUCCEED {
			statuses[i] = pre[i]
			continue
		}
		t, ok := repo.traceForWrite(ctx, writes[i].Metadata, s.door.writeSchemaWait(), waited)
		if !ok {
			statuses[i] = modelv1.Status_STATUS_NOT_FOUND
			continue
		}
		is := t.loadIndexSchema()
		// API 0.10: the stream's metadata and tag spec make the request a schema-order one; the
		// data node gets that (a liaison normalises, data nodes never see a spec).
		tags, st, reason := writes[i].Spec.Normalize(is.tags.spec, req.GetTags())
		if st != modelv1.Status_STATUS_SUCCEED {
			s.l.Debug().Str("group", t.group).Str("trace", t.name).Uint64("version", req.GetVersion()).Str("reason", reason).Msg("span refused")
			statuses[i] = st
			continue
		}
		req = &tracev1.WriteRequest{Metadata: writes[i].Metadata, Tags: tags, Span: req.GetSpan(), Version: req.GetVersion()}
		if st = checkRevision(req, t.schema); st != modelv1.Status_STATUS_SUCCEED {
			statuses[i] = st
			continue
		}
		ps, st, reason := parseSpan(&is.tags, req)
		if st != modelv1.Status_STATUS_SUCCEED {
			s.l.Debug().Str("group", t.group).Str("trace", t.name).Uint64("version", req.GetVersion()).Str("reason", reason).Msg("span refused")
			statuses[i] = st
			continue
		}
		g, ok := repo.LoadGroup(t.group)
		if !ok {
			statuses[i] = modelv1.Status_STATUS_NOT_FOUND
			continue
		}
		shardNum := g.GetSchema().GetResourceOpts().GetShardNum()
		shard := shardOf(ps.traceID, shardNum)
		node, err := s.door.selector().Pick(t.group, t.name, shard, shardNum)
		if err != nil {
			s.l.Warn().Err(err).Str("group", t.group).Uint32("shard", shard).Msg("no node for a shard")
			statuses[i] = modelv1.Status_STATUS_INTERNAL_ERROR
			continue
		}
		nb, ok := byNode[node]
		if !ok {
			nb = &nodeBatch{node: node}
			byNode[node] = nb
			nodes = append(nodes, nb)
		}
		nb.reqs = append(nb.reqs, &tracev1.InternalWriteRequest{ShardId: shard, Request: req})
		nb.index = append(nb.index, i)
	}
	var wg sync.WaitGroup
	for _, nb := range nodes {
		wg.Add(1)
		go func(nb *nodeBatch) {
			defer wg.Done()
			s.publishBatch(ctx, nb, statuses)
		}(nb)
	}
	wg.Wait()
	return statuses
}

func (s *grpcService) publishBatch(ctx context.Context, nb *nodeBatch, statuses []modelv1.Status) {
	fail := func(st modelv1.Status) {
		for _, i := range nb.index {
			statuses[i] = st
		}
	}
	reply, err := s.door.publisher().Publish(ctx, bus.TopicTraceWrite, nb.node, nb.reqs)
	if err != nil {
		s.l.Error().Err(err).Str("node", nb.node).Int("spans", len(nb.reqs)).Msg("failed to publish spans")
		fail(modelv1.Status_STATUS_INTERNAL_ERROR)
		return
	}
	got, ok := reply.([]modelv1.Status)
	if !ok || len(got) != len(nb.reqs) {
		s.l.Error().Str("node", nb.node).Msgf("unexpected write reply %T", reply)
		fail(modelv1.Status_STATUS_INTERNAL_ERROR)
		return
	}
	for j, i := range nb.index {
		statuses[i] = got[j]
	}
}
