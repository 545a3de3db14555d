// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"context"
	"strings"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/pkg/timestamp"
)

// ErrNotFound is wrapped by a SchemaLookup for a trace that does not exist in a group.
var ErrNotFound = errors.New("bydbql: trace not found")

// SchemaLookup returns the schema of the trace name in group and the index rules bound to it.
// A missing group or trace is an error wrapping ErrNotFound; an error carrying a gRPC status
// keeps its code, any other error is Internal.
type SchemaLookup func(ctx context.Context, group, name string) (*databasev1.Trace, []*databasev1.IndexRule, error)

// Transformer turns bound queries into trace QueryRequests.
type Transformer struct {
	// Lookup finds the schemas the queries name.
	Lookup SchemaLookup
	// Clock resolves relative TIME values ('-30m', 'now'); nil means the real clock.
	Clock timestamp.Clock
}

// Compile parses, binds and transforms one statement.
func (t Transformer) Compile(ctx context.Context, statement string, params []*modelv1.TagValue) (*tracev1.QueryRequest, error) {
	q, err := Parse(statement)
	if err != nil {
		return nil, err
	}
	bound, err := Bind(q, params)
	if err != nil {
		return nil, err
	}
	return t.Transform(ctx, bound)
}

// traceSchema is what a query needs to know of the trace in all its groups.
type traceSchema struct {
	// types are the types a tag has in the groups that have it.
	types map[string][]databasev1.TagType
	// rules are the names of the bound index rules; lastTags maps a rule's sort tag to the rule.
	rules    map[string]bool
	lastTags map[string]string
	name     string
	// tags are the tag names in schema order, the first group's first.
	tags []string
}

// Transform maps a bound query onto a QueryRequest (API.md §11): FROM to name and groups,
// SELECT to tag_projection, TIME to time_range, WHERE to criteria, ORDER BY to order_by, LIMIT,
// OFFSET, WITH QUERY_TRACE and ON ... STAGES to their fields. Literals are typed by the schema
// (quoted strings for STRING and TIMESTAMP tags, integers for INT tags); a mismatch, an unknown
// tag or an index rule not bound to the trace is InvalidArgument, and an unknown group or trace
// is NotFound, the codes the TraceService answers the same QueryRequest with.
func (t Transformer) Transform(ctx context.Context, q *Query) (*tracev1.QueryRequest, error) {
	schema, err := t.schema(ctx, q)
	if err != nil {
		return nil, err
	}
	clock := t.Clock
	if clock == nil {
		clock = timestamp.RealClock()
	}
	// The server takes millisecond times: relative ones are whole milliseconds from now.
	now := clock.Now().Truncate(time.Millisecond)
	req := &tracev1.QueryRequest{Name: q.Trace.Text, Trace: q.QueryTrace}
	for _, g := range q.Groups {
		req.Groups = append(req.Groups, g.Text)
	}
	for _, s := range q.Stages {
		req.Stages = append(req.Stages, s.Text)
	}
	if q.Projection.All {
		req.TagProjection = append(req.TagProjection, schema.tags...)
	}
	for _, tag := range q.Projection.Tags {
		if _, ok := schema.types[tag.Text]; !ok {
			return nil, unknownTag(tag, schema.name)
		}
		req.TagProjection = append(req.TagProjection, tag.Text)
	}
	if req.TimeRange, err = timeRange(q.Time, now); err != nil {
		return nil, err
	}
	if q.Where != nil {
		if req.Criteria, err = schema.criteria(q.Where, now); err != nil {
			return nil, err
		}
	}
	if q.OrderBy != nil {
		if req.OrderBy, err = schema.order(q.OrderBy); err != nil {
			return nil, err
		}
	}
	if req.Limit, err = count(q.Limit); err != nil {
		return nil, err
	}
	if req.Offset, err = count(q.Offset); err != nil {
		return nil, err
	}
	return req, nil
}

