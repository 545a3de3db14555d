// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"fmt"
	"testing"
	"time"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// orOfServices joins conditions service_id = 'absent_<i>' for i in [lo, hi) in a balanced OR:
// none matches, so every condition is evaluated on every entry the scan reads.
func orOfServices(lo, hi int) *modelv1.Criteria {
	if hi-lo == 1 {
		return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
			Name: "service_id", Op: modelv1.Condition_BINARY_OP_EQ, Value: strValue(fmt.Sprintf("absent_%d", lo)),
		}}}
	}
	mid := (lo + hi) / 2
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Le{Le: &modelv1.LogicalExpression{
		Op: modelv1.LogicalExpression_LOGICAL_OP_OR, Left: orOfServices(lo, mid), Right: orOfServices(mid, hi),
	}}}
}

// BenchmarkRankByIndexConditions ranks 20,000 spans by duration under ORs of 2 and 64 conditions
// that match nothing (the scan reads every index entry and evaluates each condition on it), one
// condition that matches nothing (its value pins the scan to an empty partition), and one that
// matches every span (the scan stops at the limit).
func BenchmarkRankByIndexConditions(b *testing.B) {
	e := newEnv(b).withSW()
	_, today := days()
	const spans = 20000
	for start := 0; start < spans; start += 1000 {
		reqs := make([]*tracev1.InternalWriteRequest, 0, 1000)
		for i := start; i < start+1000; i++ {
			reqs = append(reqs, swSpan{traceID: fmt.Sprintf("trace-%06d", i/4), spanID: fmt.Sprintf("s%d", i%4),
				at: today.Add(time.Duration(i) * time.Millisecond), service: fmt.Sprintf("svc_%d", i%7), instance: "inst",
				endpoint: "/e", duration: int64(i)}.request())
		}
		e.mustWrite(reqs...)
	}
	tr := e.trace("test-trace-group", "sw")
	for _, bc := range []struct {
		name     string
		criteria *modelv1.Criteria
		want     int
	}{
		{"1-condition-none", orOfServices(0, 1), 0},
		{"2-conditions-none", orOfServices(0, 2), 0},
		{"64-conditions-none", orOfServices(0, 64), 0},
		{"1-condition-all-limit-20", &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
			Name: "duration", Op: modelv1.Condition_BINARY_OP_GE, Value: i64(0)}}}, 20},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := QueryOptions{Name: "sw", TimeRange: fullRange(), Criteria: bc.criteria,
				OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC), MaxTraces: 20}
			for b.Loop() {
				res, err := tr.Query(context.Background(), opts)
				if err != nil {
					b.Fatal(err)
				}
				if len(res) != bc.want {
					b.Fatalf("%d traces, want %d", len(res), bc.want)
				}
			}
		})
	}
}
