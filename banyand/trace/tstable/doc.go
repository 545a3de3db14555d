// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package tstable is the trace table of one (segment, shard): a Pebble store
// holding span records by trace ID and, per index rule, entries ordered by
// the rule's sort tag.
//
// A Write stores a batch atomically: the spans of each trace in one
// zstd-compressed record, plus one index entry per (span, rule). Reads find a
// trace with one prefix scan (GetTraces), or walk a rule's entries in
// sort-key order (Index), each entry carrying the trace ID, the span's
// timestamp and the indexed tag values, so that filters need no record read.
// Merging across tables and stopping early is the caller's job.
//
// Usage:
//
//	t, err := tstable.Open(dir, tstable.DefaultOptions())
//	...
//	defer t.Close()
//	err = t.Write(spans, tstable.WriteOptions{
//		Rules:       []tstable.IndexRule{{ID: durationRuleID, SortTagPos: 5}},
//		IndexedTags: []int{1, 2, 3},
//	})
//	it, err := t.Index(durationRuleID, tstable.FullRange(true)) // slowest first
//	...
//	defer it.Close()
//	for it.Next() {
//		e := it.Entry() // e.TraceID, e.Tags[2], ...
//	}
//	err = it.Err()
//	traces, err := t.GetTraces([]string{traceID})
//
// The byte layout of keys and values is documented in docs/storage-layout.md.
package tstable
