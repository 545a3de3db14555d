// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// Bounds of a query's criteria (docs/api.md, "Query limits"). A query past one of them is refused
// with InvalidArgument before any schema is consulted or any data read.
const (
	// maxCriteriaBytes bounds the encoded size of QueryRequest.criteria.
	maxCriteriaBytes = 256 << 10
	// maxCriteriaConditions bounds the number of conditions in the criteria tree. The planner
	// evaluates every condition on every index entry it scans (an OR of n conditions that match
	// nothing costs n comparisons per entry; each tag is decoded once per entry), so the bound
	// caps how much one request multiplies a scan.
	maxCriteriaConditions = 64
	// maxCriteriaDepth bounds the nesting of the criteria tree: a lone condition has depth 1, each
	// logical expression above it adds 1.
	maxCriteriaDepth = 64
	// maxConditionValues bounds the values of one condition's array operand (IN, NOT_IN, HAVING,
	// NOT_HAVING, and EQ/NE on the trace-id or an array tag).
	maxConditionValues = 4096
)

// traceSchemaOf returns the schema of the trace name in group, and false when there is none.
type traceSchemaOf func(group, name string) (*databasev1.Trace, bool)

// validateTraceQuery checks what a query asks for against the schema of its trace in each of its
// groups, before any work, and returns a gRPC status error (nil when the query may run):
//   - a group listed twice: InvalidArgument (a query names each group once);
//   - a group without the trace: NotFound;
//   - criteria past the bounds above: InvalidArgument;
//   - an empty criteria node (a Criteria with neither condition nor le, a LogicalExpression
//     without a left or a right side, or without an AND/OR operator): InvalidArgument;
//   - a condition without a tag name, an operator traces do not support, or no value;
//   - a condition on a tag some group's schema lacks, or whose value does not fit the tag's type
//     in some group (a string for an INT tag, an int for a STRING tag, a scalar where the operator
//     needs a list, a list where it needs a scalar): InvalidArgument naming the group and tag.
//
// It leaves to the query planner what it already checks there: the time range, the tag
// projection, the order_by index rule and the trace-id/span-id/timestamp tag names agreeing
// across groups (banyand/trace planQuery). The planner's compileCriteria repeats the tag, operator
// and null-value checks: they stay as a second line for internal callers.
func validateTraceQuery(req *tracev1.QueryRequest, schemaOf traceSchemaOf) error {
	if len(req.GetGroups()) == 0 {
		return status.Error(codes.InvalidArgument, "groups: at least one group is required")
	}
	if req.GetName() == "" {
		return status.Error(codes.InvalidArgument, "name: the trace name is required")
	}
	seen := make(map[string]struct{}, len(req.GetGroups()))
	for _, g := range req.GetGroups() {
		if _, dup := seen[g]; dup {
			return status.Errorf(codes.InvalidArgument, "groups: group %q is listed more than once", g)
		}
		seen[g] = struct{}{}
	}
	c := req.GetCriteria()
	if c != nil {
		if n := proto.Size(c); n > maxCriteriaBytes {
			return status.Errorf(codes.InvalidArgument,
				"criteria: %d bytes is over the limit of %d bytes; narrow the query", n, maxCriteriaBytes)
		}
		v := criteriaValidator{}
		if err := v.shape(c, 1, "criteria"); err != nil {
			return err
		}
	}
	schemas := make([]groupSchema, 0, len(req.GetGroups()))
	for _, g := range req.GetGroups() {
		s, ok := schemaOf(g, req.GetName())
		if !ok || s == nil {
			return status.Errorf(codes.NotFound, "trace %s/%s not found", g, req.GetName())
		}
		schemas = append(schemas, newGroupSchema(g, s))
	}
	if c == nil {
		return nil
	}
	return checkCriteriaTypes(c, schemas, "criteria")
}

// criteriaValidator walks a criteria tree for its shape and size.
type criteriaValidator struct {
	conditions int
}

