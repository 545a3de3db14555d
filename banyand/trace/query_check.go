// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"math"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/internal/storage"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// DefaultQueryLimit is the number of traces a query returns when it names no limit.
const DefaultQueryLimit = 20

// CheckedQuery is a query the front door validated.
type CheckedQuery struct {
	// Internal is the request sent to the data nodes: time range set, offset 0, limit =
	// offset+limit, no execution trace.
	Internal *tracev1.QueryRequest
	// TraceIDTag is the name of the trace-id tag of the query's trace (the same in every group).
	TraceIDTag string
	// ByIDs reports whether the query selects traces by id (results ordered by trace id).
	ByIDs bool
	// IDsOnly reports whether it selects by trace ids and nothing else.
	IDsOnly bool
}

// checkQuery validates what the front door's validateTraceQuery (banyand/liaison/grpc) leaves to
// the planner: the time range, the tag projection, the order and the id/timestamp tag names
// agreeing across groups. With compile, it also compiles the query's plan for each group, so that
// a liaison, which runs no plan itself, refuses bad criteria and orders before it asks any data
// node; a node with data compiles the plan once, when it runs it.
func (sr *schemaRepo) checkQuery(req *tracev1.QueryRequest, compile bool) (*CheckedQuery, error) {
	if len(req.GetGroups()) == 0 {
		// The front door refused it already; kept so that no caller reaches the loop without a group.
		return nil, status.Error(codes.InvalidArgument, "groups: at least one group is required")
	}
	tr, err := queryTimeRange(req.GetTimeRange())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	var ref *trace
	projected := make(map[string]bool, len(req.GetTagProjection()))
	for _, g := range req.GetGroups() {
		t, ok := sr.loadTrace(&commonv1.Metadata{Group: g, Name: req.GetName()})
		if !ok {
			return nil, status.Errorf(codes.NotFound, "trace %s/%s not found", g, req.GetName())
		}
		if ref == nil {
			ref = t
		} else if t.schema.GetTraceIdTagName() != ref.schema.GetTraceIdTagName() ||
			t.schema.GetSpanIdTagName() != ref.schema.GetSpanIdTagName() ||
			t.schema.GetTimestampTagName() != ref.schema.GetTimestampTagName() {
			return nil, status.Errorf(codes.InvalidArgument,
				"groups %s and %s name the trace id, span id or timestamp tags of %s differently", ref.group, g, req.GetName())
		}
		is := t.loadIndexSchema()
		if compile {
			opts := QueryOptions{Name: req.GetName(), TimeRange: tr, Criteria: req.GetCriteria(), OrderBy: req.GetOrderBy()}
			if _, err := newQueryPlan(is, opts); err != nil {
				return nil, toStatus(errors.Wrapf(err, "group %s", g))
			}
		}
		for _, name := range req.GetTagProjection() {
			if _, ok := is.tags.positions[name]; ok {
				projected[name] = true
			}
		}
	}
	for _, name := range req.GetTagProjection() {
		if !projected[name] {
			return nil, status.Errorf(codes.InvalidArgument, "tag_projection: tag name '%s' not found in trace schema", name)
		}
	}
	internal := proto.Clone(req).(*tracev1.QueryRequest)
	internal.Offset = 0
	// Each node ranks offset+limit traces; the sum saturates instead of wrapping around (offset 1
	// with limit MaxUint32 would otherwise ask the nodes for none).
	internal.Limit = uint32(min(uint64(req.GetOffset())+uint64(QueryLimit(req)), math.MaxUint32))
	internal.TimeRange = &modelv1.TimeRange{Begin: timestamppb.New(tr.Start), End: timestamppb.New(tr.End)}
	internal.Trace = false
	traceIDTag := ref.schema.GetTraceIdTagName()
	// Every group names the trace-id tag alike (checked above), so one group tells for all.
	byIDs := collectTraceIDs(req.GetCriteria(), ref.loadIndexSchema().tags) != nil
	return &CheckedQuery{Internal: internal, TraceIDTag: traceIDTag, ByIDs: byIDs, IDsOnly: onlyTraceIDs(req.GetCriteria(), traceIDTag)}, nil
}

// QueryLimit is the number of traces a query asks for: its limit, or DefaultQueryLimit.
func QueryLimit(req *tracev1.QueryRequest) int {
	if req.GetLimit() == 0 {
		return DefaultQueryLimit
	}
	return int(req.GetLimit())
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
	case errors.Is(err, protector.ErrMemoryExceeded), errors.Is(err, ErrQueryTooLarge),
		errors.Is(err, storage.ErrTooManyOpenFiles):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}
