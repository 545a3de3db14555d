// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

func cond(name string, op modelv1.Condition_BinaryOp, v *modelv1.TagValue) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{Name: name, Op: op, Value: v}}}
}

func logical(op modelv1.LogicalExpression_LogicalOp, l, r *modelv1.Criteria) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{Op: op, Left: l, Right: r}}}
}

func and(l, r *modelv1.Criteria) *modelv1.Criteria {
	return logical(modelv1.LogicalExpression_LOGICAL_OP_AND, l, r)
}

func or(l, r *modelv1.Criteria) *modelv1.Criteria {
	return logical(modelv1.LogicalExpression_LOGICAL_OP_OR, l, r)
}

func tr(begin, end time.Time) *modelv1.TimeRange {
	return &modelv1.TimeRange{Begin: timestamppb.New(begin), End: timestamppb.New(end)}
}

const (
	eq       = modelv1.Condition_BINARY_OP_EQ
	ne       = modelv1.Condition_BINARY_OP_NE
	gt       = modelv1.Condition_BINARY_OP_GT
	lt       = modelv1.Condition_BINARY_OP_LT
	ge       = modelv1.Condition_BINARY_OP_GE
	le       = modelv1.Condition_BINARY_OP_LE
	in       = modelv1.Condition_BINARY_OP_IN
	notIn    = modelv1.Condition_BINARY_OP_NOT_IN
	having   = modelv1.Condition_BINARY_OP_HAVING
	noHaving = modelv1.Condition_BINARY_OP_NOT_HAVING
	match    = modelv1.Condition_BINARY_OP_MATCH
)

var (
	t0      = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	t1      = t0.Add(time.Hour)
	allTime = tr(epoch, timestamp.MaxMilli)
	lastQ   = tr(testNow.Add(-15*time.Minute), timestamp.MaxMilli)
	swGroup = []string{"test-trace-group"}
)

func orderBy(rule string, sort modelv1.Sort) *modelv1.QueryOrder {
	return &modelv1.QueryOrder{IndexRuleName: rule, Sort: sort}
}

