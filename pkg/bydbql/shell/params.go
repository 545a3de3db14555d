// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package shell

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/types/known/structpb"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// ParseParam reads one `?` param as written on the command line: a JSON integer is an int, a
// JSON string a str, null is null, an array of strings a str_array and an array of integers an
// int_array; anything that is not JSON is a str as written (so -p webapp_service needs no
// quotes, while -p '"500"' is the string 500). Times are strings: -p 2026-12-03T08:00:00Z, -p -15m.
func ParseParam(s string) (*modelv1.TagValue, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return strParam(s), nil
	}
	switch x := v.(type) {
	case nil:
		return &modelv1.TagValue{Value: &modelv1.TagValue_Null{Null: structpb.NullValue_NULL_VALUE}}, nil
	case string:
		return strParam(x), nil
	case json.Number:
		n, err := intOf(x)
		if err != nil {
			return nil, errors.Wrapf(err, "param %s", s)
		}
		return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: n}}}, nil
	case []any:
		return arrayParam(s, x)
	}
	return nil, errors.Errorf("param %s: only integers, strings, null and arrays of strings or integers are params", s)
}

func strParam(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func intOf(n json.Number) (int64, error) {
	i, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr == nil && f == math.Trunc(f) {
			return 0, errors.Errorf("%s is out of the int64 range", n)
		}
		return 0, errors.Errorf("%s is not an integer", n)
	}
	return i, nil
}

func arrayParam(s string, items []any) (*modelv1.TagValue, error) {
	strs := make([]string, 0, len(items))
	ints := make([]int64, 0, len(items))
	for _, it := range items {
		switch x := it.(type) {
		case string:
			strs = append(strs, x)
		case json.Number:
			n, err := intOf(x)
			if err != nil {
				return nil, errors.Wrapf(err, "param %s", s)
			}
			ints = append(ints, n)
		default:
			return nil, errors.Errorf("param %s: an array holds strings or integers", s)
		}
	}
	switch {
	case len(strs) > 0 && len(ints) > 0:
		return nil, errors.Errorf("param %s: an array holds strings or integers, not both", s)
	case len(ints) > 0:
		return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: ints}}}, nil
	}
	return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: strs}}}, nil
}

// statementEnd returns the length of the first statement in buf ended by a `;` outside quotes and
// `--` comments, or false when buf holds no complete statement yet.
func statementEnd(buf string) (int, bool) {
	var quote byte
	for i := 0; i < len(buf); i++ {
		c := buf[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && i+1 < len(buf) && buf[i+1] == '-':
			for i < len(buf) && buf[i] != '\n' {
				i++
			}
		case c == ';':
			return i + 1, true
		}
	}
	return 0, false
}

// historyLine is a statement on one line for the history: its `--` comments (outside quotes)
// dropped, its lines trimmed and joined by spaces.
func historyLine(stmt string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(stmt); i++ {
		c := stmt[i]
		switch {
		case quote != 0:
			if c == '\\' && i+1 < len(stmt) {
				b.WriteByte(c)
				i++
				c = stmt[i]
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && i+1 < len(stmt) && stmt[i+1] == '-':
			for i+1 < len(stmt) && stmt[i+1] != '\n' {
				i++
			}
			continue
		}
		b.WriteByte(c)
	}
	lines := strings.Split(b.String(), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}
