// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// Builders of criteria trees and values for the validation tests.

func vCond(name string, op modelv1.Condition_BinaryOp, v *modelv1.TagValue) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{Name: name, Op: op, Value: v}}}
}

func vLE(op modelv1.LogicalExpression_LogicalOp, l, r *modelv1.Criteria) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{Op: op, Left: l, Right: r}}}
}

func vAnd(l, r *modelv1.Criteria) *modelv1.Criteria {
	return vLE(modelv1.LogicalExpression_LOGICAL_OP_AND, l, r)
}

func vOr(l, r *modelv1.Criteria) *modelv1.Criteria {
	return vLE(modelv1.LogicalExpression_LOGICAL_OP_OR, l, r)
}

func vStr(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func vInt(i int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: i}}}
}

func vStrs(s ...string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: s}}}
}

func vInts(i ...int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: i}}}
}

func vTS(t time.Time) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(t)}}
}

func vBin(b []byte) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_BinaryData{BinaryData: b}}
}

func vNull() *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Null{Null: structpb.NullValue_NULL_VALUE}}
}

const (
	eq       = modelv1.Condition_BINARY_OP_EQ
	ne       = modelv1.Condition_BINARY_OP_NE
	lt       = modelv1.Condition_BINARY_OP_LT
	gt       = modelv1.Condition_BINARY_OP_GT
	le       = modelv1.Condition_BINARY_OP_LE
	ge       = modelv1.Condition_BINARY_OP_GE
	in       = modelv1.Condition_BINARY_OP_IN
	notIn    = modelv1.Condition_BINARY_OP_NOT_IN
	having   = modelv1.Condition_BINARY_OP_HAVING
	noHaving = modelv1.Condition_BINARY_OP_NOT_HAVING
	match    = modelv1.Condition_BINARY_OP_MATCH
)

func tag(name string, t databasev1.TagType) *databasev1.TraceTagSpec {
	return &databasev1.TraceTagSpec{Name: name, Type: t}
}

// testSchema is the fixture's sw trace plus one tag of each remaining type; in group "updated"
// state is a string, as in the fixture's test-trace-updated group.
func testSchema(group string) *databasev1.Trace {
	stateType := databasev1.TagType_TAG_TYPE_INT
	if group == "updated" {
		stateType = databasev1.TagType_TAG_TYPE_STRING
	}
	return &databasev1.Trace{
		Metadata: &commonv1.Metadata{Group: group, Name: "sw"},
		Tags: []*databasev1.TraceTagSpec{
			tag("trace_id", databasev1.TagType_TAG_TYPE_STRING),
			tag("state", stateType),
			tag("service_id", databasev1.TagType_TAG_TYPE_STRING),
			tag("duration", databasev1.TagType_TAG_TYPE_INT),
			tag("span_id", databasev1.TagType_TAG_TYPE_STRING),
			tag("timestamp", databasev1.TagType_TAG_TYPE_TIMESTAMP),
			tag("query", databasev1.TagType_TAG_TYPE_STRING_ARRAY),
			tag("ports", databasev1.TagType_TAG_TYPE_INT_ARRAY),
			tag("blob", databasev1.TagType_TAG_TYPE_DATA_BINARY),
		},
		TraceIdTagName:   "trace_id",
		SpanIdTagName:    "span_id",
		TimestampTagName: "timestamp",
	}
}

func testSchemaOf(group, name string) (*databasev1.Trace, bool) {
	if name != "sw" || (group != "g" && group != "g2" && group != "updated") {
		return nil, false
	}
	return testSchema(group), true
}

func query(c *modelv1.Criteria, groups ...string) *tracev1.QueryRequest {
	if len(groups) == 0 {
		groups = []string{"g"}
	}
	return &tracev1.QueryRequest{Groups: groups, Name: "sw", Criteria: c}
}

// chain joins n conditions on duration into a left-deep AND chain.
func chain(n int) *modelv1.Criteria {
	c := vCond("duration", gt, vInt(0))
	for i := 1; i < n; i++ {
		c = vAnd(c, vCond("duration", gt, vInt(int64(i))))
	}
	return c
}

// balancedOr joins n conditions on service_id into a balanced OR tree.
func balancedOr(n int) *modelv1.Criteria {
	if n == 1 {
		return vCond("service_id", eq, vStr("svc"))
	}
	return vOr(balancedOr(n/2), balancedOr(n-n/2))
}

