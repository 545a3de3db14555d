// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"strings"

	"github.com/pkg/errors"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// ErrInvalidQuery marks a query the server refuses (an unknown tag, an unusable order, ...);
// the gRPC layer answers it with InvalidArgument.
var ErrInvalidQuery = errors.New("invalid query message")

func invalidQuery(format string, args ...any) error {
	return errors.Wrapf(ErrInvalidQuery, format, args...)
}

// spanView gives a filter the tag values of one span. known is false when the view does not carry
// that tag (an index entry carries only the indexed tags); the caller then reads the whole span.
type spanView interface {
	tagAt(pos int) (v *modelv1.TagValue, known bool)
}

// filter is a compiled criteria tree.
type filter interface {
	// match reports whether the span matches; ok is false if a needed tag is unknown to the view.
	match(v spanView) (matched, ok bool)
}

type andFilter struct{ left, right filter }

func (f andFilter) match(v spanView) (bool, bool) {
	l, ok := f.left.match(v)
	if !ok {
		return false, false
	}
	if !l {
		// The other side cannot change the outcome, but its tags may still be unknown: that is fine.
		return false, true
	}
	return f.right.match(v)
}

type orFilter struct{ left, right filter }

func (f orFilter) match(v spanView) (bool, bool) {
	l, ok := f.left.match(v)
	if !ok {
		return false, false
	}
	if l {
		return true, true
	}
	return f.right.match(v)
}

type matchAll struct{}

func (matchAll) match(spanView) (bool, bool) { return true, true }

// condFilter compares one tag with an operand.
type condFilter struct {
	operand *modelv1.TagValue
	set     map[string]struct{} // IN / NOT_IN over strings
	intSet  map[int64]struct{}  // IN / NOT_IN over ints
	pos     int
	op      modelv1.Condition_BinaryOp
	tagType databasev1.TagType
}

func (c *condFilter) match(v spanView) (bool, bool) {
	val, known := v.tagAt(c.pos)
	if !known {
		return false, false
	}
	return c.eval(val), true
}

func isNull(v *modelv1.TagValue) bool {
	if v == nil || v.GetValue() == nil {
		return true
	}
	_, isNullVal := v.GetValue().(*modelv1.TagValue_Null)
	return isNullVal
}

func (c *condFilter) eval(val *modelv1.TagValue) bool {
	null := isNull(val)
	switch c.op {
	case modelv1.Condition_BINARY_OP_EQ:
		return !null && compareValues(val, c.operand) == 0
	case modelv1.Condition_BINARY_OP_NE:
		return null || compareValues(val, c.operand) != 0
	case modelv1.Condition_BINARY_OP_LT:
		return !null && compareValues(val, c.operand) < 0
	case modelv1.Condition_BINARY_OP_LE:
		return !null && compareValues(val, c.operand) <= 0
	case modelv1.Condition_BINARY_OP_GT:
		return !null && compareValues(val, c.operand) > 0
	case modelv1.Condition_BINARY_OP_GE:
		return !null && compareValues(val, c.operand) >= 0
	case modelv1.Condition_BINARY_OP_IN:
		return !null && c.inSet(val)
	case modelv1.Condition_BINARY_OP_NOT_IN:
		return null || !c.inSet(val)
	case modelv1.Condition_BINARY_OP_HAVING:
		return !null && having(val, c.operand)
	case modelv1.Condition_BINARY_OP_NOT_HAVING:
		return null || !having(val, c.operand)
	}
	return false
}

func (c *condFilter) inSet(val *modelv1.TagValue) bool {
	switch x := val.GetValue().(type) {
	case *modelv1.TagValue_Str:
		_, ok := c.set[x.Str.GetValue()]
		return ok
	case *modelv1.TagValue_Int:
		_, ok := c.intSet[x.Int.GetValue()]
		return ok
	}
	return false
}

// having reports whether an array tag holds every value of the operand (an array, or one value).
func having(val, operand *modelv1.TagValue) bool {
	switch x := val.GetValue().(type) {
	case *modelv1.TagValue_StrArray:
		want := operand.GetStrArray().GetValue()
		if operand.GetStr() != nil {
			want = []string{operand.GetStr().GetValue()}
		}
		return holdsAll(x.StrArray.GetValue(), want)
	case *modelv1.TagValue_IntArray:
		want := operand.GetIntArray().GetValue()
		if operand.GetInt() != nil {
			want = []int64{operand.GetInt().GetValue()}
		}
		return holdsAll(x.IntArray.GetValue(), want)
	}
	return false
}

