// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"sort"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// queryData is the data side of the query path: it runs a normalized query (time range set,
// offset 0, limit = the caller's offset+limit) on this node's data of every group it names and
// answers the ranked traces with their keys, sorted once across the groups. What a query
// materialises is charged to the node's memory protector as it grows (queryBudget), and its
// answer is bounded by what a liaison accepts from a data node; past either it fails with
// ResourceExhausted.
type queryData struct {
	schemaRepo *schemaRepo
	metrics    *metrics
	// pm is the node's memory protector.
	pm protector.Memory
	// maxAnswer bounds the encoded answer of one query (queue.MaxNodeAnswerBytes).
	maxAnswer int
}

// QueryTraces runs a normalized query on this node's data; its errors carry gRPC codes.
func (s *standalone) QueryTraces(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.InternalQueryResponse, error) {
	if s.query == nil {
		return nil, status.Error(codes.Unavailable, "trace: the service is not running")
	}
	return s.query.run(ctx, req)
}

func (q *queryData) run(ctx context.Context, req *tracev1.QueryRequest) (*tracev1.InternalQueryResponse, error) {
	tr := timestamp.NewInclusiveTimeRange(req.GetTimeRange().GetBegin().AsTime(), req.GetTimeRange().GetEnd().AsTime())
	var all []*tracev1.InternalTrace
	var first *trace
	// One budget for the groups of the request: their answers travel in one message.
	budget := newQueryBudget(ctx, q.pm, q.maxAnswer)
	defer budget.release()
	for _, g := range req.GetGroups() {
		start := time.Now()
		t, ok := q.schemaRepo.loadTrace(&commonv1.Metadata{Group: g, Name: req.GetName()})
		if !ok {
			return nil, toStatus(errors.Wrapf(ErrTraceNotExist, "%s/%s", g, req.GetName()))
		}
		opts := QueryOptions{
			Name:          req.GetName(),
			TimeRange:     tr,
			Criteria:      req.GetCriteria(),
			OrderBy:       req.GetOrderBy(),
			TagProjection: req.GetTagProjection(),
			MaxTraces:     int(req.GetLimit()),
			budget:        budget,
		}
		if first == nil {
			first = t
		}
		res, err := t.Query(ctx, opts)
		q.metrics.queries.WithLabelValues(g).Inc()
		q.metrics.queryLatency.WithLabelValues(g).Observe(time.Since(start).Seconds())
		if err != nil {
			q.metrics.queryErrors.WithLabelValues(g).Inc()
			return nil, toStatus(errors.Wrapf(err, "group %s", g))
		}
		all = append(all, res...)
	}
	// One group's traces are ranked already; traces of several groups are sorted together once,
	// by trace id when the criteria name the ids (the groups agree on the trace-id tag).
	if len(req.GetGroups()) > 1 {
		byIDs := collectTraceIDs(req.GetCriteria(), first.loadIndexSchema().tags) != nil
		SortTraces(all, byIDs, req.GetOrderBy().GetSort() == modelv1.Sort_SORT_ASC)
	}
	if len(all) > int(req.GetLimit()) {
		all = all[:req.GetLimit()]
	}
	return &tracev1.InternalQueryResponse{InternalTraces: all}, nil
}

// SortTraces orders ranked traces: by trace id for queries by id, else by key in the order's
// direction with ties broken by trace id ascending. The front door merges the answers of several
// nodes with it.
func SortTraces(ts []*tracev1.InternalTrace, byIDs, asc bool) {
	sort.SliceStable(ts, func(i, j int) bool {
		if !byIDs && ts[i].GetKey() != ts[j].GetKey() {
			if asc {
				return ts[i].GetKey() < ts[j].GetKey()
			}
			return ts[i].GetKey() > ts[j].GetKey()
		}
		return ts[i].GetTraceId() < ts[j].GetTraceId()
	})
}
