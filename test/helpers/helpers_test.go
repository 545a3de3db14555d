// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package helpers

import (
	"testing"
	"time"
)

func TestFixtureBaseStaysInOneDay(t *testing.T) {
	loc := time.FixedZone("test", 3*3600)
	cases := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"midday", time.Date(2026, 5, 1, 12, 0, 0, 123456789, loc), time.Date(2026, 5, 1, 11, 50, 0, 123000000, loc)},
		{"base just before midnight", time.Date(2026, 5, 2, 0, 9, 30, 0, loc), time.Date(2026, 5, 1, 23, 55, 0, 0, loc)},
		{"base right after midnight", time.Date(2026, 5, 2, 0, 10, 0, 0, loc), time.Date(2026, 5, 2, 0, 0, 0, 0, loc)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := FixtureBase(tc.now)
			if !got.Equal(tc.want) {
				t.Fatalf("FixtureBase(%s) = %s, want %s", tc.now, got, tc.want)
			}
			end := got.Add(2 * time.Minute)
			if got.Day() != end.Day() {
				t.Fatalf("fixtures from %s to %s cross a day", got, end)
			}
		})
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	a, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range append(a, b...) {
		if seen[p] {
			t.Fatalf("port %d handed out twice: %v %v", p, a, b)
		}
		seen[p] = true
	}
}

func TestFixturesParse(t *testing.T) {
	s, err := ReadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Groups) != 3 || len(s.Traces) != 3 || len(s.IndexRules) != 5 || len(s.Bindings) != 3 {
		t.Fatalf("got %d groups, %d traces, %d rules, %d bindings; want 3, 3, 5, 3",
			len(s.Groups), len(s.Traces), len(s.IndexRules), len(s.Bindings))
	}
	c := s.ForGroup("test-trace-group", "copy")
	if len(c.Groups) != 1 || len(c.Traces) != 1 || len(c.IndexRules) != 2 || len(c.Bindings) != 1 {
		t.Fatalf("copy of test-trace-group: %+v", c)
	}
	if c.Traces[0].GetMetadata().GetGroup() != "copy" || s.Traces[0].GetMetadata().GetGroup() == "copy" {
		t.Fatal("ForGroup must move copies and leave the originals")
	}
	want := map[string]int{"sw.json": 13, "sw_mixed_traces.json": 12, "sw_updated.json": 3, "zipkin.json": 5}
	for _, f := range SpanFixtures {
		entries, err := ReadSpanFile(f.File)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != want[f.File] {
			t.Fatalf("%s: %d entries, want %d", f.File, len(entries), want[f.File])
		}
	}
}