// holdsAll reports whether have holds every value of want.
func holdsAll[T comparable](have, want []T) bool {
	set := make(map[T]struct{}, len(have))
	for _, v := range have {
		set[v] = struct{}{}
	}
	for _, w := range want {
		if _, ok := set[w]; !ok {
			return false
		}
	}
	return true
}

// numeric returns the int64 form of an int or timestamp value (timestamps in unix nanos).
func numeric(v *modelv1.TagValue) (int64, bool) {
	switch x := v.GetValue().(type) {
	case *modelv1.TagValue_Int:
		return x.Int.GetValue(), true
	case *modelv1.TagValue_Timestamp:
		return x.Timestamp.AsTime().UnixNano(), true
	}
	return 0, false
}

// compareValues orders two values of the same kind; values of different kinds compare unequal.
func compareValues(a, b *modelv1.TagValue) int {
	if an, ok := numeric(a); ok {
		bn, ok := numeric(b)
		if !ok {
			return 2
		}
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	}
	switch x := a.GetValue().(type) {
	case *modelv1.TagValue_Str:
		if b.GetStr() == nil {
			return 2
		}
		return strings.Compare(x.Str.GetValue(), b.GetStr().GetValue())
	case *modelv1.TagValue_StrArray:
		bs := b.GetStrArray().GetValue()
		as := x.StrArray.GetValue()
		if b.GetStrArray() == nil || len(as) != len(bs) {
			return 2
		}
		for i := range as {
			if as[i] != bs[i] {
				return 2
			}
		}
		return 0
	case *modelv1.TagValue_IntArray:
		bs := b.GetIntArray().GetValue()
		as := x.IntArray.GetValue()
		if b.GetIntArray() == nil || len(as) != len(bs) {
			return 2
		}
		for i := range as {
			if as[i] != bs[i] {
				return 2
			}
		}
		return 0
	case *modelv1.TagValue_BinaryData:
		if b.GetBinaryData() == nil {
			return 2
		}
		return strings.Compare(string(x.BinaryData), string(b.GetBinaryData()))
	}
	return 2
}

// compileCriteria turns a criteria tree into a filter, checking every tag and operator against the schema.
func compileCriteria(c *modelv1.Criteria, tl tagLocator) (filter, error) {
	if c == nil || c.GetExp() == nil {
		return matchAll{}, nil
	}
	switch exp := c.GetExp().(type) {
	case *modelv1.Criteria_Le:
		le := exp.Le
		if le.GetLeft() == nil && le.GetRight() == nil {
			return matchAll{}, nil
		}
		left, err := compileCriteria(le.GetLeft(), tl)
		if err != nil {
			return nil, err
		}
		right, err := compileCriteria(le.GetRight(), tl)
		if err != nil {
			return nil, err
		}
		if le.GetLeft() == nil {
			return right, nil
		}
		if le.GetRight() == nil {
			return left, nil
		}
		switch le.GetOp() {
		case modelv1.LogicalExpression_LOGICAL_OP_AND:
			return andFilter{left: left, right: right}, nil
		case modelv1.LogicalExpression_LOGICAL_OP_OR:
			return orFilter{left: left, right: right}, nil
		}
		return nil, invalidQuery("logical operator %s is not supported", le.GetOp())
	case *modelv1.Criteria_Condition:
		return compileCondition(exp.Condition, tl)
	}
	return nil, invalidQuery("unknown criteria")
}