// shape checks that every node of the tree is complete and that the tree stays within the
// bounds; it stops at the first node past a bound, so a huge tree costs no more than the bound.
func (v *criteriaValidator) shape(c *modelv1.Criteria, depth int, path string) error {
	if depth > maxCriteriaDepth {
		return status.Errorf(codes.InvalidArgument,
			"%s: criteria nested deeper than %d levels; flatten the query (IN lists take many values)", path, maxCriteriaDepth)
	}
	switch exp := c.GetExp().(type) {
	case *modelv1.Criteria_Le:
		le := exp.Le
		if le == nil {
			return status.Errorf(codes.InvalidArgument, "%s.le: empty logical expression", path)
		}
		switch le.GetOp() {
		case modelv1.LogicalExpression_LOGICAL_OP_AND, modelv1.LogicalExpression_LOGICAL_OP_OR:
		default:
			return status.Errorf(codes.InvalidArgument, "%s.le.op: %s is not AND or OR", path, le.GetOp())
		}
		if le.GetLeft() == nil {
			return status.Errorf(codes.InvalidArgument, "%s.le: the logical expression has no left side", path)
		}
		if le.GetRight() == nil {
			return status.Errorf(codes.InvalidArgument, "%s.le: the logical expression has no right side", path)
		}
		if err := v.shape(le.GetLeft(), depth+1, path+".le.left"); err != nil {
			return err
		}
		return v.shape(le.GetRight(), depth+1, path+".le.right")
	case *modelv1.Criteria_Condition:
		v.conditions++
		if v.conditions > maxCriteriaConditions {
			return status.Errorf(codes.InvalidArgument,
				"criteria: more than %d conditions; narrow the query (IN lists take many values)", maxCriteriaConditions)
		}
		return conditionShape(exp.Condition, path+".condition")
	}
	return status.Errorf(codes.InvalidArgument, "%s: empty criteria: it has neither a condition nor a logical expression", path)
}

// conditionShape checks what a condition must have whatever the schema.
func conditionShape(cond *modelv1.Condition, path string) error {
	if cond == nil {
		return status.Errorf(codes.InvalidArgument, "%s: empty condition", path)
	}
	if cond.GetName() == "" {
		return status.Errorf(codes.InvalidArgument, "%s.name: the tag name is required", path)
	}
	switch cond.GetOp() {
	case modelv1.Condition_BINARY_OP_EQ, modelv1.Condition_BINARY_OP_NE,
		modelv1.Condition_BINARY_OP_LT, modelv1.Condition_BINARY_OP_GT,
		modelv1.Condition_BINARY_OP_LE, modelv1.Condition_BINARY_OP_GE,
		modelv1.Condition_BINARY_OP_HAVING, modelv1.Condition_BINARY_OP_NOT_HAVING,
		modelv1.Condition_BINARY_OP_IN, modelv1.Condition_BINARY_OP_NOT_IN:
	default:
		return status.Errorf(codes.InvalidArgument, "%s.op: operator %s is not supported on traces", path, cond.GetOp())
	}
	kind := valueKindOf(cond.GetValue())
	if kind == kindNone {
		return status.Errorf(codes.InvalidArgument, "%s: condition on tag '%s' has no value", path, cond.GetName())
	}
	if n := arrayLen(cond.GetValue()); n > maxConditionValues {
		return status.Errorf(codes.InvalidArgument,
			"%s: condition on tag '%s' has %d values, over the limit of %d", path, cond.GetName(), n, maxConditionValues)
	}
	return nil
}

// groupSchema is what type checks need of one group's trace schema.
type groupSchema struct {
	group      string
	types      map[string]databasev1.TagType
	traceIDTag string
}

func newGroupSchema(group string, s *databasev1.Trace) groupSchema {
	gs := groupSchema{group: group, types: make(map[string]databasev1.TagType, len(s.GetTags())), traceIDTag: s.GetTraceIdTagName()}
	for _, t := range s.GetTags() {
		gs.types[t.GetName()] = t.GetType()
	}
	return gs
}