func TestTransform(t *testing.T) {
	tests := []struct {
		want   *tracev1.QueryRequest
		name   string
		stmt   string
		params []*modelv1.TagValue
	}{
		{
			name: "upstream's example",
			stmt: "SELECT trace_id, duration FROM TRACE sw IN test-trace-group, test-trace-updated TIME > '-15m' WHERE duration >= 500 ORDER BY duration DESC LIMIT 3",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: []string{"test-trace-group", "test-trace-updated"}, TagProjection: []string{"trace_id", "duration"},
				TimeRange: lastQ, Criteria: cond("duration", ge, pInt(500)), OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC), Limit: 3,
			},
		},
		{
			name: "keywords in any case, groups in parentheses, ; and comments",
			stmt: "-- the slowest\nselect () from trace sw in (test-trace-group) time >= '-1h' -- one hour\n  order by duration asc limit 1 offset 2;",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: tr(testNow.Add(-time.Hour), timestamp.MaxMilli),
				OrderBy: orderBy("duration", modelv1.Sort_SORT_ASC), Limit: 1, Offset: 2,
			},
		},
		{
			name: "* is every tag of every group, the first group's first",
			stmt: "SELECT * FROM TRACE sw IN test-trace-group, test-trace-updated TIME < 'now' ORDER BY timestamp",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: []string{"test-trace-group", "test-trace-updated"},
				TagProjection: []string{"trace_id", "state", "service_id", "service_instance_id", "endpoint_id", "duration", "span_id", "timestamp", "error_message"},
				TimeRange:     tr(epoch, testNow), OrderBy: orderBy("timestamp", modelv1.Sort_SORT_UNSPECIFIED),
			},
		},
		{
			name: "TIME = sets both ends",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME = '2026-12-01T08:00:00Z' WHERE trace_id = 'trace_001'",
			want: &tracev1.QueryRequest{Name: "sw", Groups: swGroup, TimeRange: tr(t0, t0), Criteria: cond("trace_id", eq, pStr("trace_001"))},
		},
		{
			name: "TIME BETWEEN absolute times",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN '2026-12-01T08:00:00Z' AND '2026-12-01T09:00:00Z' ORDER BY duration",
			want: &tracev1.QueryRequest{Name: "sw", Groups: swGroup, TimeRange: tr(t0, t1), OrderBy: orderBy("duration", 0)},
		},
		{
			name: "TIME <= relative, every unit",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN '-1w' AND '2h' ORDER BY duration",
			want: &tracev1.QueryRequest{Name: "sw", Groups: swGroup, TimeRange: tr(testNow.Add(-7*24*time.Hour), testNow.Add(2*time.Hour)), OrderBy: orderBy("duration", 0)},
		},
		{
			name: "TIME <= -1d",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME <= '-1d' ORDER BY duration",
			want: &tracev1.QueryRequest{Name: "sw", Groups: swGroup, TimeRange: tr(epoch, testNow.Add(-24*time.Hour)), OrderBy: orderBy("duration", 0)},
		},
		{
			name:   "TIME from params: a timestamp and a str",
			stmt:   "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration",
			params: []*modelv1.TagValue{pTime(t0), pStr("2026-12-01T09:00:00Z")},
			want:   &tracev1.QueryRequest{Name: "sw", Groups: swGroup, TimeRange: tr(t0, t1), OrderBy: orderBy("duration", 0)},
		},
		{
			name: "every comparison",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE service_id = 'a' AND endpoint_id != \"b\" AND duration > 1 AND duration < -2 AND duration >= 3 AND duration <= 4 AND state <> 5 ORDER BY duration",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0),
				Criteria: and(and(and(and(and(and(cond("service_id", eq, pStr("a")), cond("endpoint_id", ne, pStr("b"))),
					cond("duration", gt, pInt(1))), cond("duration", lt, pInt(-2))), cond("duration", ge, pInt(3))),
					cond("duration", le, pInt(4))), cond("state", ne, pInt(5))),
			},
		},
		{
			name: "AND binds tighter than OR",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE state = 0 OR state = 1 AND duration > 5 ORDER BY duration",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0),
				Criteria: or(cond("state", eq, pInt(0)), and(cond("state", eq, pInt(1)), cond("duration", gt, pInt(5)))),
			},
		},
		{
			name: "parentheses group an OR",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE (state = 0 OR state = 1) AND ((duration > 5)) ORDER BY duration",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0),
				Criteria: and(or(cond("state", eq, pInt(0)), cond("state", eq, pInt(1))), cond("duration", gt, pInt(5))),
			},
		},
		{
			name: "IN and NOT IN of strings and integers",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE trace_id IN ('t1', 't2') AND duration NOT IN (1, 2) ORDER BY duration",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0),
				Criteria: and(cond("trace_id", in, pStrs("t1", "t2")), cond("duration", notIn, pInts(1, 2))),
			},
		},
		{
			name:   "an array param expands in place",
			stmt:   "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE trace_id IN ('a', ?, 'b') AND duration IN (?, 7) ORDER BY duration",
			params: []*modelv1.TagValue{pStrs("x", "y"), pInts(5, 6)},
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0),
				Criteria: and(cond("trace_id", in, pStrs("a", "x", "y", "b")), cond("duration", in, pInts(5, 6, 7))),
			},
		},
		{
			name:   "an empty array param is an empty list",
			stmt:   "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE trace_id IN (?)",
			params: []*modelv1.TagValue{pStrs()},
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ,
				Criteria: cond("trace_id", in, &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{}}}),
			},
		},
		{
			name: "HAVING and NOT HAVING, with and without parentheses",
			stmt: "SELECT () FROM TRACE zipkin IN zipkinTrace TIME > '-15m' WHERE query HAVING 'a' AND query NOT HAVING ('b', 'c') ORDER BY zipkin-timestamp DESC",
			want: &tracev1.QueryRequest{
				Name: "zipkin", Groups: []string{"zipkinTrace"}, TimeRange: lastQ, OrderBy: orderBy("zipkin-timestamp", modelv1.Sort_SORT_DESC),
				Criteria: and(cond("query", having, pStrs("a")), cond("query", noHaving, pStrs("b", "c"))),
			},
		},
		{
			name: "MATCH with an analyzer",
			stmt: "SELECT () FROM TRACE zipkin IN zipkinTrace TIME > '-15m' WHERE operation_name MATCH ('get user', 'standard') ORDER BY zipkin-timestamp",
			want: &tracev1.QueryRequest{
				Name: "zipkin", Groups: []string{"zipkinTrace"}, TimeRange: lastQ, OrderBy: orderBy("zipkin-timestamp", 0),
				Criteria: &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
					Name: "operation_name", Op: match, Value: pStr("get user"), MatchOption: &modelv1.Condition_MatchOption{Analyzer: "standard"},
				}}},
			},
		},
		{
			name:   "MATCH of a param",
			stmt:   "SELECT () FROM TRACE zipkin IN zipkinTrace TIME > '-15m' WHERE operation_name MATCH (?) ORDER BY zipkin-timestamp",
			params: []*modelv1.TagValue{pStrs("get", "user")},
			want: &tracev1.QueryRequest{
				Name: "zipkin", Groups: []string{"zipkinTrace"}, TimeRange: lastQ, OrderBy: orderBy("zipkin-timestamp", 0),
				Criteria: cond("operation_name", match, pStrs("get", "user")),
			},
		},
		{
			name: "NULL operand",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE endpoint_id = NULL ORDER BY duration",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0), Criteria: cond("endpoint_id", eq, pNull()),
			},
		},
		{
			name: "a quoted time on a TIMESTAMP tag is a timestamp",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE timestamp > '2026-12-01T08:00:00Z' AND timestamp < '-5m' ORDER BY duration",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0),
				Criteria: and(cond("timestamp", gt, pTime(t0)), cond("timestamp", lt, pTime(testNow.Add(-5*time.Minute)))),
			},
		},
		{
			name: "ORDER BY a sort tag uses the rule that sorts by it",
			stmt: "SELECT () FROM TRACE zipkin IN zipkinTrace TIME > '-15m' ORDER BY timestamp DESC",
			want: &tracev1.QueryRequest{Name: "zipkin", Groups: []string{"zipkinTrace"}, TimeRange: lastQ, OrderBy: orderBy("zipkin-timestamp", modelv1.Sort_SORT_DESC)},
		},
		{
			name: "ON ... STAGES and WITH QUERY_TRACE",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group ON (hot, warm) STAGES TIME > '-15m' ORDER BY duration WITH QUERY_TRACE",
			want: &tracev1.QueryRequest{Name: "sw", Groups: swGroup, Stages: []string{"hot", "warm"}, TimeRange: lastQ, OrderBy: orderBy("duration", 0), Trace: true},
		},
		{
			name: "ON one stage without parentheses",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group ON warm STAGES TIME > '-15m' ORDER BY duration",
			want: &tracev1.QueryRequest{Name: "sw", Groups: swGroup, Stages: []string{"warm"}, TimeRange: lastQ, OrderBy: orderBy("duration", 0)},
		},
		{
			name:   "LIMIT and OFFSET from params, in either order",
			stmt:   "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' ORDER BY duration OFFSET ? LIMIT ?",
			params: []*modelv1.TagValue{pInt(4), pInt(4294967295)},
			want:   &tracev1.QueryRequest{Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0), Offset: 4, Limit: 4294967295},
		},
		{
			name: "TIME with no range at all is every time",
			stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME >= '1970-01-01T00:00:00Z' ORDER BY duration",
			want: &tracev1.QueryRequest{Name: "sw", Groups: swGroup, TimeRange: allTime, OrderBy: orderBy("duration", 0)},
		},
		{
			name:   "a scalar param: str, int, null",
			stmt:   "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE service_id = ? AND duration > ? AND endpoint_id != ? ORDER BY duration",
			params: []*modelv1.TagValue{pStr("webapp"), pInt(10), pNull()},
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0),
				Criteria: and(and(cond("service_id", eq, pStr("webapp")), cond("duration", gt, pInt(10))), cond("endpoint_id", ne, pNull())),
			},
		},
		{
			name: "a string literal on a tag that is STRING in one group and INT in the other",
			stmt: "SELECT state FROM TRACE sw IN test-trace-group, test-trace-updated TIME > '-15m' WHERE state = 'error' OR state = 1 ORDER BY duration",
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: []string{"test-trace-group", "test-trace-updated"}, TagProjection: []string{"state"}, TimeRange: lastQ,
				OrderBy: orderBy("duration", 0), Criteria: or(cond("state", eq, pStr("error")), cond("state", eq, pInt(1))),
			},
		},
		{
			name: "escapes in strings",
			stmt: `SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE service_id = 'it''s' OR service_id = "a\"b\\c" ORDER BY duration`,
			want: &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0),
				Criteria: or(cond("service_id", eq, pStr("it's")), cond("service_id", eq, pStr(`a"b\c`))),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := testTransformer().Compile(context.Background(), tt.stmt, tt.params)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

