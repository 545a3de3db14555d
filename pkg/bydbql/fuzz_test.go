// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"context"
	"errors"
	"strings"
	"testing"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// FuzzParse feeds the front end arbitrary statements: it must never panic or hang, and every
// refusal must be an *Error. A statement that parses is bound (each placeholder gets a param of a
// kind chosen from the input) and transformed against the fixture schemas. The seed corpus in
// testdata/fuzz/FuzzParse holds every example of the tests and the docs.
func FuzzParse(f *testing.F) {
	f.Add("SELECT trace_id, duration FROM TRACE sw IN test-trace-group, test-trace-updated TIME > '-15m' WHERE duration >= 500 ORDER BY duration DESC LIMIT 3")
	f.Add(strings.Repeat("(", 10000))
	kinds := []*modelv1.TagValue{pStr("webapp"), pInt(5), pNull(), pStrs("a", "b"), pInts(1, 2), pTime(t0), pStr("-15m")}
	tf := testTransformer()
	f.Fuzz(func(t *testing.T, stmt string) {
		q, err := Parse(stmt)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) returned a %T: %v", stmt, err, err)
			}
			return
		}
		params := make([]*modelv1.TagValue, q.Placeholders)
		for i := range params {
			params[i] = kinds[(len(stmt)+i)%len(kinds)]
		}
		bound, err := Bind(q, params)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Bind returned a %T: %v", err, err)
			}
			return
		}
		if _, err := tf.Transform(context.Background(), bound); err != nil && err.Error() == "" {
			t.Fatal("an error without a message")
		}
	})
}
