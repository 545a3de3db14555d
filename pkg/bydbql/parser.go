// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"math"
	"strconv"
	"strings"
)

// Limits that keep a hostile statement from costing more than a real one.
const (
	// MaxNesting is the deepest nesting of parentheses in WHERE.
	MaxNesting = 64
	// MaxConditions is the most conditions one WHERE may hold.
	MaxConditions = 1000
	// MaxStatementBytes is the longest statement accepted.
	MaxStatementBytes = 1 << 20
)

var (
	timeOps    = map[string]TimeOp{"=": TimeEQ, ">": TimeGT, ">=": TimeGE, "<": TimeLT, "<=": TimeLE}
	compareOps = map[string]CondOp{"=": OpEQ, "!=": OpNE, ">": OpGT, "<": OpLT, ">=": OpGE, "<=": OpLE}
)

// parser is a recursive-descent parser with one token of look-ahead.
type parser struct {
	lx           *lexer
	tok          token
	depth        int
	conditions   int
	placeholders int
}

// Parse parses one statement, optionally ended by `;`, into a Query. A syntax error is an *Error
// with code InvalidArgument and the place of the offending token: "line 2, column 18: expected
// TIME, found WHERE". A statement for a STREAM, MEASURE, PROPERTY or TOP-N is refused the same
// way: this server stores traces only.
func Parse(src string) (*Query, error) {
	if len(src) > MaxStatementBytes {
		return nil, errorf(Pos{}, "the statement is longer than %d bytes", MaxStatementBytes)
	}
	p := &parser{lx: newLexer(src)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tokSemicolon {
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.tok.kind != tokEOF {
		return nil, p.expected("end of statement")
	}
	q.Placeholders = p.placeholders
	return q, nil
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) expected(what string) error {
	return errorf(p.tok.pos, "expected %s, found %s", what, p.tok.describe())
}

func (p *parser) isKeyword(kw string) bool {
	return p.tok.kind == tokKeyword && p.tok.text == kw
}

// accept consumes the keyword if it is the current token.
func (p *parser) accept(kw string) (bool, error) {
	if !p.isKeyword(kw) {
		return false, nil
	}
	return true, p.advance()
}

func (p *parser) expectKeyword(kw string) error {
	if !p.isKeyword(kw) {
		return p.expected(kw)
	}
	return p.advance()
}

func (p *parser) expectKind(kind tokenKind, what string) (token, error) {
	t := p.tok
	if t.kind != kind {
		return t, p.expected(what)
	}
	return t, p.advance()
}

func (p *parser) name(what string) (Name, error) {
	if p.tok.kind == tokParam {
		return Name{}, errorf(p.tok.pos, "a ? placeholder cannot stand for %s: it only stands for a value", what)
	}
	t, err := p.expectKind(tokIdent, what)
	return Name{Text: t.text, Pos: t.pos}, err
}

// tracesOnly refuses a statement for another data model.
func tracesOnly(pos Pos, model string) error {
	return errorf(pos, "%s queries are not supported: this server stores traces only", model)
}

func (p *parser) query() (*Query, error) {
	if p.isKeyword("SHOW") {
		return nil, tracesOnly(p.tok.pos, "TOP-N")
	}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	if p.isKeyword("TOP") {
		return nil, tracesOnly(p.tok.pos, "TOP-N")
	}
	q := &Query{}
	var err error
	if q.Projection, err = p.projection(); err != nil {
		return nil, err
	}
	if err = p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	for _, model := range []string{"STREAM", "MEASURE", "PROPERTY"} {
		if p.isKeyword(model) {
			return nil, tracesOnly(p.tok.pos, model)
		}
	}
	if err = p.expectKeyword("TRACE"); err != nil {
		return nil, err
	}
	if q.Trace, err = p.name("a trace name"); err != nil {
		return nil, err
	}
	if err = p.expectKeyword("IN"); err != nil {
		return nil, err
	}
	if q.Groups, err = p.nameList("a group name"); err != nil {
		return nil, err
	}
	if ok, err := p.accept("ON"); err != nil {
		return nil, err
	} else if ok {
		if q.Stages, err = p.nameList("a stage name"); err != nil {
			return nil, err
		}
		if err = p.expectKeyword("STAGES"); err != nil {
			return nil, err
		}
	}
	if err = p.expectKeyword("TIME"); err != nil {
		return nil, err
	}
	if q.Time, err = p.timeCondition(); err != nil {
		return nil, err
	}
	if ok, err := p.accept("WHERE"); err != nil {
		return nil, err
	} else if ok {
		if q.Where, err = p.or(); err != nil {
			return nil, err
		}
	}
	if err = p.orderBy(q); err != nil {
		return nil, err
	}
	if err = p.limitOffset(q); err != nil {
		return nil, err
	}
	if ok, err := p.accept("WITH"); err != nil {
		return nil, err
	} else if ok {
		if err = p.expectKeyword("QUERY_TRACE"); err != nil {
			return nil, err
		}
		q.QueryTrace = true
	}
	return q, nil
}

func (p *parser) projection() (Projection, error) {
	switch p.tok.kind {
	case tokStar:
		return Projection{All: true}, p.advance()
	case tokLParen:
		if err := p.advance(); err != nil {
			return Projection{}, err
		}
		_, err := p.expectKind(tokRParen, ")")
		return Projection{}, err
	}
	tags, err := p.names("a tag name, * or ()")
	return Projection{Tags: tags}, err
}

// names is `name [, name]*`.
func (p *parser) names(what string) ([]Name, error) {
	var out []Name
	for {
		n, err := p.name(what)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if p.tok.kind != tokComma {
			return out, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		what = "a name"
	}
}

// nameList is `name [, name]*`, in parentheses or not.
func (p *parser) nameList(what string) ([]Name, error) {
	if p.tok.kind != tokLParen {
		return p.names(what)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	out, err := p.names(what)
	if err != nil {
		return nil, err
	}
	_, err = p.expectKind(tokRParen, ", or )")
	return out, err
}

func (p *parser) timeCondition() (TimeCondition, error) {
	var tc TimeCondition
	if ok, err := p.accept("BETWEEN"); err != nil {
		return tc, err
	} else if ok {
		tc.Op = TimeBetween
		var err error
		if tc.Begin, err = p.value("a time"); err != nil {
			return tc, err
		}
		if err = p.expectKeyword("AND"); err != nil {
			return tc, err
		}
		tc.End, err = p.value("a time")
		return tc, err
	}
	if p.tok.kind != tokOp || p.tok.text == "!=" {
		return tc, p.expected("=, >, <, >=, <= or BETWEEN")
	}
	tc.Op = timeOps[p.tok.text]
	if err := p.advance(); err != nil {
		return tc, err
	}
	var err error
	tc.Begin, err = p.value("a time")
	return tc, err
}

// value is a literal or a placeholder.
func (p *parser) value(what string) (Value, error) {
	t := p.tok
	v := Value{Pos: t.pos}
	switch t.kind {
	case tokString:
		v.Kind, v.Str = ValueString, t.text
	case tokInt:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return v, errorf(t.pos, "integer %s is out of the int64 range", t.text)
		}
		v.Kind, v.Int = ValueInt, n
	case tokParam:
		v.Kind, v.Index = ValuePlaceholder, p.placeholders
		p.placeholders++
	case tokKeyword:
		if t.text != "NULL" {
			return v, p.expected(what)
		}
		v.Kind = ValueNull
	default:
		return v, p.expected(what)
	}
	return v, p.advance()
}

// or is `and [OR and]*`.
func (p *parser) or() (Expr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: Or, Left: left, Right: right, Pos: left.Position()}
	}
	return left, nil
}

// and is `primary [AND primary]*`.
func (p *parser) and() (Expr, error) {
	left, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.primary()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: And, Left: left, Right: right, Pos: left.Position()}
	}
	return left, nil
}

