// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind is the lexical class of a token.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokKeyword
	tokString
	tokInt
	tokParam
	tokStar
	tokLParen
	tokRParen
	tokComma
	tokSemicolon
	tokOp
)

// token is one lexeme with its place. For keywords text is upper case; for strings it is the
// unquoted value; for operators it is the operator ("=", "!=", ">=", ...).
type token struct {
	text string
	pos  Pos
	kind tokenKind
}

// describe names the token in an error message ("found ...").
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of statement"
	case tokString:
		return "'" + t.text + "'"
	case tokParam:
		return "?"
	}
	return t.text
}

// keywords are the reserved words, matched in any case.
var keywords = map[string]bool{
	"SELECT": true, "FROM": true, "TRACE": true, "IN": true, "ON": true, "STAGES": true, "TIME": true,
	"BETWEEN": true, "AND": true, "OR": true, "WHERE": true, "ORDER": true, "BY": true, "ASC": true,
	"DESC": true, "LIMIT": true, "OFFSET": true, "WITH": true, "QUERY_TRACE": true, "NOT": true,
	"HAVING": true, "MATCH": true, "NULL": true, "STREAM": true, "MEASURE": true, "PROPERTY": true,
	"SHOW": true, "TOP": true,
}

// keywordNames maps each keyword to itself, so that a lookup returns a string that outlives it.
var keywordNames = func() map[string]string {
	m := make(map[string]string, len(keywords))
	for k := range keywords {
		m[k] = k
	}
	return m
}()

// keyword returns the upper-case keyword a name spells, without allocating for names that are
// not keywords.
func keyword(text string) (string, bool) {
	var buf [16]byte
	if len(text) > len(buf) {
		return "", false
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	kw, ok := keywordNames[string(buf[:len(text)])]
	return kw, ok
}

// lexer turns a statement into tokens one at a time; it never holds more than the current one.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func newLexer(src string) *lexer {
	return &lexer{src: src, line: 1, col: 1}
}

// peekRune returns the rune at the offset ahead of the current one, or -1 past the end.
func (l *lexer) peekRune(ahead int) rune {
	off := l.off
	for i := 0; i < ahead; i++ {
		if off >= len(l.src) {
			return -1
		}
		_, n := utf8.DecodeRuneInString(l.src[off:])
		off += n
	}
	if off >= len(l.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(l.src[off:])
	return r
}

// advance consumes one rune, keeping line and column.
func (l *lexer) advance() rune {
	r, n := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

func (l *lexer) pos() Pos { return Pos{Line: l.line, Column: l.col} }

// skipSpace skips white space and `--` comments up to the end of their line.
func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		r := l.peekRune(0)
		switch {
		case unicode.IsSpace(r):
			l.advance()
		case r == '-' && l.peekRune(1) == '-':
			for l.off < len(l.src) && l.peekRune(0) != '\n' {
				l.advance()
			}
		default:
			return
		}
	}
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentPart(r rune) bool {
	return r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// next returns the next token, or an error for a character that starts no token.
func (l *lexer) next() (token, error) {
	l.skipSpace()
	start := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	r := l.peekRune(0)
	switch {
	case isIdentStart(r):
		begin := l.off
		for l.off < len(l.src) {
			c := l.peekRune(0)
			// "name--comment": the comment starts at the first "--".
			if !isIdentPart(c) || (c == '-' && l.peekRune(1) == '-') {
				break
			}
			l.advance()
		}
		text := l.src[begin:l.off]
		// A name ends with a letter, digit or underscore: "a-" leaves the "-" to the next token.
		for strings.HasSuffix(text, "-") {
			text = text[:len(text)-1]
			l.off--
			l.col--
		}
		if kw, ok := keyword(text); ok {
			return token{kind: tokKeyword, text: kw, pos: start}, nil
		}
		return token{kind: tokIdent, text: text, pos: start}, nil
	case isDigit(r) || (r == '-' && isDigit(l.peekRune(1))):
		begin := l.off
		l.advance()
		for l.off < len(l.src) && isDigit(l.peekRune(0)) {
			l.advance()
		}
		if l.off < len(l.src) && isIdentStart(l.peekRune(0)) {
			return token{}, errorf(start, "malformed number %q", l.src[begin:l.off]+string(l.peekRune(0)))
		}
		return token{kind: tokInt, text: l.src[begin:l.off], pos: start}, nil
	case r == '\'' || r == '"':
		return l.quoted(start)
	}
	l.advance()
	switch r {
	case '?':
		return token{kind: tokParam, text: "?", pos: start}, nil
	case '*':
		return token{kind: tokStar, text: "*", pos: start}, nil
	case '(':
		return token{kind: tokLParen, text: "(", pos: start}, nil
	case ')':
		return token{kind: tokRParen, text: ")", pos: start}, nil
	case ',':
		return token{kind: tokComma, text: ",", pos: start}, nil
	case ';':
		return token{kind: tokSemicolon, text: ";", pos: start}, nil
	case '=':
		return token{kind: tokOp, text: "=", pos: start}, nil
	case '!':
		if l.peekRune(0) == '=' {
			l.advance()
			return token{kind: tokOp, text: "!=", pos: start}, nil
		}
	case '<':
		switch l.peekRune(0) {
		case '=':
			l.advance()
			return token{kind: tokOp, text: "<=", pos: start}, nil
		case '>':
			l.advance()
			return token{kind: tokOp, text: "!=", pos: start}, nil
		}
		return token{kind: tokOp, text: "<", pos: start}, nil
	case '>':
		if l.peekRune(0) == '=' {
			l.advance()
			return token{kind: tokOp, text: ">=", pos: start}, nil
		}
		return token{kind: tokOp, text: ">", pos: start}, nil
	}
	return token{}, errorf(start, "unexpected character %q", r)
}

// quoted reads a string in single or double quotes. The quote itself is written twice ('it”s')
// or escaped with a backslash, as are \\, \n and \t.
func (l *lexer) quoted(start Pos) (token, error) {
	quote := l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return token{}, errorf(start, "unterminated string")
		}
		r := l.advance()
		switch {
		case r == quote:
			if l.peekRune(0) == quote {
				l.advance()
				b.WriteRune(quote)
				continue
			}
			return token{kind: tokString, text: b.String(), pos: start}, nil
		case r == '\\':
			if l.off >= len(l.src) {
				return token{}, errorf(start, "unterminated string")
			}
			switch e := l.advance(); e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteRune(e)
			}
		default:
			b.WriteRune(r)
		}
	}
}
