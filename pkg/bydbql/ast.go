// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"time"
)

// Name is an identifier (a trace, group, tag, stage or index rule name) with its place.
type Name struct {
	Text string
	Pos  Pos
}

// ValueKind is what a Value holds.
type ValueKind int

// The kinds of values. A parsed statement holds strings, integers, NULL and placeholders; after
// Bind it holds no placeholders, and may hold arrays and timestamps bound from params.
const (
	ValueString ValueKind = iota + 1
	ValueInt
	ValueNull
	ValuePlaceholder
	ValueStringArray
	ValueIntArray
	ValueTimestamp
)

// Value is a literal or a placeholder in a value position.
type Value struct {
	Time time.Time
	Str  string
	Strs []string
	Ints []int64
	Int  int64
	Pos  Pos
	Kind ValueKind
	// Index is the placeholder's number in order of appearance, from 0 (placeholders only).
	Index int
}

// Projection is the SELECT list.
type Projection struct {
	// Tags are the listed tags; empty for * and ().
	Tags []Name
	// All is true for *, every tag of the schema.
	All bool
}

// TimeOp is the comparison of a TIME condition.
type TimeOp int

// The TIME comparisons.
const (
	TimeEQ TimeOp = iota + 1
	TimeGT
	TimeGE
	TimeLT
	TimeLE
	TimeBetween
)

// TimeCondition is the TIME clause. Begin is the operand of every form; End is the second
// operand of BETWEEN.
type TimeCondition struct {
	Begin Value
	End   Value
	Op    TimeOp
}

// Expr is a node of the WHERE tree: *Logical or *Condition.
type Expr interface {
	// Position is where the node starts in the text.
	Position() Pos
}

// LogicalOp joins two criteria.
type LogicalOp int

// AND binds tighter than OR.
const (
	And LogicalOp = iota + 1
	Or
)

// Logical is `left AND right` or `left OR right`.
type Logical struct {
	Left  Expr
	Right Expr
	Pos   Pos
	Op    LogicalOp
}

// Position is where the left operand starts.
func (l *Logical) Position() Pos { return l.Pos }

// CondOp is the operator of a condition.
type CondOp int

// The condition operators.
const (
	OpEQ CondOp = iota + 1
	OpNE
	OpGT
	OpLT
	OpGE
	OpLE
	OpIn
	OpNotIn
	OpHaving
	OpNotHaving
	OpMatch
)

// String returns the operator as written.
func (o CondOp) String() string {
	switch o {
	case OpEQ:
		return "="
	case OpNE:
		return "!="
	case OpGT:
		return ">"
	case OpLT:
		return "<"
	case OpGE:
		return ">="
	case OpLE:
		return "<="
	case OpIn:
		return "IN"
	case OpNotIn:
		return "NOT IN"
	case OpHaving:
		return "HAVING"
	case OpNotHaving:
		return "NOT HAVING"
	case OpMatch:
		return "MATCH"
	}
	return "?"
}

// isList reports whether the operator takes a list of values.
func (o CondOp) isList() bool {
	return o == OpIn || o == OpNotIn || o == OpHaving || o == OpNotHaving
}

// Condition is `tag op value`, `tag [NOT] IN (values)`, `tag [NOT] HAVING values` or
// `tag MATCH (value [, analyzer])`.
type Condition struct {
	// Analyzer is MATCH's optional second operand; nil without one.
	Analyzer *Value
	Tag      Name
	// Values holds the one operand of a comparison or MATCH, or the list of IN and HAVING.
	Values []Value
	Op     CondOp
}

// Position is where the tag name starts.
func (c *Condition) Position() Pos { return c.Tag.Pos }

// SortDir is the direction of ORDER BY.
type SortDir int

// Without ASC or DESC the order is the server's default, as a QueryRequest with SORT_UNSPECIFIED.
const (
	SortDefault SortDir = iota
	SortAsc
	SortDesc
)

// OrderBy is the ORDER BY clause.
type OrderBy struct {
	Rule Name
	Dir  SortDir
}

// Query is a parsed SELECT ... FROM TRACE statement.
type Query struct {
	Where      Expr
	OrderBy    *OrderBy
	Limit      *Value
	Offset     *Value
	Trace      Name
	Groups     []Name
	Stages     []Name
	Projection Projection
	Time       TimeCondition
	// Placeholders is the number of `?` in the statement.
	Placeholders int
	QueryTrace   bool
}
