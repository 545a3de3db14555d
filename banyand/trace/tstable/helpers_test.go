// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// The test schema, shaped like the "sw" trace of the integration cases.
const (
	posTraceID = iota
	posState
	posService
	posInstance
	posEndpoint
	posDuration
	posSpanID
	posTimestamp
	numTags
)

const (
	ruleDuration  uint32 = 11
	ruleTimestamp uint32 = 12
)

var swWriteOptions = WriteOptions{
	Rules: []IndexRule{
		{ID: ruleDuration, SortTagPos: posDuration},
		{ID: ruleTimestamp, SortTagPos: posTimestamp},
	},
	IndexedTags: []int{posState, posService, posInstance},
}

// newTestTable opens a table in a temporary directory and closes it at the
// end of the test.
func newTestTable(t testing.TB, opts ...func(*Options)) (*Table, string) {
	t.Helper()
	dir := t.TempDir()
	o := DefaultOptions()
	o.Sync = false
	o.FlushTimeout = 0
	for _, f := range opts {
		f(&o)
	}
	tbl, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := tbl.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tbl, dir
}

// spanGen makes spans shaped like the benchmark's: ~600 B payloads about
// half of which is random, ~10 spans per trace, a few services.
type spanGen struct {
	rng       *rand.Rand
	services  []string
	endpoints []string
	base      int64
	traces    int
}

func newSpanGen(seed uint64) *spanGen {
	g := &spanGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), base: 1_750_000_000_000_000_000}
	for i := range 10 {
		g.services = append(g.services, fmt.Sprintf("service-%02d.prod.cluster.local", i))
	}
	for i := range 50 {
		g.endpoints = append(g.endpoints, fmt.Sprintf("/api/v%d/resource-%02d/{id}/items", i%3+1, i))
	}
	return g
}

func (g *spanGen) hex(n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return hex.EncodeToString(b)[:n]
}

// trace returns the spans of one new trace.
func (g *spanGen) trace(n int) []Span {
	g.traces++
	traceID := g.hex(32)
	svc := g.rng.IntN(len(g.services))
	start := g.base + int64(g.traces)*3_000_000 + g.rng.Int64N(1_000_000)
	spans := make([]Span, n)
	for i := range spans {
		spanID := g.hex(16)
		ts := start + int64(i)*g.rng.Int64N(2_000_000)
		duration := int64(g.rng.ExpFloat64() * 200)
		service := g.services[(svc+i/4)%len(g.services)]
		instance := fmt.Sprintf("%s-instance-%d", service[:10], g.rng.IntN(4))
		endpoint := g.endpoints[g.rng.IntN(len(g.endpoints))]
		state := int64(0)
		if g.rng.IntN(20) == 0 {
			state = 1
		}
		tags := make([]*modelv1.TagValue, numTags)
		tags[posTraceID] = strTag(traceID)
		tags[posState] = intTag(state)
		tags[posService] = strTag(service)
		tags[posInstance] = strTag(instance)
		tags[posEndpoint] = strTag(endpoint)
		tags[posDuration] = intTag(duration)
		tags[posSpanID] = strTag(spanID)
		tags[posTimestamp] = tsTag(splitUnixNanos(ts))
		spans[i] = Span{
			TraceID:   traceID,
			SpanID:    spanID,
			Timestamp: ts,
			Tags:      tags,
			Payload:   g.payload(traceID, spanID, service, endpoint, ts, duration),
		}
	}
	return spans
}

// payload builds ~600 bytes: a structured part that repeats across spans
// (names, keys), ids and times, 120 random hex characters and 176 random
// bytes: roughly 260 bytes of entropy, like a serialized SkyWalking span.
func (g *spanGen) payload(traceID, spanID, service, endpoint string, ts, duration int64) []byte {
	p := make([]byte, 0, 640)
	p = append(p, "segment="...)
	p = append(p, traceID...)
	p = append(p, ";span="...)
	p = append(p, spanID...)
	p = binary.BigEndian.AppendUint64(p, uint64(ts))
	p = binary.BigEndian.AppendUint64(p, uint64(ts+duration*1_000_000))
	p = append(p, ";service="...)
	p = append(p, service...)
	p = append(p, ";endpoint="...)
	p = append(p, endpoint...)
	p = append(p, ";component=SpringMVC;layer=Http;kind=Entry;peer=10.0.3.17:8080;"...)
	p = append(p, "tags=http.method:GET,http.status_code:200,url:http://frontend.local"...)
	p = append(p, endpoint...)
	p = append(p, "?q="...)
	p = append(p, g.hex(60)...)
	p = append(p, ";x-request-id="...)
	p = append(p, g.hex(60)...)
	p = append(p, ";logs=level:INFO,thread:http-nio-8080-exec-12,message:"...)
	for range 176 / 8 {
		p = binary.LittleEndian.AppendUint64(p, g.rng.Uint64())
	}
	return p
}

// batch returns n spans of whole traces of spansPerTrace spans.
func (g *spanGen) batch(n, spansPerTrace int) []Span {
	out := make([]Span, 0, n)
	for len(out) < n {
		out = append(out, g.trace(min(spansPerTrace, n-len(out)))...)
	}
	return out
}

// mustEqualSpan fails unless got is want read back.
func mustEqualSpan(t testing.TB, got StoredSpan, want Span) {
	t.Helper()
	if got.TraceID != want.TraceID || got.SpanID != want.SpanID || got.Timestamp != want.Timestamp {
		t.Fatalf("span header: got (%q, %q, %d), want (%q, %q, %d)",
			got.TraceID, got.SpanID, got.Timestamp, want.TraceID, want.SpanID, want.Timestamp)
	}
	if string(got.Payload) != string(want.Payload) {
		t.Fatalf("span %q payload differs", want.SpanID)
	}
	mustEqualTags(t, got.Tags, want.Tags)
}

func mustEqualTags(t testing.TB, got, want []*modelv1.TagValue) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("tags: got %d, want %d: %v vs %v", len(got), len(want), got, want)
	}
	for i := range want {
		if (got[i] == nil) != (want[i] == nil) || !proto.Equal(got[i], want[i]) {
			t.Fatalf("tag %d: got %v, want %v", i, got[i], want[i])
		}
	}
}
