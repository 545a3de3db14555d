// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package main

import (
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
		ok      bool
	}{
		{name: "empty", samples: nil, p: 50, ok: false},
		{name: "single", samples: ms(7), p: 99, want: 7 * time.Millisecond, ok: true},
		{name: "median of 1..10", samples: ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), p: 50, want: 5 * time.Millisecond, ok: true},
		{name: "p95 of 1..100", samples: ms(seq(100)...), p: 95, want: 95 * time.Millisecond, ok: true},
		{name: "p99 of 1..100", samples: ms(seq(100)...), p: 99, want: 99 * time.Millisecond, ok: true},
		{name: "p99 of 1..10 is the max", samples: ms(seq(10)...), p: 99, want: 10 * time.Millisecond, ok: true},
		{name: "p100", samples: ms(3, 1, 2), p: 100, want: 3 * time.Millisecond, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.samples)
			got, ok := percentile(tt.samples, tt.p)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("percentile(%v, %v) = %v, %v; want %v, %v", tt.samples, tt.p, got, ok, tt.want, tt.ok)
			}
			if !slices.Equal(before, tt.samples) {
				t.Fatalf("percentile modified its input")
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestRankForService(t *testing.T) {
	sp := func(service string, duration int64) genSpan { return genSpan{service: service, duration: duration} }
	w := &workload{cfg: workloadConfig{spansPerTrace: 3}, traces: []genTrace{
		{id: "d", spans: []genSpan{sp("a", 50), sp("a", 10), sp("b", 70)}}, // a: 50
		{id: "c", spans: []genSpan{sp("b", 90), sp("b", 1), sp("a", 30)}},  // a: 30 (only the third span)
		{id: "b", spans: []genSpan{sp("a", 30), sp("a", 5), sp("b", 99)}},  // a: 30, ties with c, b first
		{id: "a", spans: []genSpan{sp("b", 80), sp("b", 80), sp("b", 80)}}, // no a
		{id: "e", spans: []genSpan{sp("a", 0), sp("b", 100), sp("b", 1)}},  // a: 0
	}}
	ids := func(r []rankedTrace) []string {
		out := make([]string, len(r))
		for i, x := range r {
			out[i] = x.id
		}
		return out
	}
	keys := func(r []rankedTrace) []int64 {
		out := make([]int64, len(r))
		for i, x := range r {
			out[i] = x.key
		}
		return out
	}

	got := rankForService(w, nil, "a", 20)
	if want := []string{"d", "b", "c", "e"}; !slices.Equal(ids(got), want) {
		t.Fatalf("ids = %v, want %v", ids(got), want)
	}
	if want := []int64{50, 30, 30, 0}; !slices.Equal(keys(got), want) {
		t.Fatalf("keys = %v, want %v", keys(got), want)
	}
	if got := rankForService(w, nil, "a", 2); !slices.Equal(ids(got), []string{"d", "b"}) {
		t.Fatalf("limit 2: %v", ids(got))
	}
	if got := rankForService(w, nil, "b", 3); !slices.Equal(ids(got), []string{"e", "b", "c"}) {
		t.Fatalf("service b: %v", ids(got))
	}
	if got := rankForService(w, nil, "zzz", 20); len(got) != 0 {
		t.Fatalf("unknown service: %v", ids(got))
	}

	// Unacknowledged spans do not count: without d's first span, d ranks by its second one.
	acks := newAckSet(len(w.traces), 3)
	for tr := range w.traces {
		for i := 0; i < 3; i++ {
			acks.set(tr, i)
		}
	}
	acks.ok[0] = false
	got = rankForService(w, acks, "a", 20)
	if want := []string{"b", "c", "d", "e"}; !slices.Equal(ids(got), want) {
		t.Fatalf("with acks: ids = %v, want %v", ids(got), want)
	}
	if want := []int64{30, 30, 10, 0}; !slices.Equal(keys(got), want) {
		t.Fatalf("with acks: keys = %v, want %v", keys(got), want)
	}
}
