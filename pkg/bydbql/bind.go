// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// slot is the kind of value position a placeholder stands in; it decides which params fit.
type slot int

const (
	slotTime slot = iota
	slotScalar
	slotList
	slotAnalyzer
	slotCount
)

// accepts names the param kinds a slot takes, for error messages.
func (s slot) accepts() string {
	switch s {
	case slotTime:
		return "a TIME value takes str or timestamp"
	case slotScalar:
		return "a comparison takes str, int or null"
	case slotList:
		return "an IN, HAVING or MATCH list takes str, int, null, str_array or int_array"
	case slotAnalyzer:
		return "a MATCH analyzer takes str"
	}
	return "LIMIT and OFFSET take int"
}

// binder replaces the placeholders of a query by its params.
type binder struct {
	params []*modelv1.TagValue
}

// Bind returns a copy of q whose `?` placeholders are replaced, in order of appearance, by
// params; q itself is not changed, so one parsed statement can be bound many times. A param is
// only ever a value: binding cannot change the shape of the query. The refusals (InvalidArgument):
// a count of params other than the count of placeholders, a param with no value, binary_data, or
// a param of a kind its position does not take (see API.md §11: TIME takes str or timestamp,
// comparisons str, int or null, lists also str_array and int_array, which expand in place, and
// LIMIT/OFFSET an int in [0, 4294967295]).
func Bind(q *Query, params []*modelv1.TagValue) (*Query, error) {
	if q.Placeholders != len(params) {
		return nil, errorf(Pos{}, "the statement has %d ? placeholders but %d params were given", q.Placeholders, len(params))
	}
	if len(params) == 0 {
		return q, nil
	}
	b := binder{params: params}
	out := *q
	var err error
	if out.Time.Begin, err = b.scalar(q.Time.Begin, slotTime); err != nil {
		return nil, err
	}
	if q.Time.Op == TimeBetween {
		if out.Time.End, err = b.scalar(q.Time.End, slotTime); err != nil {
			return nil, err
		}
	}
	if q.Where != nil {
		if out.Where, err = b.expr(q.Where); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct {
		from *Value
		to   **Value
	}{{q.Limit, &out.Limit}, {q.Offset, &out.Offset}} {
		if c.from == nil {
			continue
		}
		v, err := b.scalar(*c.from, slotCount)
		if err != nil {
			return nil, err
		}
		*c.to = &v
	}
	return &out, nil
}

func (b binder) expr(e Expr) (Expr, error) {
	switch x := e.(type) {
	case *Logical:
		left, err := b.expr(x.Left)
		if err != nil {
			return nil, err
		}
		right, err := b.expr(x.Right)
		if err != nil {
			return nil, err
		}
		return &Logical{Op: x.Op, Left: left, Right: right, Pos: x.Pos}, nil
	case *Condition:
		out := &Condition{Tag: x.Tag, Op: x.Op}
		list := x.Op.isList() || x.Op == OpMatch
		for _, v := range x.Values {
			if !list {
				bound, err := b.scalar(v, slotScalar)
				if err != nil {
					return nil, err
				}
				out.Values = append(out.Values, bound)
				continue
			}
			bound, err := b.scalar(v, slotList)
			if err != nil {
				return nil, err
			}
			if x.Op.isList() {
				out.Values = append(out.Values, expand(bound)...)
			} else {
				out.Values = append(out.Values, bound)
			}
		}
		if x.Analyzer != nil {
			a, err := b.scalar(*x.Analyzer, slotAnalyzer)
			if err != nil {
				return nil, err
			}
			out.Analyzer = &a
		}
		return out, nil
	}
	return e, nil
}

// expand turns an array value into one value per element, at the array's place.
func expand(v Value) []Value {
	switch v.Kind {
	case ValueStringArray:
		out := make([]Value, len(v.Strs))
		for i, s := range v.Strs {
			out[i] = Value{Kind: ValueString, Str: s, Pos: v.Pos, Index: v.Index}
		}
		return out
	case ValueIntArray:
		out := make([]Value, len(v.Ints))
		for i, n := range v.Ints {
			out[i] = Value{Kind: ValueInt, Int: n, Pos: v.Pos, Index: v.Index}
		}
		return out
	}
	return []Value{v}
}

// scalar binds v if it is a placeholder; literals are returned as they are.
func (b binder) scalar(v Value, s slot) (Value, error) {
	if v.Kind != ValuePlaceholder {
		return v, nil
	}
	p := b.params[v.Index]
	out := Value{Pos: v.Pos, Index: v.Index}
	refuse := func(kind string) (Value, error) {
		return Value{}, errorf(v.Pos, "param %d is %s, but %s", v.Index+1, kind, s.accepts())
	}
	switch x := p.GetValue().(type) {
	case nil:
		return Value{}, errorf(v.Pos, "param %d has no value", v.Index+1)
	case *modelv1.TagValue_BinaryData:
		return Value{}, errorf(v.Pos, "param %d is binary_data, which no position accepts", v.Index+1)
	case *modelv1.TagValue_Str:
		if s == slotCount {
			return refuse("a str")
		}
		out.Kind, out.Str = ValueString, x.Str.GetValue()
	case *modelv1.TagValue_Int:
		switch s {
		case slotTime, slotAnalyzer:
			return refuse("an int")
		case slotCount:
			if err := checkCount("param", x.Int.GetValue(), v.Pos); err != nil {
				return Value{}, err
			}
		}
		out.Kind, out.Int = ValueInt, x.Int.GetValue()
	case *modelv1.TagValue_Null:
		if s != slotScalar && s != slotList {
			return refuse("null")
		}
		out.Kind = ValueNull
	case *modelv1.TagValue_StrArray:
		if s != slotList {
			return refuse("a str_array")
		}
		out.Kind, out.Strs = ValueStringArray, append([]string(nil), x.StrArray.GetValue()...)
	case *modelv1.TagValue_IntArray:
		if s != slotList {
			return refuse("an int_array")
		}
		out.Kind, out.Ints = ValueIntArray, append([]int64(nil), x.IntArray.GetValue()...)
	case *modelv1.TagValue_Timestamp:
		if s != slotTime {
			return refuse("a timestamp")
		}
		if err := x.Timestamp.CheckValid(); err != nil {
			return Value{}, errorf(v.Pos, "param %d is not a valid timestamp: %v", v.Index+1, err)
		}
		out.Kind, out.Time = ValueTimestamp, x.Timestamp.AsTime()
	default:
		return refuse("of an unknown kind")
	}
	return out, nil
}
