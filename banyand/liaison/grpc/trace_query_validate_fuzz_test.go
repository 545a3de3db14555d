// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// FuzzValidateTraceQuery feeds arbitrary encoded criteria (and a second group) to
// validateTraceQuery. It must never panic, must answer with InvalidArgument or NotFound only, and
// whatever it accepts must be a complete tree within the bounds whose every condition names a
// tag of the schema: the properties the query planner relies on. The seed corpus is in
// testdata/fuzz/FuzzValidateTraceQuery.
func FuzzValidateTraceQuery(f *testing.F) {
	for _, c := range []*modelv1.Criteria{
		vCond("service_id", eq, vStr("svc")),
		vAnd(vCond("duration", ge, vInt(1)), vCond("trace_id", in, vStrs("a", "b"))),
		vOr(vCond("query", having, vStr("a=1")), vCond("state", eq, vInt(1))),
		{},
	} {
		b, err := proto.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, twoGroups bool) {
		c := &modelv1.Criteria{}
		if err := proto.Unmarshal(data, c); err != nil {
			return
		}
		groups := []string{"g"}
		if twoGroups {
			groups = append(groups, "updated")
		}
		req := &tracev1.QueryRequest{Groups: groups, Name: "sw", Criteria: c}
		err := validateTraceQuery(req, testSchemaOf)
		if err != nil {
			if code := status.Code(err); code != codes.InvalidArgument && code != codes.NotFound {
				t.Fatalf("validateTraceQuery answered %s: %v", code, err)
			}
			return
		}
		if proto.Size(c) > maxCriteriaBytes {
			t.Fatalf("accepted %d bytes of criteria", proto.Size(c))
		}
		conditions := 0
		var walk func(c *modelv1.Criteria, depth int)
		walk = func(c *modelv1.Criteria, depth int) {
			if depth > maxCriteriaDepth {
				t.Fatalf("accepted a tree deeper than %d", maxCriteriaDepth)
			}
			switch {
			case c.GetLe() != nil:
				le := c.GetLe()
				if le.GetLeft() == nil || le.GetRight() == nil {
					t.Fatal("accepted a logical expression with a side missing")
				}
				if le.GetOp() != modelv1.LogicalExpression_LOGICAL_OP_AND && le.GetOp() != modelv1.LogicalExpression_LOGICAL_OP_OR {
					t.Fatalf("accepted logical operator %s", le.GetOp())
				}
				walk(le.GetLeft(), depth+1)
				walk(le.GetRight(), depth+1)
			case c.GetCondition() != nil:
				conditions++
				cond := c.GetCondition()
				for _, g := range groups {
					s, _ := testSchemaOf(g, "sw")
					found := false
					for _, tag := range s.GetTags() {
						found = found || tag.GetName() == cond.GetName()
					}
					if !found {
						t.Fatalf("accepted a condition on tag %q, which group %s lacks", cond.GetName(), g)
					}
				}
				if valueKindOf(cond.GetValue()) == kindNone {
					t.Fatal("accepted a condition without a value")
				}
			default:
				t.Fatal("accepted an empty criteria node")
			}
		}
		walk(c, 1)
		if conditions > maxCriteriaConditions {
			t.Fatalf("accepted %d conditions", conditions)
		}
	})
}