// primary is `( criteria )` or a condition.
func (p *parser) primary() (Expr, error) {
	if p.tok.kind != tokLParen {
		return p.condition()
	}
	if p.depth >= MaxNesting {
		return nil, errorf(p.tok.pos, "parentheses nest deeper than %d levels", MaxNesting)
	}
	p.depth++
	if err := p.advance(); err != nil {
		return nil, err
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if _, err := p.expectKind(tokRParen, "AND, OR or )"); err != nil {
		return nil, err
	}
	p.depth--
	return e, nil
}

func (p *parser) condition() (Expr, error) {
	tag, err := p.name("a tag name or (")
	if err != nil {
		return nil, err
	}
	p.conditions++
	if p.conditions > MaxConditions {
		return nil, errorf(tag.Pos, "WHERE holds more than %d conditions", MaxConditions)
	}
	c := &Condition{Tag: tag}
	if p.tok.kind == tokOp {
		c.Op = compareOps[p.tok.text]
		if err := p.advance(); err != nil {
			return nil, err
		}
		v, err := p.value("a value")
		if err != nil {
			return nil, err
		}
		c.Values = []Value{v}
		return c, nil
	}
	not, err := p.accept("NOT")
	if err != nil {
		return nil, err
	}
	switch {
	case p.isKeyword("IN"):
		c.Op = OpIn
		if not {
			c.Op = OpNotIn
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if c.Values, err = p.valueList(); err != nil {
			return nil, err
		}
	case p.isKeyword("HAVING"):
		c.Op = OpHaving
		if not {
			c.Op = OpNotHaving
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokLParen {
			c.Values, err = p.valueList()
		} else {
			var v Value
			v, err = p.value("a value or (")
			c.Values = []Value{v}
		}
		if err != nil {
			return nil, err
		}
	case p.isKeyword("MATCH") && !not:
		c.Op = OpMatch
		if err := p.advance(); err != nil {
			return nil, err
		}
		if _, err := p.expectKind(tokLParen, "("); err != nil {
			return nil, err
		}
		v, err := p.value("a value")
		if err != nil {
			return nil, err
		}
		c.Values = []Value{v}
		if p.tok.kind == tokComma {
			if err := p.advance(); err != nil {
				return nil, err
			}
			a, err := p.value("an analyzer")
			if err != nil {
				return nil, err
			}
			c.Analyzer = &a
		}
		if _, err := p.expectKind(tokRParen, ", or )"); err != nil {
			return nil, err
		}
	case not:
		return nil, p.expected("IN or HAVING")
	default:
		return nil, p.expected("=, !=, >, <, >=, <=, IN, NOT IN, HAVING, NOT HAVING or MATCH")
	}
	return c, nil
}

// valueList is `( value [, value]* )`.
func (p *parser) valueList() ([]Value, error) {
	if _, err := p.expectKind(tokLParen, "("); err != nil {
		return nil, err
	}
	var out []Value
	for {
		v, err := p.value("a value")
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if p.tok.kind == tokRParen {
			return out, p.advance()
		}
		if _, err := p.expectKind(tokComma, ", or )"); err != nil {
			return nil, err
		}
	}
}

func (p *parser) orderBy(q *Query) error {
	if ok, err := p.accept("ORDER"); err != nil || !ok {
		return err
	}
	if err := p.expectKeyword("BY"); err != nil {
		return err
	}
	rule, err := p.name("an index rule name")
	if err != nil {
		return err
	}
	q.OrderBy = &OrderBy{Rule: rule}
	switch {
	case p.isKeyword("ASC"):
		q.OrderBy.Dir = SortAsc
		return p.advance()
	case p.isKeyword("DESC"):
		q.OrderBy.Dir = SortDesc
		return p.advance()
	}
	return nil
}

// limitOffset reads LIMIT and OFFSET, each at most once, in either order.
func (p *parser) limitOffset(q *Query) error {
	for p.isKeyword("LIMIT") || p.isKeyword("OFFSET") {
		kw := p.tok
		target := &q.Limit
		if kw.text == "OFFSET" {
			target = &q.Offset
		}
		if *target != nil {
			return errorf(kw.pos, "%s is given twice", kw.text)
		}
		if err := p.advance(); err != nil {
			return err
		}
		if p.tok.kind != tokInt && p.tok.kind != tokParam {
			return p.expected("a count after " + kw.text)
		}
		v, err := p.value("a count")
		if err != nil {
			return err
		}
		if v.Kind == ValueInt {
			if err := checkCount(strings.ToUpper(kw.text), v.Int, v.Pos); err != nil {
				return err
			}
		}
		*target = &v
	}
	return nil
}

// checkCount accepts a LIMIT or OFFSET in the range of the request's uint32 field.
func checkCount(what string, n int64, pos Pos) error {
	if n < 0 || n > math.MaxUint32 {
		return errorf(pos, "%s %d is out of the range [0, %d]", what, n, uint32(math.MaxUint32))
	}
	return nil
}
