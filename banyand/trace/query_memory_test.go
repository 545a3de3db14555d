// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/protector"
)

// memoryProtectorOf returns a started protector whose limit is allowed (e.g. "1mb").
func memoryProtectorOf(t *testing.T, allowed string) protector.Memory {
	t.Helper()
	pm := protector.NewMemory(nil)
	if err := pm.FlagSet().Parse([]string{"--allowed-bytes=" + allowed}); err != nil {
		t.Fatal(err)
	}
	if err := pm.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	return pm
}

// writeBigTraces writes n one-span traces with payloads of size bytes each.
func writeBigTraces(e *env, n, size int) {
	e.t.Helper()
	_, today := days()
	reqs := make([]*tracev1.InternalWriteRequest, 0, n)
	for i := 0; i < n; i++ {
		s := swSpan{traceID: fmt.Sprintf("big-%03d", i), spanID: "s", at: today.Add(time.Duration(i) * time.Second),
			service: "svc", duration: int64(i)}
		reqs = append(reqs, internalRequest("test-trace-group", "sw", bytes.Repeat([]byte{'x'}, size), s.tags()...))
	}
	e.mustWrite(reqs...)
}

func matchAllRequest(limit uint32) *tracev1.QueryRequest {
	rng := fullRange()
	return &tracev1.QueryRequest{
		Groups:    []string{"test-trace-group"},
		Name:      "sw",
		TimeRange: &modelv1.TimeRange{Begin: timestamppb.New(rng.Start), End: timestamppb.New(rng.End)},
		OrderBy:   orderBy("duration", modelv1.Sort_SORT_DESC),
		Limit:     limit,
	}
}

func wantResourceExhausted(t *testing.T, err error, says string) {
	t.Helper()
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("err = %v, want ResourceExhausted", err)
	}
	for _, want := range []string{says, "limit/offset"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
}

func TestQueryPastTheMemoryBudgetIsResourceExhausted(t *testing.T) {
	// 200 traces of 8 KiB: 1.6 MB to read, against a budget of 512 KiB.
	pm := memoryProtectorOf(t, "512kb")
	e := newEnvWith(t, t.TempDir(), pm).withSW()
	writeBigTraces(e, 200, 8<<10)

	_, err := e.s.QueryTraces(context.Background(), matchAllRequest(1000))
	wantResourceExhausted(t, err, "memory")
	if pm.Usage() != 0 {
		t.Fatalf("the failed query left %d bytes reserved", pm.Usage())
	}
	// A page that fits answers, and gives back what it held.
	resp, err := e.s.QueryTraces(context.Background(), matchAllRequest(20))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(resp.GetInternalTraces()); got != 20 {
		t.Fatalf("%d traces, want 20", got)
	}
	if pm.Usage() != 0 {
		t.Fatalf("the query left %d bytes reserved", pm.Usage())
	}
}

func TestQueryChargesTheAccountOfItsContext(t *testing.T) {
	pm := memoryProtectorOf(t, "64mb")
	e := newEnvWith(t, t.TempDir(), pm).withSW()
	writeBigTraces(e, 50, 8<<10)

	acct := protector.NewAccount(pm)
	ctx := protector.WithAccount(context.Background(), acct)
	resp, err := e.s.QueryTraces(ctx, matchAllRequest(50))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetInternalTraces()) != 50 {
		t.Fatalf("%d traces, want 50", len(resp.GetInternalTraces()))
	}
	// The answer is still held by the caller: its bytes stay charged until the caller releases them.
	if held := acct.Held(); held < 50*8<<10 || pm.Usage() != held {
		t.Fatalf("account holds %d bytes, protector %d; want both at least the %d payload bytes", held, pm.Usage(), 50*8<<10)
	}
	acct.Release()
	if pm.Usage() != 0 {
		t.Fatalf("usage after release = %d", pm.Usage())
	}
}

func TestQueryPastTheNodeAnswerSizeIsResourceExhausted(t *testing.T) {
	e := newEnv(t).withSW()
	e.s.query.maxAnswer = 256 << 10
	writeBigTraces(e, 100, 8<<10)

	_, err := e.s.QueryTraces(context.Background(), matchAllRequest(100))
	wantResourceExhausted(t, err, "offset+limit traces would pass 262144 bytes")
	resp, err := e.s.QueryTraces(context.Background(), matchAllRequest(20))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(resp.GetInternalTraces()); got != 20 {
		t.Fatalf("%d traces, want 20", got)
	}
}

func TestQueryBoundsCheckResponseSize(t *testing.T) {
	e := newEnv(t, "--trace-max-query-response-size=256kb")
	b := e.s.QueryBounds()
	if b.MaxResponseBytes != 256<<10 || b.Memory == nil {
		t.Fatalf("QueryBounds = %+v, want 256 KiB and the protector", b)
	}
	if err := b.CheckResponseSize(256 << 10); err != nil {
		t.Fatalf("an answer at the bound: %v", err)
	}
	wantResourceExhausted(t, b.CheckResponseSize(256<<10+1), "--trace-max-query-response-size")
}

func TestMaxQueryResponseSizeFlag(t *testing.T) {
	for _, v := range []string{"0", "2gb"} {
		e := newEnv(t)
		if err := e.svc.FlagSet().Parse([]string{"--trace-max-query-response-size=" + v}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Validate(); err == nil || !strings.Contains(err.Error(), "--trace-max-query-response-size") {
			t.Fatalf("--trace-max-query-response-size=%s: Validate = %v, want an error naming the flag", v, err)
		}
	}
}