// TestInjectionStaysAValue binds params that would change a statement if they were pasted into
// its text; each must arrive as one plain operand.
func TestInjectionStaysAValue(t *testing.T) {
	for _, p := range []string{"' OR 1=1 --", "'", `"`, "OR", "SELECT * FROM TRACE sw", "x') OR (service_id = 'y", "?", "-- comment", "a; DROP"} {
		t.Run(p, func(t *testing.T) {
			got, err := testTransformer().Compile(context.Background(),
				"SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE service_id = ? AND endpoint_id IN (?, 'z') ORDER BY duration LIMIT 2",
				[]*modelv1.TagValue{pStr(p), pStrs(p, p)})
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			want := &tracev1.QueryRequest{
				Name: "sw", Groups: swGroup, TimeRange: lastQ, OrderBy: orderBy("duration", 0), Limit: 2,
				Criteria: and(cond("service_id", eq, pStr(p)), cond("endpoint_id", in, pStrs(p, p, "z"))),
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	const base = "SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' "
	tests := []struct {
		name    string
		stmt    string
		wantMsg string
		params  []*modelv1.TagValue
		code    codes.Code
	}{
		// Syntax.
		{name: "TIME missing", stmt: "SELECT trace_id FROM TRACE sw IN test-trace-group\nWHERE duration > 1 WHERE", wantMsg: "line 2, column 1: expected TIME, found WHERE"},
		{name: "the issue's example", stmt: "SELECT trace_id\nFROM TRACE sw IN g WHERE duration > 1", wantMsg: "line 2, column 20: expected TIME, found WHERE"},
		{name: "empty", stmt: "  ", wantMsg: "line 1, column 3: expected SELECT, found end of statement"},
		{name: "no FROM", stmt: "SELECT a TRACE", wantMsg: "line 1, column 10: expected FROM, found TRACE"},
		{name: "no trace name", stmt: "SELECT a FROM TRACE IN g", wantMsg: "expected a trace name, found IN"},
		{name: "no group", stmt: "SELECT a FROM TRACE sw IN TIME > 'now'", wantMsg: "expected a group name, found TIME"},
		{name: "unclosed group list", stmt: "SELECT a FROM TRACE sw IN (g TIME > 'now'", wantMsg: "expected , or ), found TIME"},
		{name: "TIME !=", stmt: "SELECT a FROM TRACE sw IN g TIME != 'now'", wantMsg: "expected =, >, <, >=, <= or BETWEEN, found !="},
		{name: "BETWEEN without AND", stmt: "SELECT a FROM TRACE sw IN g TIME BETWEEN 'now' OR 'now'", wantMsg: "expected AND, found OR"},
		{name: "trailing tokens", stmt: base + "ORDER BY duration LIMIT 1 garbage", wantMsg: "expected end of statement, found garbage"},
		{name: "two statements", stmt: base + "; SELECT", wantMsg: "expected end of statement, found SELECT"},
		{name: "unterminated string", stmt: base + "WHERE a = 'x", wantMsg: "line 1, column 69: unterminated string"},
		{name: "a bad character", stmt: base + "WHERE a = #", wantMsg: "unexpected character '#'"},
		{name: "an operator with no value", stmt: base + "WHERE a = ORDER BY duration", wantMsg: "expected a value, found ORDER"},
		{name: "NOT without IN", stmt: base + "WHERE a NOT = 1", wantMsg: "expected IN or HAVING, found ="},
		{name: "an empty IN list", stmt: base + "WHERE a IN ()", wantMsg: "expected a value, found )"},
		{name: "an unclosed parenthesis", stmt: base + "WHERE (a = 1", wantMsg: "expected AND, OR or ), found end of statement"},
		{name: "a number glued to a name", stmt: base + "LIMIT 12abc", wantMsg: "malformed number"},
		{name: "a huge integer", stmt: base + "WHERE duration = 99999999999999999999", wantMsg: "out of the int64 range"},
		{name: "a negative LIMIT", stmt: base + "ORDER BY duration LIMIT -1", wantMsg: "LIMIT -1 is out of the range [0, 4294967295]"},
		{name: "a LIMIT above uint32", stmt: base + "ORDER BY duration LIMIT 4294967296", wantMsg: "out of the range"},
		{name: "LIMIT twice", stmt: base + "ORDER BY duration LIMIT 1 LIMIT 2", wantMsg: "LIMIT is given twice"},
		{name: "LIMIT of a string", stmt: base + "ORDER BY duration LIMIT '1'", wantMsg: "expected a count after LIMIT, found '1'"},
		{name: "deep nesting", stmt: base + "WHERE " + strings.Repeat("(", 10000) + "a = 1" + strings.Repeat(")", 10000), wantMsg: "nest deeper than 64 levels"},
		{name: "too many conditions", stmt: base + "WHERE a = 1" + strings.Repeat(" OR a = 1", 1000), wantMsg: "more than 1000 conditions"},
		// Placeholders outside value positions.
		{name: "? as a trace", stmt: "SELECT a FROM TRACE ? IN g TIME > 'now'", wantMsg: "a ? placeholder cannot stand for a trace name"},
		{name: "? as a group", stmt: "SELECT a FROM TRACE sw IN ? TIME > 'now'", wantMsg: "cannot stand for a group name"},
		{name: "? as a column", stmt: "SELECT ? FROM TRACE sw IN g TIME > 'now'", wantMsg: "cannot stand for a tag name"},
		{name: "? as a condition's tag", stmt: base + "WHERE ? = 1", wantMsg: "cannot stand for a tag name"},
		{name: "? in ORDER BY", stmt: base + "ORDER BY ?", wantMsg: "cannot stand for an index rule name"},
		{name: "? as a keyword", stmt: base + "? BY duration", wantMsg: "expected end of statement, found ?"},
		{name: "? as an operator", stmt: base + "WHERE a ? 1", wantMsg: "expected =, !=, >, <, >=, <=, IN, NOT IN, HAVING, NOT HAVING or MATCH, found ?"},
		{name: "? as a stage", stmt: "SELECT a FROM TRACE sw IN g ON ? STAGES TIME > 'now'", wantMsg: "cannot stand for a stage name"},
		// Other models.
		{name: "STREAM", stmt: "SELECT * FROM STREAM sw IN g TIME > '-15m'", wantMsg: "STREAM queries are not supported: this server stores traces only"},
		{name: "MEASURE", stmt: "select * from measure m in g time > '-15m'", wantMsg: "MEASURE queries are not supported: this server stores traces only"},
		{name: "PROPERTY", stmt: "SELECT * FROM PROPERTY p IN g", wantMsg: "PROPERTY queries are not supported: this server stores traces only"},
		{name: "TOP-N", stmt: "SHOW TOP 10 FROM MEASURE m IN g TIME > '-15m'", wantMsg: "TOP-N queries are not supported: this server stores traces only"},
		{name: "SELECT TOP", stmt: "SELECT TOP 10 x FROM MEASURE m IN g", wantMsg: "TOP-N queries are not supported: this server stores traces only"},
		// Binding.
		{name: "too few params", stmt: base + "WHERE a = ? AND b = ?", params: []*modelv1.TagValue{pStr("x")}, wantMsg: "the statement has 2 ? placeholders but 1 params were given"},
		{name: "too many params", stmt: base + "ORDER BY duration", params: []*modelv1.TagValue{pStr("x")}, wantMsg: "has 0 ? placeholders but 1 params"},
		{name: "binary_data in a comparison", stmt: base + "WHERE service_id = ?", params: []*modelv1.TagValue{pBytes([]byte("x"))}, wantMsg: "param 1 is binary_data"},
		{name: "binary_data in a list", stmt: base + "WHERE service_id IN (?)", params: []*modelv1.TagValue{pBytes(nil)}, wantMsg: "binary_data"},
		{name: "binary_data in TIME", stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > ?", params: []*modelv1.TagValue{pBytes(nil)}, wantMsg: "binary_data"},
		{name: "binary_data in LIMIT", stmt: base + "LIMIT ?", params: []*modelv1.TagValue{pBytes(nil)}, wantMsg: "binary_data"},
		{name: "a param with no value", stmt: base + "WHERE service_id = ?", params: []*modelv1.TagValue{{}}, wantMsg: "param 1 has no value"},
		{name: "a nil param", stmt: base + "WHERE service_id = ?", params: []*modelv1.TagValue{nil}, wantMsg: "param 1 has no value"},
		{name: "an int in TIME", stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > ?", params: []*modelv1.TagValue{pInt(1)}, wantMsg: "param 1 is an int, but a TIME value takes str or timestamp"},
		{name: "null in TIME", stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > ?", params: []*modelv1.TagValue{pNull()}, wantMsg: "param 1 is null, but a TIME value takes str or timestamp"},
		{name: "an array in TIME", stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > ?", params: []*modelv1.TagValue{pStrs("now")}, wantMsg: "is a str_array, but a TIME value"},
		{name: "an array in a comparison", stmt: base + "WHERE service_id = ?", params: []*modelv1.TagValue{pStrs("a")}, wantMsg: "param 1 is a str_array, but a comparison takes str, int or null"},
		{name: "an int array in a comparison", stmt: base + "WHERE duration = ?", params: []*modelv1.TagValue{pInts(1)}, wantMsg: "is an int_array, but a comparison"},
		{name: "a timestamp in a comparison", stmt: base + "WHERE timestamp > ?", params: []*modelv1.TagValue{pTime(t0)}, wantMsg: "is a timestamp, but a comparison"},
		{name: "a timestamp in a list", stmt: base + "WHERE service_id IN (?)", params: []*modelv1.TagValue{pTime(t0)}, wantMsg: "is a timestamp, but an IN, HAVING or MATCH list"},
		{name: "a str LIMIT", stmt: base + "ORDER BY duration LIMIT ?", params: []*modelv1.TagValue{pStr("1")}, wantMsg: "param 1 is a str, but LIMIT and OFFSET take int"},
		{name: "a negative LIMIT param", stmt: base + "ORDER BY duration LIMIT ?", params: []*modelv1.TagValue{pInt(-1)}, wantMsg: "param -1 is out of the range [0, 4294967295]"},
		{name: "a LIMIT param above uint32", stmt: base + "ORDER BY duration OFFSET ?", params: []*modelv1.TagValue{pInt(1 << 32)}, wantMsg: "out of the range"},
		{name: "an int analyzer", stmt: base + "WHERE service_id MATCH ('a', ?)", params: []*modelv1.TagValue{pInt(1)}, wantMsg: "is an int, but a MATCH analyzer takes str"},
		{name: "an invalid timestamp param", stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > ?", params: []*modelv1.TagValue{{Value: &modelv1.TagValue_Timestamp{Timestamp: &timestamppb.Timestamp{Nanos: -1}}}}, wantMsg: "not a valid timestamp"},
		// Semantics.
		{name: "unknown trace", stmt: "SELECT () FROM TRACE nope IN test-trace-group TIME > '-15m'", code: codes.NotFound, wantMsg: "trace test-trace-group/nope not found"},
		{name: "unknown group", stmt: "SELECT () FROM TRACE sw IN test-trace-group, nope TIME > '-15m'", code: codes.NotFound, wantMsg: "trace nope/sw not found"},
		{name: "unknown projected tag", stmt: "SELECT duration, nope FROM TRACE sw IN test-trace-group TIME > '-15m'", wantMsg: "line 1, column 18: tag 'nope' not found in trace sw"},
		{name: "unknown tag in WHERE", stmt: base + "WHERE nope = 1", wantMsg: "tag 'nope' not found in trace sw"},
		{name: "unknown index rule", stmt: base + "ORDER BY nope", wantMsg: "index rule 'nope' is not bound to trace sw"},
		{name: "index rule of another trace", stmt: base + "ORDER BY zipkin-timestamp", wantMsg: "index rule 'zipkin-timestamp' is not bound to trace sw"},
		{name: "string on an INT tag", stmt: base + "WHERE duration = '5'", wantMsg: "tag 'duration' is INT, but the value is a string"},
		{name: "integer on a STRING tag", stmt: base + "WHERE service_id = 5", wantMsg: "tag 'service_id' is STRING, but the value is an integer"},
		{name: "integer param on a STRING tag", stmt: base + "WHERE service_id = ?", params: []*modelv1.TagValue{pInt(5)}, wantMsg: "tag 'service_id' is STRING, but the value is an integer"},
		{name: "string in an int IN list", stmt: base + "WHERE duration IN (1, 'x')", wantMsg: "tag 'duration' is INT, but the value is a string"},
		{name: "integer on a TIMESTAMP tag", stmt: base + "WHERE timestamp > 5", wantMsg: "tag 'timestamp' is TIMESTAMP, but the value is an integer"},
		{name: "a bad time on a TIMESTAMP tag", stmt: base + "WHERE timestamp > 'yesterday'", wantMsg: "'yesterday' is neither an RFC 3339 time"},
		{name: "NULL in a list", stmt: base + "WHERE service_id IN ('a', NULL)", wantMsg: "cannot hold NULL"},
		{name: "a mixed list", stmt: "SELECT () FROM TRACE sw IN test-trace-group, test-trace-updated TIME > '-15m' WHERE state IN (1, 'x')", wantMsg: "mixes strings and integers"},
		{name: "a bad TIME", stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > 'soon'", wantMsg: "line 1, column 52: 'soon' is neither an RFC 3339 time"},
		{name: "an unquoted TIME", stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > 5", wantMsg: "a time must be a quoted RFC 3339 time"},
		{name: "a relative time in seconds", stmt: "SELECT () FROM TRACE sw IN test-trace-group TIME > '-30s'", wantMsg: "'-30s' is neither"},
		{name: "an int analyzer literal", stmt: base + "WHERE service_id MATCH ('a', 5)", wantMsg: "a MATCH analyzer is a quoted name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testTransformer().Compile(context.Background(), tt.stmt, tt.params)
			if err == nil {
				t.Fatal("want an error")
			}
			want := tt.code
			if want == codes.OK {
				want = codes.InvalidArgument
			}
			if got := status.Code(err); got != want {
				t.Errorf("code %s, want %s (%v)", got, want, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

// TestTransformUnbound transforms a parsed statement that was never bound.
func TestTransformUnbound(t *testing.T) {
	q, err := Parse("SELECT () FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE service_id = ? ORDER BY duration")
	if err != nil {
		t.Fatal(err)
	}
	_, err = testTransformer().Transform(context.Background(), q)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "placeholder 1 is not bound") {
		t.Fatalf("got %v", err)
	}
}

// TestBindDoesNotChangeTheParsedQuery binds one parsed statement twice.
func TestBindDoesNotChangeTheParsedQuery(t *testing.T) {
	q, err := Parse("SELECT () FROM TRACE sw IN test-trace-group TIME > ? WHERE service_id IN (?) ORDER BY duration LIMIT ?")
	if err != nil {
		t.Fatal(err)
	}
	tf := testTransformer()
	for _, svc := range []string{"a", "b"} {
		bound, err := Bind(q, []*modelv1.TagValue{pTime(t0), pStrs(svc, "c"), pInt(3)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := tf.Transform(context.Background(), bound)
		if err != nil {
			t.Fatal(err)
		}
		want := &tracev1.QueryRequest{
			Name: "sw", Groups: swGroup, TimeRange: tr(t0, timestamp.MaxMilli), OrderBy: orderBy("duration", 0), Limit: 3,
			Criteria: cond("service_id", in, pStrs(svc, "c")),
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("-want +got:\n%s", diff)
		}
	}
	if c := q.Where.(*Condition); len(c.Values) != 1 || c.Values[0].Kind != ValuePlaceholder {
		t.Errorf("the parsed query changed: %+v", c.Values)
	}
}