// schema looks the trace up in every group of the query.
func (t Transformer) schema(ctx context.Context, q *Query) (*traceSchema, error) {
	s := &traceSchema{
		name:     q.Trace.Text,
		types:    make(map[string][]databasev1.TagType),
		rules:    make(map[string]bool),
		lastTags: make(map[string]string),
	}
	for _, g := range q.Groups {
		tr, rules, err := t.Lookup(ctx, g.Text, q.Trace.Text)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, &Error{Code: codes.NotFound, Msg: "trace " + g.Text + "/" + q.Trace.Text + " not found"}
			}
			if st, ok := status.FromError(err); ok {
				return nil, st.Err()
			}
			return nil, status.Error(codes.Internal, errors.Wrapf(err, "look up trace %s/%s", g.Text, q.Trace.Text).Error())
		}
		for _, tag := range tr.GetTags() {
			if _, ok := s.types[tag.GetName()]; !ok {
				s.tags = append(s.tags, tag.GetName())
			}
			s.types[tag.GetName()] = append(s.types[tag.GetName()], tag.GetType())
		}
		for _, r := range rules {
			s.rules[r.GetMetadata().GetName()] = true
			if tags := r.GetTags(); len(tags) > 0 {
				if _, ok := s.lastTags[tags[len(tags)-1]]; !ok {
					s.lastTags[tags[len(tags)-1]] = r.GetMetadata().GetName()
				}
			}
		}
	}
	return s, nil
}

func unknownTag(tag Name, trace string) error {
	return errorf(tag.Pos, "tag '%s' not found in trace %s", tag.Text, trace)
}

// epoch is the open begin of a TIME range, the front door's default begin.
var epoch = time.Unix(0, 0).UTC()

func timeRange(tc TimeCondition, now time.Time) (*modelv1.TimeRange, error) {
	begin, err := resolveTime(tc.Begin, now)
	if err != nil {
		return nil, err
	}
	lo, hi := epoch, timestamp.MaxMilli
	switch tc.Op {
	case TimeEQ:
		lo, hi = begin, begin
	case TimeGT, TimeGE:
		lo = begin
	case TimeLT, TimeLE:
		hi = begin
	case TimeBetween:
		end, err := resolveTime(tc.End, now)
		if err != nil {
			return nil, err
		}
		lo, hi = begin, end
	}
	return &modelv1.TimeRange{Begin: timestamppb.New(lo), End: timestamppb.New(hi)}, nil
}

// relativeTime reads a signed count of minutes, hours, days or weeks from now ('-30m', '2h').
func relativeTime(s string) (time.Duration, bool) {
	if len(s) < 2 {
		return 0, false
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'm', 'M':
		unit = time.Minute
	case 'h', 'H':
		unit = time.Hour
	case 'd', 'D':
		unit = 24 * time.Hour
	case 'w', 'W':
		unit = 7 * 24 * time.Hour
	default:
		return 0, false
	}
	digits, sign := s[:len(s)-1], time.Duration(1)
	switch digits[0] {
	case '-':
		sign, digits = -1, digits[1:]
	case '+':
		digits = digits[1:]
	}
	if digits == "" || len(digits) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return sign * time.Duration(n) * unit, true
}

// resolveTime reads a TIME operand: a bound timestamp, 'now', a relative '-30m' or an RFC 3339 time.
func resolveTime(v Value, now time.Time) (time.Time, error) {
	switch v.Kind {
	case ValueTimestamp:
		return v.Time, nil
	case ValueString:
		return parseTime(v.Str, v.Pos, now)
	case ValuePlaceholder:
		return time.Time{}, unbound(v)
	}
	return time.Time{}, errorf(v.Pos, "a time must be a quoted RFC 3339 time, 'now' or a relative time such as '-30m'")
}

func parseTime(s string, pos Pos, now time.Time) (time.Time, error) {
	if strings.EqualFold(s, "now") {
		return now, nil
	}
	if d, ok := relativeTime(s); ok {
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errorf(pos, "'%s' is neither an RFC 3339 time, 'now' nor a relative time such as '-30m'", s)
	}
	return t, nil
}

