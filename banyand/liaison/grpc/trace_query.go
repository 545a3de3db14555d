// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/banyand/trace"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// Query validates a query once against the schemas of every named group (validateTraceQuery, then
// the planner's checks of CheckQuery), sends it to every node
// that holds data, merges their ranked partial results and applies offset and limit. BydbQL calls
// it as a Go method, so that both take the same path.
func (s *TraceService) Query(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.QueryResponse, error) {
	start := time.Now()
	if err := validateTraceQuery(req, s.schemas.TraceSchema); err != nil {
		return nil, err
	}
	q, err := s.schemas.CheckQuery(req)
	if err != nil {
		return nil, err
	}
	// What the query materialises on this node (a local data side's spans, the answers of remote
	// nodes that the data plane decodes) is charged to one account, released when the query ends.
	bounds := s.schemas.QueryBounds()
	acct := protector.NewAccount(bounds.Memory)
	defer acct.Release()
	ctx = protector.WithAccount(ctx, acct)
	nodes := s.selector.Nodes()
	replies := s.fanOut(ctx, nodes, func(string) *tracev1.QueryRequest { return q.Internal })
	asc := req.GetOrderBy().GetSort() == modelv1.Sort_SORT_ASC
	merged := make(map[string]*tracev1.InternalTrace)
	// from records which nodes answered each trace, for completeTraces.
	from := make(map[string]map[string]bool)
	var order []*tracev1.InternalTrace
	var answered []string
	missing := 0
	for _, r := range replies {
		if r.err != nil {
			if code := status.Code(r.err); code == codes.Unavailable || code == codes.DeadlineExceeded {
				// A node that is registered but unreachable: answer from the live ones.
				missing++
				s.l.Warn().Err(r.err).Str("node", r.node).Msg("a data node did not answer a query; the result may miss its data")
				continue
			}
			return nil, asStatus(r.err)
		}
		answered = append(answered, r.node)
		for _, t := range r.resp.GetInternalTraces() {
			if from[t.GetTraceId()] == nil {
				from[t.GetTraceId()] = make(map[string]bool)
			}
			from[t.GetTraceId()][r.node] = true
			if m, ok := merged[t.GetTraceId()]; ok {
				m.Spans = append(m.Spans, t.GetSpans()...)
				if better(t.GetKey(), m.GetKey(), asc) {
					m.Key = t.GetKey()
				}
				continue
			}
			merged[t.GetTraceId()] = t
			order = append(order, t)
		}
	}
	// One node's answer is in rank order already; only a merge of several needs sorting.
	if len(answered) > 1 {
		trace.SortTraces(order, q.ByIDs, asc)
	}
	offset := int(req.GetOffset())
	limit := trace.QueryLimit(req)
	var page []*tracev1.InternalTrace
	for i := offset; i < len(order) && i < offset+limit; i++ {
		page = append(page, order[i])
	}
	if !q.IDsOnly && len(answered) > 1 {
		m, err := s.completeTraces(ctx, q, page, from, answered)
		if err != nil {
			return nil, err
		}
		missing += m
	}
	s.schemas.ObserveMissingNodes(missing)
	resp := &tracev1.QueryResponse{Traces: make([]*tracev1.Trace, 0, len(page))}
	size := 0
	for _, t := range page {
		tr := &tracev1.Trace{TraceId: t.GetTraceId(), Spans: t.GetSpans()}
		size += proto.Size(tr)
		resp.Traces = append(resp.Traces, tr)
	}
	// Each node bounds its own answer; the merged page of several is bounded here.
	if err := bounds.CheckResponseSize(size); err != nil {
		return nil, err
	}
	if req.GetTrace() {
		resp.TraceQueryResult = executionTrace(req, start, len(nodes), len(resp.Traces))
	}
	return resp, nil
}

// QuerySchema returns the loaded schema of a trace and the index rules bound to it, which BydbQL
// binds statements against.
func (s *TraceService) QuerySchema(group, name string) (*databasev1.Trace, []*databasev1.IndexRule, bool) {
	return s.schemas.QuerySchema(group, name)
}

// nodeReply is the answer of one node to a query.
type nodeReply struct {
	resp *tracev1.InternalQueryResponse
	err  error
	node string
}

