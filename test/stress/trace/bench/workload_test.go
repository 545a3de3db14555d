// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func testConfig(seed uint64) workloadConfig {
	return workloadConfig{traces: 200, spansPerTrace: 10, services: 50, instances: 5, endpoints: 20,
		spanSize: 600, errorRate: 0.05, window: time.Hour, seed: seed}
}

func TestGenerateIsDeterministic(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := generate(testConfig(42), now)
	b := generate(testConfig(42), now.Add(time.Minute))
	c := generate(testConfig(43), now)
	for i := range a.traces {
		ta, tb := &a.traces[i], &b.traces[i]
		if ta.id != tb.id || ta.rootService != tb.rootService || ta.start.Add(time.Minute) != tb.start {
			t.Fatalf("trace %d differs between runs of the same seed: %+v vs %+v", i, ta.id, tb.id)
		}
		for j := range ta.spans {
			sa, sb := &ta.spans[j], &tb.spans[j]
			if !bytes.Equal(sa.payload, sb.payload) || sa.duration != sb.duration || sa.instance != sb.instance || sa.endpoint != sb.endpoint || sa.state != sb.state {
				t.Fatalf("span %d/%d differs between runs of the same seed", i, j)
			}
		}
	}
	if a.traces[0].id == c.traces[0].id {
		t.Fatalf("different seeds gave the same first trace id %s", a.traces[0].id)
	}
}

func TestGenerateShape(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w := generate(testConfig(7), now)
	spanIDs := map[string]bool{}
	traceIDs := map[string]bool{}
	for i := range w.traces {
		tr := &w.traces[i]
		if traceIDs[tr.id] {
			t.Fatalf("trace id %s twice", tr.id)
		}
		traceIDs[tr.id] = true
		if len(tr.id) < 34 || tr.id[32] != '-' {
			t.Fatalf("trace id %q is not <32 hex>-<index>", tr.id)
		}
		if tr.start.Before(now.Add(-time.Hour)) || !tr.start.Before(now) {
			t.Fatalf("trace %s starts at %v, outside the last hour before %v", tr.id, tr.start, now)
		}
		root := tr.spans[0]
		for j := range tr.spans {
			s := &tr.spans[j]
			if spanIDs[s.spanID] {
				t.Fatalf("span id %s twice", s.spanID)
			}
			spanIDs[s.spanID] = true
			if len(s.payload) != 600 || !strings.HasPrefix(string(s.payload), `{"trace_id":"`+tr.id) {
				t.Fatalf("span %s: payload of %d bytes starting %.40q", s.spanID, len(s.payload), s.payload)
			}
			if s.ts != tr.start.Add(time.Duration(j)*time.Millisecond) || s.ts.Nanosecond()%int(time.Millisecond) != 0 {
				t.Fatalf("span %s: timestamp %v", s.spanID, s.ts)
			}
			if (j < 5) != (s.service == serviceName(tr.rootService)) {
				t.Fatalf("span %d of trace %s is in %s, root service %s", j, tr.id, s.service, serviceName(tr.rootService))
			}
			if !strings.HasPrefix(s.instance, s.service+"-") || !strings.HasPrefix(s.endpoint, "/"+s.service+"/") {
				t.Fatalf("span %s: instance %s / endpoint %s not of service %s", s.spanID, s.instance, s.endpoint, s.service)
			}
			if j == 0 && s.duration < 1 {
				t.Fatalf("root span of %s lasts %d ms", tr.id, s.duration)
			}
			if j > 0 && (s.duration < 0 || s.duration >= root.duration && root.duration > 0) {
				t.Fatalf("span %s lasts %d ms, root %d ms", s.spanID, s.duration, root.duration)
			}
		}
	}
}
