// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package model holds the types of the query layer shared by the trace service and its callers.
package model

import (
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// TraceQueryOptions is one trace query against one trace schema of one group.
type TraceQueryOptions struct {
	// TimeRange selects segments and spans by the span timestamp (inclusive bounds).
	TimeRange timestamp.TimeRange
	// Criteria filters spans; a trace matches when one of its spans matches.
	Criteria *modelv1.Criteria
	// OrderBy names the index rule that ranks traces; nil when the query is by trace ids.
	OrderBy *modelv1.QueryOrder
	// Name is the trace schema's name.
	Name string
	// TagProjection lists the tags returned per span, in request order.
	TagProjection []string
	// MaxTraces is how many ranked traces to return (offset + limit: the caller applies the offset
	// after merging the results of every group and node).
	MaxTraces int
}

// TraceSpan is one span of a query result.
type TraceSpan struct {
	// SpanID is the value of the span-id tag.
	SpanID string
	// Payload is the stored span bytes.
	Payload []byte
	// Tags are the projected tags in response order.
	Tags []*modelv1.Tag
}

// TraceResult is one ranked trace with all its spans.
type TraceResult struct {
	// TraceID is the trace's id.
	TraceID string
	// Spans are the trace's spans.
	Spans []*TraceSpan
	// Key is the sort key that ranked the trace (0 for queries by trace id).
	Key int64
}

// TraceQueryResult is the ranked traces of one query.
type TraceQueryResult struct {
	// Traces are in rank order.
	Traces []*TraceResult
}
