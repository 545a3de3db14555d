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

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/query/model"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// queryCallback is the data side of the query path: it runs a query on this node's data of every
// group it names and answers the ranked traces with their keys. Its payload is a normalized
// *tracev1.QueryRequest (time range set, offset 0, limit = the caller's offset+limit) and its
// reply a *tracev1.InternalQueryResponse.
type queryCallback struct {
	schemaRepo *schemaRepo
	metrics    *metrics
	l          *logger.Logger
}

func newQueryCallback(repo *schemaRepo, m *metrics, l *logger.Logger) *queryCallback {
	return &queryCallback{schemaRepo: repo, metrics: m, l: l}
}

// Handle runs the query.
func (q *queryCallback) Handle(ctx context.Context, payload any) (any, error) {
	req, ok := payload.(*tracev1.QueryRequest)
	if !ok {
		return nil, errors.Errorf("trace query: unexpected payload %T", payload)
	}
	tr := timestamp.NewInclusiveTimeRange(req.GetTimeRange().GetBegin().AsTime(), req.GetTimeRange().GetEnd().AsTime())
	byIDs := false
	var all []*tracev1.InternalTrace
	for _, g := range req.GetGroups() {
		start := time.Now()
		t, ok := q.schemaRepo.loadTrace(&commonv1.Metadata{Group: g, Name: req.GetName()})
		if !ok {
			return nil, toStatus(errors.Wrapf(ErrTraceNotExist, "%s/%s", g, req.GetName()))
		}
		opts := model.TraceQueryOptions{
			Name:          req.GetName(),
			TimeRange:     tr,
			Criteria:      req.GetCriteria(),
			OrderBy:       req.GetOrderBy(),
			TagProjection: req.GetTagProjection(),
			MaxTraces:     int(req.GetLimit()),
		}
		byIDs = collectTraceIDs(req.GetCriteria(), t.loadIndexSchema().tags) != nil
		res, err := t.Query(ctx, opts)
		q.metrics.queries.WithLabelValues(g).Inc()
		q.metrics.queryLatency.WithLabelValues(g).Observe(time.Since(start).Seconds())
		if err != nil {
			q.metrics.queryErrors.WithLabelValues(g).Inc()
			return nil, toStatus(err)
		}
		for _, r := range res.Traces {
			all = append(all, toInternalTrace(r))
		}
	}
	sortTraces(all, byIDs, req.GetOrderBy().GetSort() == modelv1.Sort_SORT_ASC)
	if len(all) > int(req.GetLimit()) {
		all = all[:req.GetLimit()]
	}
	return &tracev1.InternalQueryResponse{InternalTraces: all}, nil
}

func toInternalTrace(r *model.TraceResult) *tracev1.InternalTrace {
	it := &tracev1.InternalTrace{TraceId: r.TraceID, Key: r.Key, Spans: make([]*tracev1.Span, 0, len(r.Spans))}
	for _, s := range r.Spans {
		it.Spans = append(it.Spans, &tracev1.Span{Tags: s.Tags, Span: s.Payload, SpanId: s.SpanID})
	}
	return it
}

// sortTraces orders ranked traces: by trace id for queries by id, else by key in the order's
// direction with ties broken by trace id ascending.
func sortTraces(ts []*tracev1.InternalTrace, byIDs, asc bool) {
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