func compileCondition(cond *modelv1.Condition, tl tagLocator) (filter, error) {
	pos, ok := tl.positions[cond.GetName()]
	if !ok {
		return nil, invalidQuery("tag name '%s' not found in trace schema", cond.GetName())
	}
	tagType := tl.types[pos]
	c := &condFilter{pos: pos, op: cond.GetOp(), operand: cond.GetValue(), tagType: tagType}
	isArray := tagType == databasev1.TagType_TAG_TYPE_STRING_ARRAY || tagType == databasev1.TagType_TAG_TYPE_INT_ARRAY
	if isNull(cond.GetValue()) {
		return nil, invalidQuery("condition on tag '%s' has no value", cond.GetName())
	}
	switch cond.GetOp() {
	case modelv1.Condition_BINARY_OP_EQ, modelv1.Condition_BINARY_OP_NE:
		if pos == tl.traceIDPos && cond.GetValue().GetStrArray() != nil {
			// EQ with a list of trace ids reads as IN, as upstream accepts it.
			c.op = modelv1.Condition_BINARY_OP_IN
			if cond.GetOp() == modelv1.Condition_BINARY_OP_NE {
				c.op = modelv1.Condition_BINARY_OP_NOT_IN
			}
			c.set = stringSet(cond.GetValue().GetStrArray().GetValue())
		}
	case modelv1.Condition_BINARY_OP_LT, modelv1.Condition_BINARY_OP_LE, modelv1.Condition_BINARY_OP_GT, modelv1.Condition_BINARY_OP_GE:
		if isArray {
			return nil, invalidQuery("range condition is not supported for array tag '%s'", cond.GetName())
		}
	case modelv1.Condition_BINARY_OP_IN, modelv1.Condition_BINARY_OP_NOT_IN:
		if isArray {
			return nil, invalidQuery("in condition is not supported for array type tag '%s'", cond.GetName())
		}
		switch {
		case cond.GetValue().GetStrArray() != nil:
			c.set = stringSet(cond.GetValue().GetStrArray().GetValue())
		case cond.GetValue().GetIntArray() != nil:
			c.intSet = make(map[int64]struct{}, len(cond.GetValue().GetIntArray().GetValue()))
			for _, v := range cond.GetValue().GetIntArray().GetValue() {
				c.intSet[v] = struct{}{}
			}
		default:
			return nil, invalidQuery("in condition on tag '%s' needs an array value", cond.GetName())
		}
	case modelv1.Condition_BINARY_OP_HAVING, modelv1.Condition_BINARY_OP_NOT_HAVING:
		if !isArray {
			return nil, invalidQuery("having condition needs an array tag, '%s' is not one", cond.GetName())
		}
	default:
		return nil, invalidQuery("operator %s is not supported on traces", cond.GetOp())
	}
	return c, nil
}

func stringSet(values []string) map[string]struct{} {
	s := make(map[string]struct{}, len(values))
	for _, v := range values {
		s[v] = struct{}{}
	}
	return s
}

// collectTraceIDs returns the trace ids that every matching span must have, as named by EQ/IN
// conditions on the trace-id tag: AND intersects the ids of its sides, OR unites them when both
// sides name ids (an OR with a side that names none constrains nothing). nil when there are none.
func collectTraceIDs(c *modelv1.Criteria, tl tagLocator) []string {
	if c == nil {
		return nil
	}
	switch exp := c.GetExp().(type) {
	case *modelv1.Criteria_Le:
		// One side only: the operator joins nothing.
		if exp.Le.GetLeft() == nil {
			return collectTraceIDs(exp.Le.GetRight(), tl)
		}
		if exp.Le.GetRight() == nil {
			return collectTraceIDs(exp.Le.GetLeft(), tl)
		}
		left := collectTraceIDs(exp.Le.GetLeft(), tl)
		right := collectTraceIDs(exp.Le.GetRight(), tl)
		switch exp.Le.GetOp() {
		case modelv1.LogicalExpression_LOGICAL_OP_AND:
		case modelv1.LogicalExpression_LOGICAL_OP_OR:
			if left == nil || right == nil {
				return nil
			}
			// Duplicates are fine: the query by ids sorts and de-duplicates them.
			return append(append([]string{}, left...), right...)
		default:
			return nil
		}
		switch {
		case left == nil:
			return right
		case right == nil:
			return left
		}
		// Both sides constrain the id: only ids in both can match.
		in := stringSet(right)
		var out []string
		for _, id := range left {
			if _, ok := in[id]; ok {
				out = append(out, id)
			}
		}
		if out == nil {
			out = []string{}
		}
		return out
	case *modelv1.Criteria_Condition:
		cond := exp.Condition
		if pos, ok := tl.positions[cond.GetName()]; !ok || pos != tl.traceIDPos {
			return nil
		}
		switch cond.GetOp() {
		case modelv1.Condition_BINARY_OP_EQ, modelv1.Condition_BINARY_OP_IN:
			if s := cond.GetValue().GetStr(); s != nil {
				return []string{s.GetValue()}
			}
			if a := cond.GetValue().GetStrArray(); a != nil {
				ids := append([]string{}, a.GetValue()...)
				return ids
			}
		}
	}
	return nil
}

