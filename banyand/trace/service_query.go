// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/pkg/bus"
	"github.com/apache/skywalking-banyandb/pkg/query/model"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// defaultQueryLimit is the number of traces a query returns when it names no limit.
const defaultQueryLimit = 20

// Query validates a query against the schemas of every named group, sends it to every node that
// holds data, merges their ranked partial results and applies offset and limit.
func (s *grpcService) Query(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.QueryResponse, error) {
	start := time.Now()
	internal, byIDs, idsOnly, err := s.planQuery(req)
	if err != nil {
		return nil, err
	}
	nodes := s.door.selector().Nodes()
	replies := s.fanOut(ctx, nodes, func(string) *tracev1.QueryRequest { return internal })
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
			return nil, toStatus(r.err)
		}
		answered = append(answered, r.node)
		for _, t := range r.resp.GetInternalTraces() {
			if from[t.GetTraceId()] == nil {
				from[t.GetTraceId()] = make(map[string]bool)
			}
			from[t.GetTraceId()][r.node] = true
			if m, ok := merged[t.GetTraceId()]; ok {
				m.Spans = append(m.Spans, t.GetSpans()...)
				if better(t.GetKey(), m.GetKey(), req.GetOrderBy().GetSort() == modelv1.Sort_SORT_ASC) {
					m.Key = t.GetKey()
				}
				continue
			}
			merged[t.GetTraceId()] = t
			order = append(order, t)
		}
	}
	sortTraces(order, byIDs, req.GetOrderBy().GetSort() == modelv1.Sort_SORT_ASC)
	offset := int(req.GetOffset())
	limit := queryLimit(req)
	var page []*tracev1.InternalTrace
	for i := offset; i < len(order) && i < offset+limit; i++ {
		page = append(page, order[i])
	}
	if !idsOnly && len(answered) > 1 {
		m, err := s.completeTraces(ctx, internal, page, from, answered)
		if err != nil {
			return nil, err
		}
		missing += m
	}
	if m := s.door.queryMetrics(); m != nil {
		m.missingNodes.WithLabelValues().Set(float64(missing))
	}
	resp := &tracev1.QueryResponse{Traces: []*tracev1.Trace{}}
	for _, t := range page {
		resp.Traces = append(resp.Traces, &tracev1.Trace{TraceId: t.GetTraceId(), Spans: t.GetSpans()})
	}
	if req.GetTrace() {
		resp.TraceQueryResult = executionTrace(req, start, len(nodes), len(resp.Traces))
	}
	return resp, nil
}

// nodeReply is the answer of one node to a query.
type nodeReply struct {
	resp *tracev1.InternalQueryResponse
	err  error
	node string
}

// fanOut sends the query that reqOf builds for each node (nil: none) to the nodes in parallel.
func (s *grpcService) fanOut(ctx context.Context, nodes []string, reqOf func(node string) *tracev1.QueryRequest) []nodeReply {
	replies := make([]nodeReply, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		req := reqOf(n)
		if req == nil {
			continue
		}
		wg.Add(1)
		go func(i int, n string) {
			defer wg.Done()
			r, err := s.door.publisher().Publish(ctx, bus.TopicTraceQuery, n, req)
			replies[i] = nodeReply{node: n, err: err}
			if err == nil {
				resp, ok := r.(*tracev1.InternalQueryResponse)
				if !ok {
					replies[i].err = errors.Errorf("unexpected query reply %T", r)
					return
				}
				replies[i].resp = resp
			}
		}(i, n)
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
// ids alone (idsOnly) needs no such step, since every node already looked for every id. It
// returns how many nodes did not answer.
func (s *grpcService) completeTraces(ctx context.Context, internal *tracev1.QueryRequest, page []*tracev1.InternalTrace,
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
		req := proto.Clone(internal).(*tracev1.QueryRequest)
		req.Criteria = &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
			Name:  s.traceIDTag(internal),
			Op:    modelv1.Condition_BINARY_OP_IN,
			Value: &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: ids}}},
		}}}
		req.OrderBy = nil
		req.Limit = uint32(len(ids))
		// The page's traces matched already: any span of theirs belongs to the answer, in or out of the range.
		all, _ := queryTimeRange(nil)
		req.TimeRange = &modelv1.TimeRange{Begin: timestamppb.New(all.Start), End: timestamppb.New(all.End)}
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
			return 0, toStatus(r.err)
		}
		for _, t := range r.resp.GetInternalTraces() {
			if m, ok := byID[t.GetTraceId()]; ok && !from[t.GetTraceId()][r.node] {
				m.Spans = append(m.Spans, t.GetSpans()...)
			}
		}
	}
	return missing, nil
}

// traceIDTag is the name of the trace-id tag of the query's trace (the same in all its groups,
// which planQuery checked).
func (s *grpcService) traceIDTag(req *tracev1.QueryRequest) string {
	for _, g := range req.GetGroups() {
		if t, ok := s.door.repo().loadTrace(&commonv1.Metadata{Group: g, Name: req.GetName()}); ok {
			return t.schema.GetTraceIdTagName()
		}
	}
	return ""
}

// onlyTraceIDs reports whether criteria select traces by their ids and nothing else: conditions
// trace-id EQ/IN joined by AND or OR.
func onlyTraceIDs(c *modelv1.Criteria, traceIDTag string) bool {
	switch exp := c.GetExp().(type) {
	case *modelv1.Criteria_Condition:
		op := exp.Condition.GetOp()
		return exp.Condition.GetName() == traceIDTag && (op == modelv1.Condition_BINARY_OP_EQ || op == modelv1.Condition_BINARY_OP_IN)
	case *modelv1.Criteria_Le:
		l, r := exp.Le.GetLeft(), exp.Le.GetRight()
		return (l != nil || r != nil) && (l == nil || onlyTraceIDs(l, traceIDTag)) && (r == nil || onlyTraceIDs(r, traceIDTag))
	}
	return false
}