func TestValidateTraceQuery(t *testing.T) {
	manyStrs := make([]string, maxConditionValues+1)
	for i := range manyStrs {
		manyStrs[i] = "trace"
	}
	now := time.Now()
	tests := []struct {
		name string
		req  *tracev1.QueryRequest
		// code is the wanted status code; msg a part of the wanted message.
		code codes.Code
		msg  string
	}{
		// Accepted queries.
		{name: "no criteria", req: query(nil)},
		{name: "string EQ", req: query(vCond("service_id", eq, vStr("svc")))},
		{name: "int range", req: query(vAnd(vCond("duration", ge, vInt(1)), vCond("duration", lt, vInt(9))))},
		{name: "timestamp range", req: query(vCond("timestamp", gt, vTS(now)))},
		{name: "trace id EQ with a list", req: query(vCond("trace_id", eq, vStrs("a", "b")))},
		{name: "trace id NE with a list", req: query(vCond("trace_id", ne, vStrs("a", "b")))},
		{name: "string IN", req: query(vCond("service_id", in, vStrs("a", "b")))},
		{name: "empty IN list", req: query(vCond("trace_id", in, vStrs()))},
		{name: "int NOT_IN", req: query(vCond("duration", notIn, vInts(1, 2)))},
		{name: "HAVING a list", req: query(vCond("query", having, vStrs("a=1", "b=2")))},
		{name: "HAVING one string", req: query(vCond("query", having, vStr("a=1")))},
		{name: "NOT_HAVING ints", req: query(vCond("ports", noHaving, vInts(80)))},
		{name: "HAVING one int", req: query(vCond("ports", having, vInt(80)))},
		{name: "array EQ", req: query(vCond("query", eq, vStrs("a=1")))},
		{name: "binary EQ", req: query(vCond("blob", eq, vBin([]byte{1, 2})))},
		{name: "two groups", req: query(vCond("service_id", eq, vStr("svc")), "g", "g2")},
		{name: "a tag of one type in both groups", req: query(vCond("duration", gt, vInt(1)), "g", "updated")},
		{name: "at the condition limit", req: query(balancedOr(maxCriteriaConditions))},
		{name: "at the depth limit", req: query(chain(maxCriteriaDepth))},
		{name: "at the IN list limit", req: query(vCond("trace_id", in, vStrs(manyStrs[:maxConditionValues]...)))},

		// Groups and the trace.
		{name: "no group", req: &tracev1.QueryRequest{Name: "sw"}, code: codes.InvalidArgument, msg: "at least one group"},
		{name: "no name", req: &tracev1.QueryRequest{Groups: []string{"g"}}, code: codes.InvalidArgument, msg: "name"},
		{name: "a group twice", req: query(nil, "g", "g2", "g"), code: codes.InvalidArgument, msg: `group "g" is listed more than once`},
		{name: "unknown group", req: query(nil, "g", "nope"), code: codes.NotFound, msg: "trace nope/sw not found"},

		// Empty nodes.
		{name: "empty criteria", req: query(&modelv1.Criteria{}), code: codes.InvalidArgument, msg: "criteria: empty criteria"},
		{name: "nested empty criteria", req: query(vAnd(vCond("duration", gt, vInt(1)), &modelv1.Criteria{})),
			code: codes.InvalidArgument, msg: "criteria.le.right: empty criteria"},
		{name: "empty logical expression", req: query(&modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{}}}),
			code: codes.InvalidArgument, msg: "is not AND or OR"},
		{name: "nil logical expression", req: query(&modelv1.Criteria{Exp: &modelv1.Criteria_Le{}}),
			code: codes.InvalidArgument, msg: "empty logical expression"},
		{name: "no left side", req: query(vAnd(nil, vCond("duration", gt, vInt(1)))), code: codes.InvalidArgument, msg: "no left side"},
		{name: "no right side", req: query(vOr(vCond("duration", gt, vInt(1)), nil)), code: codes.InvalidArgument, msg: "no right side"},
		{name: "no operator", req: query(vLE(modelv1.LogicalExpression_LOGICAL_OP_UNSPECIFIED, chain(1), chain(1))),
			code: codes.InvalidArgument, msg: "LOGICAL_OP_UNSPECIFIED is not AND or OR"},
		{name: "nil condition", req: query(&modelv1.Criteria{Exp: &modelv1.Criteria_Condition{}}),
			code: codes.InvalidArgument, msg: "criteria.condition: empty condition"},
		{name: "no tag name", req: query(vCond("", eq, vStr("x"))), code: codes.InvalidArgument, msg: "the tag name is required"},
		{name: "no value", req: query(vCond("service_id", eq, nil)), code: codes.InvalidArgument, msg: "has no value"},
		{name: "null value", req: query(vCond("service_id", eq, vNull())), code: codes.InvalidArgument, msg: "has no value"},
		{name: "no binary operator", req: query(vCond("service_id", modelv1.Condition_BINARY_OP_UNSPECIFIED, vStr("x"))),
			code: codes.InvalidArgument, msg: "not supported on traces"},
		{name: "MATCH", req: query(vCond("service_id", match, vStr("x"))), code: codes.InvalidArgument, msg: "not supported on traces"},
		{name: "undefined operator", req: query(vCond("service_id", modelv1.Condition_BinaryOp(99), vStr("x"))),
			code: codes.InvalidArgument, msg: "not supported on traces"},

		// Types.
		{name: "string for an INT tag", req: query(vCond("duration", eq, vStr("600"))),
			code: codes.InvalidArgument, msg: "tag 'duration' is TAG_TYPE_INT in group g: BINARY_OP_EQ takes an int, not a string"},
		{name: "int for a STRING tag", req: query(vCond("service_id", eq, vInt(1))),
			code: codes.InvalidArgument, msg: "BINARY_OP_EQ takes a string, not an int"},
		{name: "int for a TIMESTAMP tag", req: query(vCond("timestamp", gt, vInt(now.UnixNano()))),
			code: codes.InvalidArgument, msg: "takes a timestamp, not an int"},
		{name: "timestamp for an INT tag", req: query(vCond("duration", gt, vTS(now))),
			code: codes.InvalidArgument, msg: "takes an int, not a timestamp"},
		{name: "string list for EQ on a plain string tag", req: query(vCond("span_id", eq, vStrs("a"))),
			code: codes.InvalidArgument, msg: "takes a string, not a string array"},
		{name: "scalar for IN", req: query(vCond("service_id", in, vStr("a"))),
			code: codes.InvalidArgument, msg: "BINARY_OP_IN takes a string array, not a string"},
		{name: "int list IN on a string tag", req: query(vCond("service_id", in, vInts(1))),
			code: codes.InvalidArgument, msg: "takes a string array, not an int array"},
		{name: "string list IN on an int tag", req: query(vCond("duration", notIn, vStrs("1"))),
			code: codes.InvalidArgument, msg: "takes an int array, not a string array"},
		{name: "IN on a timestamp tag", req: query(vCond("timestamp", in, vInts(1))),
			code: codes.InvalidArgument, msg: "does not apply to tag 'timestamp' of type TAG_TYPE_TIMESTAMP"},
		{name: "IN on an array tag", req: query(vCond("query", in, vStrs("a"))),
			code: codes.InvalidArgument, msg: "does not apply to tag 'query'"},
		{name: "range on an array tag", req: query(vCond("ports", gt, vInts(1))),
			code: codes.InvalidArgument, msg: "does not apply to tag 'ports'"},
		{name: "HAVING on a scalar tag", req: query(vCond("service_id", having, vStrs("a"))),
			code: codes.InvalidArgument, msg: "does not apply to tag 'service_id'"},
		{name: "HAVING ints on a string array", req: query(vCond("query", having, vInts(1))),
			code: codes.InvalidArgument, msg: "takes a string array or a string, not an int array"},
		{name: "string for a binary tag", req: query(vCond("blob", eq, vStr("x"))),
			code: codes.InvalidArgument, msg: "takes binary data, not a string"},
		{name: "unknown tag", req: query(vCond("nope", eq, vStr("x"))),
			code: codes.InvalidArgument, msg: "tag name 'nope' not found in trace schema (group g)"},
		{name: "a type that fits one group only", req: query(vCond("state", eq, vInt(1)), "g", "updated"),
			code: codes.InvalidArgument, msg: "tag 'state' is TAG_TYPE_STRING in group updated"},
		{name: "a misfit deep in the tree", req: query(vAnd(chain(3), vOr(vCond("service_id", eq, vStr("a")), vCond("duration", eq, vStr("1"))))),
			code: codes.InvalidArgument, msg: "criteria.le.right.le.right.condition: tag 'duration'"},

		// Bounds.
		{name: "over the condition limit", req: query(balancedOr(maxCriteriaConditions + 1)),
			code: codes.InvalidArgument, msg: "more than 64 conditions"},
		{name: "the issue's 16k OR", req: query(balancedOr(16 << 10)), code: codes.InvalidArgument, msg: "bytes is over the limit"},
		{name: "over the depth limit", req: query(chain(maxCriteriaDepth + 1)), code: codes.InvalidArgument, msg: "deeper than 64 levels"},
		{name: "over the IN list limit", req: query(vCond("trace_id", in, vStrs(manyStrs...))),
			code: codes.InvalidArgument, msg: "has 4097 values, over the limit of 4096"},
		{name: "over the byte limit", req: query(vCond("service_id", eq, vStr(strings.Repeat("x", maxCriteriaBytes)))),
			code: codes.InvalidArgument, msg: "bytes is over the limit of 262144 bytes"},
		// Bounds come before the schema: an unknown group past a bound still hears about the bound.
		{name: "bounds before schemas", req: query(chain(maxCriteriaDepth+1), "nope"), code: codes.InvalidArgument, msg: "deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateTraceQuery(tt.req, testSchemaOf)
			if got := status.Code(err); got != tt.code {
				t.Fatalf("code %s (%v), want %s", got, err, tt.code)
			}
			if tt.code == codes.OK {
				return
			}
			if _, ok := status.FromError(err); !ok {
				t.Fatalf("%v is not a gRPC status", err)
			}
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tt.msg) {
				t.Fatalf("message %q does not contain %q", msg, tt.msg)
			}
		})
	}
}

// A tree far past the bounds is refused before any schema is looked up.
func TestValidateTraceQueryRefusesHugeTreesBeforeTheSchema(t *testing.T) {
	c := chain(100_000)
	err := validateTraceQuery(&tracev1.QueryRequest{Groups: []string{"g"}, Name: "sw", Criteria: c}, func(string, string) (*databasev1.Trace, bool) {
		t.Fatal("the schema was consulted for a query past a bound")
		return nil, false
	})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a chain of 100k conditions: %v", err)
	}
}
