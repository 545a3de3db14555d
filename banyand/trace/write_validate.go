// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"time"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// parsedSpan is a write request checked against its trace schema.
type parsedSpan struct {
	traceID string
	spanID  string
	ts      time.Time
}

// parseSpan checks a span's tag values against the schema: no more values than tags, each value of
// its tag's type (or null), a non-empty string trace id, a string span id and a millisecond
// timestamp in the storable range. Any failure is STATUS_INVALID_TIMESTAMP, the status upstream
// gives malformed spans, with a reason for the log.
func parseSpan(tl *tagLocator, req *tracev1.WriteRequest) (parsedSpan, modelv1.Status, string) {
	var ps parsedSpan
	tags := req.GetTags()
	if len(tags) > len(tl.types) {
		return ps, modelv1.Status_STATUS_INVALID_TIMESTAMP, "more tag values than the schema has tags"
	}
	for i, v := range tags {
		if isNull(v) {
			continue
		}
		if !valueMatchesType(v, tl.types[i]) {
			return ps, modelv1.Status_STATUS_INVALID_TIMESTAMP, "tag " + tl.names[i] + " has a value of the wrong type"
		}
	}
	if tl.traceIDPos < 0 || tl.traceIDPos >= len(tags) || tags[tl.traceIDPos].GetStr() == nil || tags[tl.traceIDPos].GetStr().GetValue() == "" {
		return ps, modelv1.Status_STATUS_INVALID_TIMESTAMP, "the trace id is missing"
	}
	ps.traceID = tags[tl.traceIDPos].GetStr().GetValue()
	if tl.spanIDPos < 0 || tl.spanIDPos >= len(tags) || tags[tl.spanIDPos].GetStr() == nil {
		return ps, modelv1.Status_STATUS_INVALID_TIMESTAMP, "the span id is missing"
	}
	ps.spanID = tags[tl.spanIDPos].GetStr().GetValue()
	if tl.tsPos < 0 || tl.tsPos >= len(tags) || tags[tl.tsPos].GetTimestamp() == nil {
		return ps, modelv1.Status_STATUS_INVALID_TIMESTAMP, "the timestamp is missing"
	}
	pbts := tags[tl.tsPos].GetTimestamp()
	if err := pbts.CheckValid(); err != nil {
		return ps, modelv1.Status_STATUS_INVALID_TIMESTAMP, "the timestamp is invalid"
	}
	ps.ts = pbts.AsTime()
	if err := timestamp.Check(ps.ts); err != nil {
		return ps, modelv1.Status_STATUS_INVALID_TIMESTAMP, err.Error()
	}
	return ps, modelv1.Status_STATUS_SUCCEED, ""
}

// parseStoredSpan is parseSpan plus the bound of the table's keys: the stored trace id (the
// schema's name, a separator and the trace id) must fit a table key, so that one oversized span
// fails alone instead of failing its whole batch in the table.
func parseStoredSpan(name string, tl *tagLocator, req *tracev1.WriteRequest) (parsedSpan, modelv1.Status, string) {
	ps, st, reason := parseSpan(tl, req)
	if st == modelv1.Status_STATUS_SUCCEED && len(name)+1+len(ps.traceID) > tstable.MaxTraceIDLen {
		return parsedSpan{}, modelv1.Status_STATUS_INVALID_TIMESTAMP, "the trace id is too long"
	}
	return ps, st, reason
}

// checkTimeWindow refuses a span stamped more than maxFutureSkew after now: such a span would
// create a segment (files and open descriptors) for a time that has not come yet, and a client
// sending many of them could exhaust the node. The refusal is STATUS_INVALID_TIMESTAMP, like
// every other unusable timestamp. A maxFutureSkew <= 0 disables the check.
func checkTimeWindow(ts, now time.Time, maxFutureSkew time.Duration) (modelv1.Status, string) {
	if maxFutureSkew > 0 && ts.After(now.Add(maxFutureSkew)) {
		return modelv1.Status_STATUS_INVALID_TIMESTAMP, "the timestamp " + ts.UTC().Format(time.RFC3339Nano) +
			" is more than --trace-max-future-skew=" + maxFutureSkew.String() + " ahead of the server's clock"
	}
	return modelv1.Status_STATUS_SUCCEED, ""
}

// checkRevision compares the schema revision a client wrote against with the loaded one.
func checkRevision(req *tracev1.WriteRequest, s *databasev1.Trace) modelv1.Status {
	want := req.GetMetadata().GetModRevision()
	if want <= 0 {
		return modelv1.Status_STATUS_SUCCEED
	}
	have := s.GetMetadata().GetModRevision()
	switch {
	case want < have:
		return modelv1.Status_STATUS_EXPIRED_SCHEMA
	case want > have:
		return modelv1.Status_STATUS_SCHEMA_NOT_APPLIED
	}
	return modelv1.Status_STATUS_SUCCEED
}