func unbound(v Value) error {
	return errorf(v.Pos, "placeholder %d is not bound: the statement needs its params", v.Index+1)
}

func count(v *Value) (uint32, error) {
	if v == nil {
		return 0, nil
	}
	switch v.Kind {
	case ValueInt:
		if err := checkCount("count", v.Int, v.Pos); err != nil {
			return 0, err
		}
		return uint32(v.Int), nil
	case ValuePlaceholder:
		return 0, unbound(*v)
	}
	return 0, errorf(v.Pos, "LIMIT and OFFSET take an integer")
}

func (s *traceSchema) order(o *OrderBy) (*modelv1.QueryOrder, error) {
	rule := o.Rule.Text
	if !s.rules[rule] {
		// ORDER BY a tag orders by the bound rule whose sort tag it is.
		r, ok := s.lastTags[rule]
		if !ok {
			return nil, errorf(o.Rule.Pos, "index rule '%s' is not bound to trace %s", rule, s.name)
		}
		rule = r
	}
	out := &modelv1.QueryOrder{IndexRuleName: rule}
	switch o.Dir {
	case SortAsc:
		out.Sort = modelv1.Sort_SORT_ASC
	case SortDesc:
		out.Sort = modelv1.Sort_SORT_DESC
	}
	return out, nil
}

func (s *traceSchema) criteria(e Expr, now time.Time) (*modelv1.Criteria, error) {
	switch x := e.(type) {
	case *Logical:
		left, err := s.criteria(x.Left, now)
		if err != nil {
			return nil, err
		}
		right, err := s.criteria(x.Right, now)
		if err != nil {
			return nil, err
		}
		op := modelv1.LogicalExpression_LOGICAL_OP_AND
		if x.Op == Or {
			op = modelv1.LogicalExpression_LOGICAL_OP_OR
		}
		return &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{Op: op, Left: left, Right: right}}}, nil
	case *Condition:
		c, err := s.condition(x, now)
		if err != nil {
			return nil, err
		}
		return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: c}}, nil
	}
	return nil, errorf(e.Position(), "unknown criteria")
}

var binaryOps = map[CondOp]modelv1.Condition_BinaryOp{
	OpEQ: modelv1.Condition_BINARY_OP_EQ, OpNE: modelv1.Condition_BINARY_OP_NE,
	OpGT: modelv1.Condition_BINARY_OP_GT, OpLT: modelv1.Condition_BINARY_OP_LT,
	OpGE: modelv1.Condition_BINARY_OP_GE, OpLE: modelv1.Condition_BINARY_OP_LE,
	OpIn: modelv1.Condition_BINARY_OP_IN, OpNotIn: modelv1.Condition_BINARY_OP_NOT_IN,
	OpHaving: modelv1.Condition_BINARY_OP_HAVING, OpNotHaving: modelv1.Condition_BINARY_OP_NOT_HAVING,
	OpMatch: modelv1.Condition_BINARY_OP_MATCH,
}

func (s *traceSchema) condition(c *Condition, now time.Time) (*modelv1.Condition, error) {
	types, ok := s.types[c.Tag.Text]
	if !ok {
		return nil, unknownTag(c.Tag, s.name)
	}
	out := &modelv1.Condition{Name: c.Tag.Text, Op: binaryOps[c.Op]}
	var err error
	if c.Op.isList() {
		out.Value, err = s.list(c, types)
	} else {
		out.Value, err = s.operand(c.Tag, c.Values[0], types, now)
	}
	if err != nil {
		return nil, err
	}
	if c.Analyzer != nil {
		switch c.Analyzer.Kind {
		case ValueString:
			out.MatchOption = &modelv1.Condition_MatchOption{Analyzer: c.Analyzer.Str}
		case ValuePlaceholder:
			return nil, unbound(*c.Analyzer)
		default:
			return nil, errorf(c.Analyzer.Pos, "a MATCH analyzer is a quoted name")
		}
	}
	return out, nil
}