func better(candidate, current int64, asc bool) bool {
	if asc {
		return candidate < current
	}
	return candidate > current
}

func queryLimit(req *tracev1.QueryRequest) int {
	if req.GetLimit() == 0 {
		return defaultQueryLimit
	}
	return int(req.GetLimit())
}

// planQuery checks a query against the schemas of its groups and returns the normalized request
// sent to the nodes, whether it is a query by trace ids, and whether it selects by trace ids alone.
func (s *grpcService) planQuery(req *tracev1.QueryRequest) (*tracev1.QueryRequest, bool, bool, error) {
	if len(req.GetGroups()) == 0 {
		return nil, false, false, status.Error(codes.InvalidArgument, "groups: at least one group is required")
	}
	if req.GetName() == "" {
		return nil, false, false, status.Error(codes.InvalidArgument, "name: the trace name is required")
	}
	tr, err := queryTimeRange(req.GetTimeRange())
	if err != nil {
		return nil, false, false, status.Error(codes.InvalidArgument, err.Error())
	}
	repo := s.door.repo()
	var ref *trace
	byIDs := false
	projected := make(map[string]bool, len(req.GetTagProjection()))
	for _, g := range req.GetGroups() {
		t, ok := repo.loadTrace(&commonv1.Metadata{Group: g, Name: req.GetName()})
		if !ok {
			return nil, false, false, status.Errorf(codes.NotFound, "trace %s/%s not found", g, req.GetName())
		}
		if ref == nil {
			ref = t
		} else if t.schema.GetTraceIdTagName() != ref.schema.GetTraceIdTagName() ||
			t.schema.GetSpanIdTagName() != ref.schema.GetSpanIdTagName() ||
			t.schema.GetTimestampTagName() != ref.schema.GetTimestampTagName() {
			return nil, false, false, status.Errorf(codes.InvalidArgument,
				"groups %s and %s name the trace id, span id or timestamp tags of %s differently", ref.group, g, req.GetName())
		}
		is := t.loadIndexSchema()
		opts := model.TraceQueryOptions{Name: req.GetName(), TimeRange: tr, Criteria: req.GetCriteria(), OrderBy: req.GetOrderBy()}
		if _, err := newQueryPlan(is, opts); err != nil {
			return nil, false, false, toStatus(errors.Wrapf(err, "group %s", g))
		}
		byIDs = collectTraceIDs(req.GetCriteria(), is.tags) != nil
		for _, name := range req.GetTagProjection() {
			if _, ok := is.tags.positions[name]; ok {
				projected[name] = true
			}
		}
	}
	for _, name := range req.GetTagProjection() {
		if !projected[name] {
			return nil, false, false, status.Errorf(codes.InvalidArgument, "tag_projection: tag name '%s' not found in trace schema", name)
		}
	}
	internal := proto.Clone(req).(*tracev1.QueryRequest)
	internal.Offset = 0
	// Each node ranks offset+limit traces; the sum saturates instead of wrapping around (offset 1
	// with limit MaxUint32 would otherwise ask the nodes for none).
	internal.Limit = uint32(min(uint64(req.GetOffset())+uint64(queryLimit(req)), math.MaxUint32))
	internal.TimeRange = &modelv1.TimeRange{Begin: timestamppb.New(tr.Start), End: timestamppb.New(tr.End)}
	internal.Trace = false
	return internal, byIDs, onlyTraceIDs(req.GetCriteria(), ref.schema.GetTraceIdTagName()), nil
}

// queryTimeRange checks the requested range; an absent range means all time.
func queryTimeRange(r *modelv1.TimeRange) (timestamp.TimeRange, error) {
	if r == nil {
		return timestamp.NewInclusiveTimeRange(time.Unix(0, 0).UTC(), timestamp.MaxMilli), nil
	}
	if r.GetBegin() == nil || r.GetEnd() == nil {
		return timestamp.TimeRange{}, errors.New("time_range: begin and end are both required")
	}
	if err := r.GetBegin().CheckValid(); err != nil {
		return timestamp.TimeRange{}, errors.Wrap(err, "time_range.begin")
	}
	if err := r.GetEnd().CheckValid(); err != nil {
		return timestamp.TimeRange{}, errors.Wrap(err, "time_range.end")
	}
	begin, end := r.GetBegin().AsTime(), r.GetEnd().AsTime()
	if err := timestamp.Check(begin); err != nil {
		return timestamp.TimeRange{}, errors.Wrap(err, "time_range.begin")
	}
	if err := timestamp.Check(end); err != nil {
		return timestamp.TimeRange{}, errors.Wrap(err, "time_range.end")
	}
	if end.Before(begin) {
		return timestamp.TimeRange{}, errors.New("time_range: end is before begin")
	}
	return timestamp.NewInclusiveTimeRange(begin, end), nil
}

// toStatus maps the errors of the query path to gRPC codes.
func toStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, ErrInvalidQuery):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrTraceNotExist):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, protector.ErrMemoryExceeded):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
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
				{Key: "nodes", Value: itoa(nodes)},
				{Key: "traces", Value: itoa(traces)},
			},
		}},
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