// collectStrValues returns the string values that the tag at pos must hold in every matching span,
// as named by EQ/IN conditions reached through ANDs (AND intersects); nil when nothing constrains it.
func collectStrValues(c *modelv1.Criteria, pos int, tl tagLocator) []string {
	if c == nil {
		return nil
	}
	switch exp := c.GetExp().(type) {
	case *modelv1.Criteria_Le:
		if exp.Le.GetLeft() == nil || exp.Le.GetRight() == nil {
			if exp.Le.GetLeft() == nil {
				return collectStrValues(exp.Le.GetRight(), pos, tl)
			}
			return collectStrValues(exp.Le.GetLeft(), pos, tl)
		}
		if exp.Le.GetOp() != modelv1.LogicalExpression_LOGICAL_OP_AND {
			return nil
		}
		left := collectStrValues(exp.Le.GetLeft(), pos, tl)
		right := collectStrValues(exp.Le.GetRight(), pos, tl)
		switch {
		case left == nil:
			return right
		case right == nil:
			return left
		}
		in := stringSet(right)
		out := []string{}
		for _, v := range left {
			if _, ok := in[v]; ok {
				out = append(out, v)
			}
		}
		return out
	case *modelv1.Criteria_Condition:
		cond := exp.Condition
		if p, ok := tl.positions[cond.GetName()]; !ok || p != pos {
			return nil
		}
		switch cond.GetOp() {
		case modelv1.Condition_BINARY_OP_EQ:
			if s := cond.GetValue().GetStr(); s != nil {
				return []string{s.GetValue()}
			}
		case modelv1.Condition_BINARY_OP_IN:
			if a := cond.GetValue().GetStrArray(); a != nil {
				return append([]string{}, a.GetValue()...)
			}
		}
	}
	return nil
}

// keyBounds narrows [lo, hi] by the range conditions on the sort tag reached through AND only.
func keyBounds(c *modelv1.Criteria, tl tagLocator, sortPos int, lo, hi int64) (int64, int64) {
	if c == nil {
		return lo, hi
	}
	switch exp := c.GetExp().(type) {
	case *modelv1.Criteria_Le:
		if exp.Le.GetOp() != modelv1.LogicalExpression_LOGICAL_OP_AND {
			return lo, hi
		}
		lo, hi = keyBounds(exp.Le.GetLeft(), tl, sortPos, lo, hi)
		return keyBounds(exp.Le.GetRight(), tl, sortPos, lo, hi)
	case *modelv1.Criteria_Condition:
		cond := exp.Condition
		if pos, ok := tl.positions[cond.GetName()]; !ok || pos != sortPos {
			return lo, hi
		}
		v, ok := numeric(cond.GetValue())
		if !ok {
			return lo, hi
		}
		switch cond.GetOp() {
		case modelv1.Condition_BINARY_OP_EQ:
			lo, hi = maxInt(lo, v), minInt(hi, v)
		case modelv1.Condition_BINARY_OP_GT:
			if v < hi {
				lo = maxInt(lo, v+1)
			} else {
				// Nothing in [lo, hi] is above v. Not hi+1: at math.MaxInt64 that wraps to a full range.
				lo, hi = emptyRange()
			}
		case modelv1.Condition_BINARY_OP_GE:
			lo = maxInt(lo, v)
		case modelv1.Condition_BINARY_OP_LT:
			if v > lo {
				hi = minInt(hi, v-1)
			} else {
				// Nothing in [lo, hi] is below v. Not lo-1: at math.MinInt64 that wraps to a full range.
				lo, hi = emptyRange()
			}
		case modelv1.Condition_BINARY_OP_LE:
			hi = minInt(hi, v)
		}
	}
	return lo, hi
}

// emptyRange is a key range that selects nothing; narrowing it further keeps it empty.
func emptyRange() (int64, int64) { return 1, 0 }

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func minInt(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}