// has reports whether one of the tag's types is among want.
func has(types []databasev1.TagType, want ...databasev1.TagType) bool {
	for _, t := range types {
		for _, w := range want {
			if t == w {
				return true
			}
		}
	}
	return false
}

func typeNames(types []databasev1.TagType) string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = strings.TrimPrefix(t.String(), "TAG_TYPE_")
	}
	return strings.Join(names, " or ")
}

func mismatch(tag Name, types []databasev1.TagType, v Value, what string) error {
	return errorf(v.Pos, "tag '%s' is %s, but the value is %s", tag.Text, typeNames(types), what)
}

const (
	tagString = databasev1.TagType_TAG_TYPE_STRING
	tagInt    = databasev1.TagType_TAG_TYPE_INT
	tagStrs   = databasev1.TagType_TAG_TYPE_STRING_ARRAY
	tagInts   = databasev1.TagType_TAG_TYPE_INT_ARRAY
	tagTime   = databasev1.TagType_TAG_TYPE_TIMESTAMP
)

// operand is the one value of a comparison or a MATCH.
func (s *traceSchema) operand(tag Name, v Value, types []databasev1.TagType, now time.Time) (*modelv1.TagValue, error) {
	switch v.Kind {
	case ValueNull:
		return &modelv1.TagValue{Value: &modelv1.TagValue_Null{Null: structpb.NullValue_NULL_VALUE}}, nil
	case ValueString:
		if has(types, tagString, tagStrs) {
			return strValue(v.Str), nil
		}
		if has(types, tagTime) {
			t, err := parseTime(v.Str, v.Pos, now)
			if err != nil {
				return nil, err
			}
			return &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(t)}}, nil
		}
		return nil, mismatch(tag, types, v, "a string")
	case ValueInt:
		if has(types, tagInt, tagInts) {
			return intValue(v.Int), nil
		}
		return nil, mismatch(tag, types, v, "an integer")
	case ValueStringArray:
		if has(types, tagString, tagStrs) {
			return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: v.Strs}}}, nil
		}
		return nil, mismatch(tag, types, v, "a str_array")
	case ValueIntArray:
		if has(types, tagInt, tagInts) {
			return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: v.Ints}}}, nil
		}
		return nil, mismatch(tag, types, v, "an int_array")
	case ValuePlaceholder:
		return nil, unbound(v)
	}
	return nil, mismatch(tag, types, v, "a timestamp")
}

// list is the array operand of IN and HAVING: a str_array of strings or an int_array of integers.
func (s *traceSchema) list(c *Condition, types []databasev1.TagType) (*modelv1.TagValue, error) {
	var strs []string
	var ints []int64
	for _, v := range c.Values {
		switch v.Kind {
		case ValueString:
			if !has(types, tagString, tagStrs) {
				return nil, mismatch(c.Tag, types, v, "a string")
			}
			strs = append(strs, v.Str)
		case ValueInt:
			if !has(types, tagInt, tagInts) {
				return nil, mismatch(c.Tag, types, v, "an integer")
			}
			ints = append(ints, v.Int)
		case ValueNull:
			return nil, errorf(v.Pos, "a list of %s on tag '%s' cannot hold NULL", c.Op, c.Tag.Text)
		case ValuePlaceholder:
			return nil, unbound(v)
		default:
			return nil, mismatch(c.Tag, types, v, "not a string or an integer")
		}
	}
	if strs != nil && ints != nil {
		return nil, errorf(c.Tag.Pos, "the list of %s on tag '%s' mixes strings and integers", c.Op, c.Tag.Text)
	}
	if ints != nil || (strs == nil && has(types, tagInt, tagInts) && !has(types, tagString, tagStrs)) {
		return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: ints}}}, nil
	}
	return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: strs}}}, nil
}

func strValue(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func intValue(n int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: n}}}
}