// checkCriteriaTypes checks every condition of a tree whose shape is valid against every group.
func checkCriteriaTypes(c *modelv1.Criteria, schemas []groupSchema, path string) error {
	switch exp := c.GetExp().(type) {
	case *modelv1.Criteria_Le:
		if err := checkCriteriaTypes(exp.Le.GetLeft(), schemas, path+".le.left"); err != nil {
			return err
		}
		return checkCriteriaTypes(exp.Le.GetRight(), schemas, path+".le.right")
	case *modelv1.Criteria_Condition:
		for _, s := range schemas {
			if err := s.checkCondition(exp.Condition, path+".condition"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCondition checks that the condition's tag exists in the group's schema and that its value
// fits the tag's type under its operator.
func (s groupSchema) checkCondition(cond *modelv1.Condition, path string) error {
	name := cond.GetName()
	tagType, ok := s.types[name]
	if !ok {
		return status.Errorf(codes.InvalidArgument, "%s: tag name '%s' not found in trace schema (group %s)", path, name, s.group)
	}
	kind := valueKindOf(cond.GetValue())
	want := wantedKinds(cond.GetOp(), tagType, name == s.traceIDTag)
	if len(want) == 0 {
		return status.Errorf(codes.InvalidArgument, "%s: operator %s does not apply to tag '%s' of type %s (group %s)",
			path, cond.GetOp(), name, tagType, s.group)
	}
	for _, k := range want {
		if k == kind {
			return nil
		}
	}
	return status.Errorf(codes.InvalidArgument, "%s: tag '%s' is %s in group %s: %s takes %s, not %s",
		path, name, tagType, s.group, cond.GetOp(), describeKinds(want), kind)
}

// valueKind is the variant a TagValue holds.
type valueKind int

const (
	kindNone valueKind = iota
	kindStr
	kindInt
	kindStrArray
	kindIntArray
	kindBinary
	kindTimestamp
)

func (k valueKind) String() string {
	switch k {
	case kindStr:
		return "a string"
	case kindInt:
		return "an int"
	case kindStrArray:
		return "a string array"
	case kindIntArray:
		return "an int array"
	case kindBinary:
		return "binary data"
	case kindTimestamp:
		return "a timestamp"
	}
	return "no value"
}

func valueKindOf(v *modelv1.TagValue) valueKind {
	switch x := v.GetValue().(type) {
	case *modelv1.TagValue_Str:
		if x.Str != nil {
			return kindStr
		}
	case *modelv1.TagValue_Int:
		if x.Int != nil {
			return kindInt
		}
	case *modelv1.TagValue_StrArray:
		if x.StrArray != nil {
			return kindStrArray
		}
	case *modelv1.TagValue_IntArray:
		if x.IntArray != nil {
			return kindIntArray
		}
	case *modelv1.TagValue_BinaryData:
		return kindBinary
	case *modelv1.TagValue_Timestamp:
		if x.Timestamp != nil {
			return kindTimestamp
		}
	}
	return kindNone
}

func arrayLen(v *modelv1.TagValue) int {
	switch x := v.GetValue().(type) {
	case *modelv1.TagValue_StrArray:
		return len(x.StrArray.GetValue())
	case *modelv1.TagValue_IntArray:
		return len(x.IntArray.GetValue())
	}
	return 0
}

// scalarKinds and arrayKinds are the value variants of the tag types (API.md, enum TagType).
var (
	scalarKinds = map[databasev1.TagType]valueKind{
		databasev1.TagType_TAG_TYPE_STRING:      kindStr,
		databasev1.TagType_TAG_TYPE_INT:         kindInt,
		databasev1.TagType_TAG_TYPE_DATA_BINARY: kindBinary,
		databasev1.TagType_TAG_TYPE_TIMESTAMP:   kindTimestamp,
	}
	arrayKinds = map[databasev1.TagType]valueKind{
		databasev1.TagType_TAG_TYPE_STRING_ARRAY: kindStrArray,
		databasev1.TagType_TAG_TYPE_INT_ARRAY:    kindIntArray,
	}
)

// wantedKinds lists the value variants an operator takes on a tag of a type; none when the
// operator does not apply to that type at all.
func wantedKinds(op modelv1.Condition_BinaryOp, tagType databasev1.TagType, traceIDTag bool) []valueKind {
	switch op {
	case modelv1.Condition_BINARY_OP_EQ, modelv1.Condition_BINARY_OP_NE:
		if k, ok := scalarKinds[tagType]; ok {
			if traceIDTag && k == kindStr {
				// EQ with a list of trace ids reads as IN, as upstream accepts it.
				return []valueKind{kindStr, kindStrArray}
			}
			return []valueKind{k}
		}
		if k, ok := arrayKinds[tagType]; ok {
			// The whole array equals the operand, in order.
			return []valueKind{k}
		}
	case modelv1.Condition_BINARY_OP_LT, modelv1.Condition_BINARY_OP_GT,
		modelv1.Condition_BINARY_OP_LE, modelv1.Condition_BINARY_OP_GE:
		if k, ok := scalarKinds[tagType]; ok {
			return []valueKind{k}
		}
	case modelv1.Condition_BINARY_OP_IN, modelv1.Condition_BINARY_OP_NOT_IN:
		switch tagType {
		case databasev1.TagType_TAG_TYPE_STRING:
			return []valueKind{kindStrArray}
		case databasev1.TagType_TAG_TYPE_INT:
			return []valueKind{kindIntArray}
		}
	case modelv1.Condition_BINARY_OP_HAVING, modelv1.Condition_BINARY_OP_NOT_HAVING:
		switch tagType {
		case databasev1.TagType_TAG_TYPE_STRING_ARRAY:
			return []valueKind{kindStrArray, kindStr}
		case databasev1.TagType_TAG_TYPE_INT_ARRAY:
			return []valueKind{kindIntArray, kindInt}
		}
	}
	return nil
}

func describeKinds(kinds []valueKind) string {
	if len(kinds) == 1 {
		return kinds[0].String()
	}
	out := kinds[0].String()
	for _, k := range kinds[1:] {
		out = fmt.Sprintf("%s or %s", out, k)
	}
	return out
}