// fanOut sends the query that reqOf builds for each node (nil: none) through the data plane. One
// node is called in the caller's goroutine; several, in parallel.
func (s *TraceService) fanOut(ctx context.Context, nodes []string, reqOf func(node string) *tracev1.QueryRequest) []nodeReply {
	replies := make([]nodeReply, len(nodes))
	call := func(i int, n string, req *tracev1.QueryRequest) {
		resp, err := s.plane.Query(ctx, n, req)
		replies[i] = nodeReply{node: n, resp: resp, err: err}
	}
	if len(nodes) == 1 {
		if req := reqOf(nodes[0]); req != nil {
			call(0, nodes[0], req)
		}
		return replies
	}
	var wg sync.WaitGroup
	for i, n := range nodes {
		req := reqOf(n)
		if req == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			call(i, n, req)
		}()
	}
	wg.Wait()
	return replies
}

// completeTraces adds to the traces of a page the spans that nodes hold but did not answer.
//
// A node answers the traces of its own best matches only, and a trace whose spans a shard move
// (a node down, then back) spread over two nodes is answered by the node where it ranks or
// matches, with that node's spans alone. A trace is returned whole (API.md §7.2, steps 5-6), so
// the nodes that answered without a trace of the page are asked for its spans by id: a query by
// ids alone (IDsOnly) needs no such step, since every node already looked for every id. It
// returns how many nodes did not answer.
func (s *TraceService) completeTraces(ctx context.Context, q *trace.CheckedQuery, page []*tracev1.InternalTrace,
	from map[string]map[string]bool, nodes []string,
) (int, error) {
	byID := make(map[string]*tracev1.InternalTrace, len(page))
	for _, t := range page {
		byID[t.GetTraceId()] = t
	}
	replies := s.fanOut(ctx, nodes, func(n string) *tracev1.QueryRequest {
		var ids []string
		for _, t := range page {
			if !from[t.GetTraceId()][n] {
				ids = append(ids, t.GetTraceId())
			}
		}
		if len(ids) == 0 {
			return nil
		}
		req := proto.Clone(q.Internal).(*tracev1.QueryRequest)
		req.Criteria = &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
			Name:  q.TraceIDTag,
			Op:    modelv1.Condition_BINARY_OP_IN,
			Value: &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: ids}}},
		}}}
		req.OrderBy = nil
		req.Limit = uint32(len(ids))
		// The page's traces matched already: any span of theirs belongs to the answer, in or out of the range.
		req.TimeRange = &modelv1.TimeRange{Begin: timestamppb.New(time.Unix(0, 0)), End: timestamppb.New(timestamp.MaxMilli)}
		return req
	})
	missing := 0
	for _, r := range replies {
		if r.node == "" {
			continue
		}
		if r.err != nil {
			if code := status.Code(r.err); code == codes.Unavailable || code == codes.DeadlineExceeded {
				missing++
				s.l.Warn().Err(r.err).Str("node", r.node).Msg("a data node did not answer for the spans of a page; traces may miss its spans")
				continue
			}
			return 0, asStatus(r.err)
		}
		for _, t := range r.resp.GetInternalTraces() {
			if m, ok := byID[t.GetTraceId()]; ok && !from[t.GetTraceId()][r.node] {
				m.Spans = append(m.Spans, t.GetSpans()...)
			}
		}
	}
	return missing, nil
}

func better(candidate, current int64, asc bool) bool {
	if asc {
		return candidate < current
	}
	return candidate > current
}

// asStatus keeps the gRPC code of a data node's error; any other error is internal.
func asStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Internal, err.Error())
}

// executionTrace describes how the query ran, for requests with trace=true.
func executionTrace(req *tracev1.QueryRequest, start time.Time, nodes, traces int) *commonv1.Trace {
	end := time.Now()
	return &commonv1.Trace{
		TraceId: "query-" + req.GetName(),
		Spans: []*commonv1.Span{{
			StartTime: timestamppb.New(start),
			EndTime:   timestamppb.New(end),
			Duration:  end.Sub(start).Nanoseconds(),
			Message:   "trace query",
			Tags: []*commonv1.Tag{
				{Key: "groups", Value: strings.Join(req.GetGroups(), ",")},
				{Key: "nodes", Value: strconv.Itoa(nodes)},
				{Key: "traces", Value: strconv.Itoa(traces)},
			},
		}},
	}
}
