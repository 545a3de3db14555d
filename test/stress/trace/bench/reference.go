// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package main

import (
	"math"
	"slices"
	"strings"
	"time"
)

// ackSet records which spans the server acknowledged; a nil set means all of them.
type ackSet struct {
	perTrace int
	ok       []bool
}

func newAckSet(traces, perTrace int) *ackSet {
	return &ackSet{perTrace: perTrace, ok: make([]bool, traces*perTrace)}
}

func (a *ackSet) set(t, i int) { a.ok[t*a.perTrace+i] = true }

func (a *ackSet) has(t, i int) bool { return a == nil || a.ok[t*a.perTrace+i] }

// rankedTrace is one trace of a reference answer.
type rankedTrace struct {
	trace int    // index in the workload
	id    string // trace id
	key   int64  // rank key: max duration of the trace's matching spans
}

// rankForService is the reference answer of "service_id = service order by duration desc limit n":
// a trace matches if at least one of its (acknowledged) spans has that service; its key is the max
// duration among those spans; traces are ordered by key descending, ties by trace id ascending.
func rankForService(w *workload, acks *ackSet, service string, n int) []rankedTrace {
	var out []rankedTrace
	for t := range w.traces {
		tr := &w.traces[t]
		found := false
		var key int64
		for i := range tr.spans {
			s := &tr.spans[i]
			if s.service != service || !acks.has(t, i) {
				continue
			}
			if !found || s.duration > key {
				key = s.duration
			}
			found = true
		}
		if found {
			out = append(out, rankedTrace{trace: t, id: tr.id, key: key})
		}
	}
	slices.SortFunc(out, func(a, b rankedTrace) int {
		if a.key != b.key {
			if a.key > b.key {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of the samples, or false if
// there are none. The samples are not modified.
func percentile(samples []time.Duration, p float64) (time.Duration, bool) {
	if len(samples) == 0 {
		return 0, false
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1], true
}
