// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"context"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// The schemas of the fixtures (pkg/test/trace/testdata): sw in two groups, where state changes
// type, and zipkin with an array tag.
func tagSpecs(pairs ...any) []*databasev1.TraceTagSpec {
	var out []*databasev1.TraceTagSpec
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, &databasev1.TraceTagSpec{Name: pairs[i].(string), Type: pairs[i+1].(databasev1.TagType)})
	}
	return out
}

func traceOf(group, name string, tags []*databasev1.TraceTagSpec) *databasev1.Trace {
	return &databasev1.Trace{
		Metadata: &commonv1.Metadata{Group: group, Name: name}, Tags: tags,
		TraceIdTagName: "trace_id", SpanIdTagName: "span_id", TimestampTagName: "timestamp",
	}
}

func rule(group, name string, tags ...string) *databasev1.IndexRule {
	return &databasev1.IndexRule{Metadata: &commonv1.Metadata{Group: group, Name: name}, Tags: tags}
}

type fixture struct {
	trace *databasev1.Trace
	rules []*databasev1.IndexRule
}

var fixtures = map[string]fixture{
	"test-trace-group/sw": {
		trace: traceOf("test-trace-group", "sw", tagSpecs("trace_id", tagString, "state", tagInt, "service_id", tagString,
			"service_instance_id", tagString, "endpoint_id", tagString, "duration", tagInt, "span_id", tagString, "timestamp", tagTime)),
		rules: []*databasev1.IndexRule{
			rule("test-trace-group", "duration", "service_id", "service_instance_id", "state", "duration"),
			rule("test-trace-group", "timestamp", "service_id", "service_instance_id", "state", "timestamp"),
		},
	},
	"test-trace-updated/sw": {
		trace: traceOf("test-trace-updated", "sw", tagSpecs("trace_id", tagString, "state", tagString, "service_id", tagString,
			"service_instance_id", tagString, "endpoint_id", tagString, "duration", tagInt, "span_id", tagString,
			"error_message", tagString, "timestamp", tagTime)),
		rules: []*databasev1.IndexRule{
			rule("test-trace-updated", "duration", "service_id", "service_instance_id", "state", "duration"),
			rule("test-trace-updated", "timestamp", "service_id", "service_instance_id", "state", "timestamp"),
		},
	},
	"zipkinTrace/zipkin": {
		trace: traceOf("zipkinTrace", "zipkin", tagSpecs("trace_id", tagString, "span_id", tagString, "parent_id", tagString,
			"operation_name", tagString, "kind", tagString, "local_endpoint_service_name", tagString, "query", tagStrs,
			"remote_endpoint_port", tagInt, "debug", tagInt, "timestamp", tagTime)),
		rules: []*databasev1.IndexRule{
			rule("zipkinTrace", "zipkin-timestamp", "local_endpoint_service_name", "operation_name", "kind", "timestamp"),
		},
	},
}

func fixtureLookup(_ context.Context, group, name string) (*databasev1.Trace, []*databasev1.IndexRule, error) {
	f, ok := fixtures[group+"/"+name]
	if !ok {
		return nil, nil, errors.Wrapf(ErrNotFound, "%s/%s", group, name)
	}
	return f.trace, f.rules, nil
}

// testNow is the clock of the tests: relative times resolve against it.
var testNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func testTransformer() Transformer {
	return Transformer{Lookup: fixtureLookup, Clock: timestamp.NewMockClock(testNow)}
}

func pStr(s string) *modelv1.TagValue { return strValue(s) }
func pInt(n int64) *modelv1.TagValue  { return intValue(n) }
func pNull() *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Null{Null: structpb.NullValue_NULL_VALUE}}
}

func pStrs(s ...string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: s}}}
}

func pInts(n ...int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: n}}}
}

func pTime(t time.Time) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(t)}}
}

func pBytes(b []byte) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_BinaryData{BinaryData: b}}
}
