// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLexer(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []token
	}{
		{
			name: "names with dashes, keywords upper-cased, positions in runes",
			src:  "select zipkin-timestamp\n  FROM 'é' ?",
			want: []token{
				{kind: tokKeyword, text: "SELECT", pos: Pos{1, 1}},
				{kind: tokIdent, text: "zipkin-timestamp", pos: Pos{1, 8}},
				{kind: tokKeyword, text: "FROM", pos: Pos{2, 3}},
				{kind: tokString, text: "é", pos: Pos{2, 8}},
				{kind: tokParam, text: "?", pos: Pos{2, 12}},
			},
		},
		{
			name: "comments, negative numbers and operators",
			src:  "a>=-5 -- rest\nb<>c!=d<=e<f>g=h--x\n(),;*",
			want: []token{
				{kind: tokIdent, text: "a", pos: Pos{1, 1}}, {kind: tokOp, text: ">=", pos: Pos{1, 2}},
				{kind: tokInt, text: "-5", pos: Pos{1, 4}},
				{kind: tokIdent, text: "b", pos: Pos{2, 1}}, {kind: tokOp, text: "!=", pos: Pos{2, 2}},
				{kind: tokIdent, text: "c", pos: Pos{2, 4}}, {kind: tokOp, text: "!=", pos: Pos{2, 5}},
				{kind: tokIdent, text: "d", pos: Pos{2, 7}}, {kind: tokOp, text: "<=", pos: Pos{2, 8}},
				{kind: tokIdent, text: "e", pos: Pos{2, 10}}, {kind: tokOp, text: "<", pos: Pos{2, 11}},
				{kind: tokIdent, text: "f", pos: Pos{2, 12}}, {kind: tokOp, text: ">", pos: Pos{2, 13}},
				{kind: tokIdent, text: "g", pos: Pos{2, 14}}, {kind: tokOp, text: "=", pos: Pos{2, 15}},
				{kind: tokIdent, text: "h", pos: Pos{2, 16}},
				{kind: tokLParen, text: "(", pos: Pos{3, 1}}, {kind: tokRParen, text: ")", pos: Pos{3, 2}},
				{kind: tokComma, text: ",", pos: Pos{3, 3}}, {kind: tokSemicolon, text: ";", pos: Pos{3, 4}},
				{kind: tokStar, text: "*", pos: Pos{3, 5}},
			},
		},
		{
			name: "a name does not end with a dash",
			src:  "a- b",
			want: []token{{kind: tokIdent, text: "a", pos: Pos{1, 1}}},
		},
		{
			name: "quotes: doubled, escaped, the other quote inside",
			src:  `'it''s' "say \"hi\"\n" 'a"b'`,
			want: []token{
				{kind: tokString, text: "it's", pos: Pos{1, 1}},
				{kind: tokString, text: "say \"hi\"\n", pos: Pos{1, 9}},
				{kind: tokString, text: `a"b`, pos: Pos{1, 24}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lx := newLexer(tt.src)
			var got []token
			for {
				tok, err := lx.next()
				if err != nil {
					// "a- b": the lone "-" is not a token.
					break
				}
				if tok.kind == tokEOF {
					break
				}
				got = append(got, tok)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(token{})); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

func TestLexerErrorPlace(t *testing.T) {
	_, err := newLexer("\n\n   'open").next()
	if err == nil || err.Error() != "line 3, column 4: unterminated string" {
		t.Fatalf("got %v", err)
	}
}
