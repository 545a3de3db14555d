// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
	"github.com/rs/zerolog"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// byTrace groups spans by trace ID, keeping their order.
func byTrace(spans []Span) map[string][]Span {
	out := map[string][]Span{}
	for _, sp := range spans {
		out[sp.TraceID] = append(out[sp.TraceID], sp)
	}
	return out
}

func mustWrite(t testing.TB, tbl *Table, spans []Span, wo WriteOptions) {
	t.Helper()
	if err := tbl.Write(spans, wo); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func mustGetTraces(t testing.TB, tbl *Table, ids ...string) map[string][]StoredSpan {
	t.Helper()
	got, err := tbl.GetTraces(ids)
	if err != nil {
		t.Fatalf("GetTraces: %v", err)
	}
	return got
}

// checkTraces fails unless the table holds exactly want for want's traces.
func checkTraces(t testing.TB, tbl *Table, want map[string][]Span) {
	t.Helper()
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	got := mustGetTraces(t, tbl, ids...)
	if len(got) != len(want) {
		t.Fatalf("got %d traces, want %d", len(got), len(want))
	}
	for id, spans := range want {
		if len(got[id]) != len(spans) {
			t.Fatalf("trace %s: got %d spans, want %d", id, len(got[id]), len(spans))
		}
		for i := range spans {
			mustEqualSpan(t, got[id][i], spans[i])
		}
	}
}

// withPayloadSuffix returns copies of spans whose payloads end with suffix: the same spans
// written again with a difference, which reads keep apart from the first ones.
func withPayloadSuffix(spans []Span, suffix string) []Span {
	out := make([]Span, len(spans))
	for i, sp := range spans {
		sp.Payload = append(append([]byte(nil), sp.Payload...), suffix...)
		out[i] = sp
	}
	return out
}

// scan returns every entry of an index iteration.
func scan(t testing.TB, tbl *Table, rule uint32, o IterOptions) []IndexEntry {
	t.Helper()
	it, err := tbl.Index(rule, o)
	if err != nil {
		t.Fatalf("Index: %v", err)
	}
	defer it.Close()
	var out []IndexEntry
	for it.Next() {
		out = append(out, it.Entry())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iteration: %v", err)
	}
	return out
}

func TestWriteGetTraces(t *testing.T) {
	tbl, _ := newTestTable(t)
	g := newSpanGen(1)
	spans := g.batch(1000, 10)
	// Interleave traces so that grouping is exercised.
	slices.SortStableFunc(spans, func(a, b Span) int { return int(a.Timestamp%7) - int(b.Timestamp%7) })
	mustWrite(t, tbl, spans, swWriteOptions)
	checkTraces(t, tbl, byTrace(spans))

	got := mustGetTraces(t, tbl, "missing", "", strings.Repeat("x", MaxTraceIDLen+1))
	if len(got) != 0 {
		t.Fatalf("unknown traces returned %d entries", len(got))
	}
	// Duplicate IDs in the request are answered once.
	id := spans[0].TraceID
	if got := mustGetTraces(t, tbl, id, id); len(got[id]) != len(byTrace(spans)[id]) {
		t.Fatalf("duplicate request: %d spans", len(got[id]))
	}
	// The same data after a flush, from sstables.
	if err := tbl.Flush(); err != nil {
		t.Fatal(err)
	}
	checkTraces(t, tbl, byTrace(spans))
}

// TestEachTraceStopsWhenAsked checks that EachTrace hands over one trace at a
// time, in request order, once per ID, and stops at the first error.
func TestEachTraceStopsWhenAsked(t *testing.T) {
	tbl, _ := newTestTable(t)
	g := newSpanGen(2)
	spans := g.batch(40, 4)
	mustWrite(t, tbl, spans, swWriteOptions)
	want := byTrace(spans)
	var ids []string
	for _, s := range spans {
		if len(ids) == 0 || ids[len(ids)-1] != s.TraceID {
			ids = append(ids, s.TraceID)
		}
	}
	var order []string
	err := tbl.EachTrace(append([]string{ids[0], "missing"}, ids...), func(id string, got []StoredSpan) error {
		if len(got) != len(want[id]) {
			t.Fatalf("trace %s: %d spans, want %d", id, len(got), len(want[id]))
		}
		order = append(order, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, ids) {
		t.Fatalf("traces handed over %v, want %v", order, ids)
	}
	stop := errors.New("stop")
	calls := 0
	err = tbl.EachTrace(ids, func(string, []StoredSpan) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("EachTrace = %v after %d calls, want the callback's error after 3", err, calls)
	}
}

// TestTracePrefixIsolation checks that a trace whose ID is a prefix of
// another's does not pick up the other's spans.
func TestTracePrefixIsolation(t *testing.T) {
	tbl, _ := newTestTable(t)
	spans := []Span{
		{TraceID: "a", SpanID: "1", Timestamp: 1, Payload: []byte("a1")},
		{TraceID: "ab", SpanID: "2", Timestamp: 2, Payload: []byte("ab2")},
		{TraceID: "a\x00", SpanID: "3", Timestamp: 3, Payload: []byte("a03")},
		{TraceID: "b", SpanID: "4", Timestamp: 4, Payload: []byte("b4")},
	}
	mustWrite(t, tbl, spans, WriteOptions{})
	for _, flush := range []bool{false, true} {
		if flush {
			if err := tbl.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		checkTraces(t, tbl, byTrace(spans))
	}
}

func TestMultipleWritesSameTrace(t *testing.T) {
	tbl, _ := newTestTable(t)
	g := newSpanGen(2)
	trace := g.trace(9)
	// Three writes, one flushed in between: records in memtable and sstable.
	mustWrite(t, tbl, trace[:3], swWriteOptions)
	if err := tbl.Flush(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, tbl, append(trace[3:6:6], g.trace(2)...), swWriteOptions)
	mustWrite(t, tbl, trace[6:], swWriteOptions)
	checkTraces(t, tbl, map[string][]Span{trace[0].TraceID: trace})

	// Each write made its own record: three sequence numbers.
	seqs := map[uint64]bool{}
	for _, e := range scan(t, tbl, ruleTimestamp, FullRange(false)) {
		if e.TraceID == trace[0].TraceID {
			seqs[e.Ref.Seq] = true
		}
	}
	if len(seqs) != 3 {
		t.Fatalf("trace spread over %d records, want 3", len(seqs))
	}
}

// TestLargeTraceIsCut writes one trace bigger than a record may be.
func TestLargeTraceIsCut(t *testing.T) {
	tbl, _ := newTestTable(t)
	n := maxRecordSpans*2 + 10
	spans := make([]Span, n)
	for i := range spans {
		spans[i] = Span{
			TraceID:   "big",
			SpanID:    fmt.Sprint(i),
			Timestamp: int64(i),
			Tags:      []*modelv1.TagValue{intTag(int64(i))},
			Payload:   []byte{byte(i)},
		}
	}
	mustWrite(t, tbl, spans, WriteOptions{Rules: []IndexRule{{ID: 1, SortTagPos: 0}}})
	checkTraces(t, tbl, byTrace(spans))
	entries := scan(t, tbl, 1, FullRange(false))
	if len(entries) != n {
		t.Fatalf("%d entries, want %d", len(entries), n)
	}
	records := map[uint64]bool{}
	for i, e := range entries {
		records[e.Ref.Seq] = true
		if i%97 != 0 && i != n-1 {
			continue
		}
		sp, err := tbl.GetSpan(e.Ref)
		if err != nil {
			t.Fatalf("GetSpan(%+v): %v", e.Ref, err)
		}
		mustEqualSpan(t, sp, spans[i])
	}
	if len(records) != 3 {
		t.Fatalf("%d records, want 3", len(records))
	}
}

// sortSpans returns spans whose duration tag takes the given values, one
// trace each.
func sortSpans(keys []int64) []Span {
	spans := make([]Span, len(keys))
	for i, k := range keys {
		tags := make([]*modelv1.TagValue, numTags)
		tags[posState] = intTag(int64(i % 2))
		tags[posService] = strTag(fmt.Sprintf("svc-%d", i%3))
		tags[posDuration] = intTag(k)
		tags[posTimestamp] = tsTag(splitUnixNanos(int64(i) * 1000))
		spans[i] = Span{TraceID: fmt.Sprintf("trace-%03d", i), SpanID: "s", Timestamp: int64(i) * 1000, Tags: tags}
	}
	return spans
}

func TestIndexOrderAndBounds(t *testing.T) {
	keys := []int64{0, -1, 1, math.MinInt64, math.MaxInt64, -1 << 40, 1 << 40, 42, 42, -42, math.MinInt64 + 1, math.MaxInt64 - 1}
	spans := sortSpans(keys)
	tbl, _ := newTestTable(t)
	// Two writes, one flushed: the iterator merges memtable and sstables.
	mustWrite(t, tbl, spans[:6], swWriteOptions)
	if err := tbl.Flush(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, tbl, spans[6:], swWriteOptions)

	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	for _, c := range []struct {
		name     string
		min, max int64
	}{
		{"all", math.MinInt64, math.MaxInt64},
		{"negative", math.MinInt64, -1},
		{"non-negative", 0, math.MaxInt64},
		{"around zero", -42, 42},
		{"one key", 42, 42},
		{"min only", math.MinInt64, math.MinInt64},
		{"max only", math.MaxInt64, math.MaxInt64},
		{"gap", 2, 41},
		{"inverted", 1, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var want []int64
			for _, k := range sorted {
				if k >= c.min && k <= c.max {
					want = append(want, k)
				}
			}
			for _, desc := range []bool{false, true} {
				entries := scan(t, tbl, ruleDuration, IterOptions{Desc: desc, Min: c.min, Max: c.max})
				got := make([]int64, len(entries))
				for i, e := range entries {
					got[i] = e.SortKey
				}
				w := slices.Clone(want)
				if desc {
					slices.Reverse(w)
				}
				if !slices.Equal(got, w) {
					t.Fatalf("desc=%v: got %v, want %v", desc, got, w)
				}
			}
		})
	}

	// Entries carry the span's timestamp, indexed tags and a working ref.
	for _, e := range scan(t, tbl, ruleDuration, FullRange(true)) {
		i := slices.IndexFunc(spans, func(sp Span) bool { return sp.TraceID == e.TraceID })
		sp := spans[i]
		if e.Timestamp != sp.Timestamp {
			t.Fatalf("entry timestamp %d, want %d", e.Timestamp, sp.Timestamp)
		}
		if len(e.Tags) != posInstance+1 {
			t.Fatalf("entry has %d tag slots, want %d", len(e.Tags), posInstance+1)
		}
		mustEqualTags(t, []*modelv1.TagValue{e.Tags[posState], e.Tags[posService], e.Tags[posInstance]},
			[]*modelv1.TagValue{sp.Tags[posState], sp.Tags[posService], sp.Tags[posInstance]})
		if e.Tags[posTraceID] != nil {
			t.Fatal("a tag that is not indexed came back")
		}
		got, err := tbl.GetSpan(e.Ref)
		if err != nil {
			t.Fatal(err)
		}
		mustEqualSpan(t, got, sp)
	}

	// The timestamp rule orders by the span timestamps.
	entries := scan(t, tbl, ruleTimestamp, FullRange(false))
	if len(entries) != len(spans) {
		t.Fatalf("timestamp rule: %d entries", len(entries))
	}
	for i, e := range entries {
		if e.SortKey != spans[i].Timestamp || e.Timestamp != spans[i].Timestamp {
			t.Fatalf("timestamp entry %d: %+v", i, e)
		}
	}
	// Unknown rules are empty.
	if got := scan(t, tbl, 999, FullRange(false)); len(got) != 0 {
		t.Fatalf("unknown rule: %d entries", len(got))
	}
}

// TestIndexSkipsUnsortable checks that spans without a usable sort value are
// not indexed under the rule.
func TestIndexSkipsUnsortable(t *testing.T) {
	tbl, _ := newTestTable(t)
	sortTags := []*modelv1.TagValue{
		nil,
		{},
		{Value: &modelv1.TagValue_Null{}},
		strTag("12"),
		tsTag(math.MaxInt64, 0), // out of the nanosecond range
		intTag(7),
		tsTag(0, 8),
	}
	var spans []Span
	for i, v := range sortTags {
		spans = append(spans, Span{TraceID: fmt.Sprint("t", i), Tags: []*modelv1.TagValue{v}})
	}
	spans = append(spans, Span{TraceID: "short"}) // no tag at the position at all
	mustWrite(t, tbl, spans, WriteOptions{Rules: []IndexRule{{ID: 1, SortTagPos: 0}}})
	entries := scan(t, tbl, 1, FullRange(false))
	if len(entries) != 2 || entries[0].SortKey != 7 || entries[1].SortKey != 8 {
		t.Fatalf("entries: %+v", entries)
	}
	checkTraces(t, tbl, byTrace(spans))
}

func TestReopenKeepsDataAndSeq(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	g := newSpanGen(3)
	first := g.batch(200, 10)
	tbl, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, tbl, first, swWriteOptions)
	oldSeqs := map[uint64]bool{}
	for _, e := range scan(t, tbl, ruleTimestamp, FullRange(false)) {
		oldSeqs[e.Ref.Seq] = true
	}
	if err := tbl.Close(); err != nil {
		t.Fatal(err)
	}

	want := byTrace(first)
	id := first[0].TraceID
	for round := range 2 {
		tbl, err = Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkTraces(t, tbl, want)
		// Writing a trace again adds a record; it overwrites nothing.
		again := withPayloadSuffix(first[:10], fmt.Sprintf("-again-%d", round))
		mustWrite(t, tbl, again, swWriteOptions)
		want[id] = append(want[id], again...)
		checkTraces(t, tbl, want)
		for _, e := range scan(t, tbl, ruleTimestamp, FullRange(false)) {
			if e.TraceID != id || oldSeqs[e.Ref.Seq] {
				continue
			}
			for old := range oldSeqs {
				if e.Ref.Seq <= old {
					t.Fatalf("round %d: new seq %d not above old seq %d", round, e.Ref.Seq, old)
				}
			}
			oldSeqs[e.Ref.Seq] = true
		}
		if err := tbl.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSchemaEvolution writes spans under a short schema, then a longer one:
// each reads back with the tags it was written with.
func TestSchemaEvolution(t *testing.T) {
	tbl, _ := newTestTable(t)
	old := Span{TraceID: "t", SpanID: "old", Timestamp: 1,
		Tags: []*modelv1.TagValue{strTag("t"), intTag(1), strTag("svc")}, Payload: []byte("v1")}
	newer := Span{TraceID: "t", SpanID: "new", Timestamp: 2,
		Tags: []*modelv1.TagValue{strTag("t"), intTag(0), strTag("svc"), strTag("inst"), nil, intTag(50)}, Payload: []byte("v2")}
	wo := WriteOptions{Rules: []IndexRule{{ID: 1, SortTagPos: 5}, {ID: 2, SortTagPos: 1}}, IndexedTags: []int{2, 3}}
	mustWrite(t, tbl, []Span{old}, wo)
	mustWrite(t, tbl, []Span{newer}, wo)
	checkTraces(t, tbl, map[string][]Span{"t": {old, newer}})

	// The old span has no duration: only the new one is under rule 1.
	if e := scan(t, tbl, 1, FullRange(false)); len(e) != 1 || e[0].SortKey != 50 {
		t.Fatalf("rule 1: %+v", e)
	}
	e := scan(t, tbl, 2, FullRange(false))
	if len(e) != 2 {
		t.Fatalf("rule 2: %d entries", len(e))
	}
	// Ascending state: new (0) then old (1). The old span had no tag 3.
	if len(e[0].Tags) != 4 || e[0].Tags[3].GetStr().GetValue() != "inst" {
		t.Fatalf("new span's entry tags: %v", e[0].Tags)
	}
	if len(e[1].Tags) != 3 || e[1].Tags[2].GetStr().GetValue() != "svc" {
		t.Fatalf("old span's entry tags: %v", e[1].Tags)
	}
}

func TestGetSpanByRef(t *testing.T) {
	tbl, _ := newTestTable(t)
	spans := newSpanGen(4).batch(100, 10)
	mustWrite(t, tbl, spans, swWriteOptions)
	entries := scan(t, tbl, ruleDuration, FullRange(false))
	if len(entries) != len(spans) {
		t.Fatalf("%d entries", len(entries))
	}
	for _, e := range entries {
		sp, err := tbl.GetSpan(e.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if sp.TraceID != e.TraceID || sp.Tags[posDuration].GetInt().GetValue() != e.SortKey {
			t.Fatalf("ref %+v led to span %q with duration %v", e.Ref, sp.SpanID, sp.Tags[posDuration])
		}
	}
	ref := entries[0].Ref
	for _, bad := range []SpanRef{
		{TraceID: ref.TraceID, Seq: ref.Seq, Span: 500},
		{TraceID: ref.TraceID, Seq: ref.Seq + 1000, Span: 0},
		{TraceID: "nope", Seq: ref.Seq},
		{},
	} {
		if _, err := tbl.GetSpan(bad); !errors.Is(err, ErrNotFound) {
			t.Fatalf("GetSpan(%+v): %v, want ErrNotFound", bad, err)
		}
	}
}

func TestCheckpoint(t *testing.T) {
	tbl, _ := newTestTable(t)
	g := newSpanGen(5)
	flushed, unflushed := g.batch(300, 10), g.batch(300, 10)
	mustWrite(t, tbl, flushed, swWriteOptions)
	if err := tbl.Flush(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, tbl, unflushed, swWriteOptions)

	// Writes go on during the checkpoint.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		g := newSpanGen(6)
		for {
			select {
			case <-stop:
				return
			default:
				if err := tbl.Write(g.batch(100, 10), swWriteOptions); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	dst := filepath.Join(t.TempDir(), "checkpoint")
	err := tbl.Checkpoint(dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Checkpoint(dst); err == nil {
		t.Fatal("checkpoint into an existing directory succeeded")
	}

	cp, err := Open(dst, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	want := byTrace(append(slices.Clone(flushed), unflushed...))
	checkTraces(t, cp, want)
	a := scan(t, tbl, ruleDuration, FullRange(false))
	b := scan(t, cp, ruleDuration, FullRange(false))
	if len(b) < len(flushed)+len(unflushed) || len(b) > len(a) {
		t.Fatalf("checkpoint has %d duration entries; source had %d at checkpoint time and %d now",
			len(b), len(flushed)+len(unflushed), len(a))
	}
	// The copy is independent: writes to it do not show in the source.
	mustWrite(t, cp, []Span{{TraceID: "only-in-copy"}}, WriteOptions{})
	if got := mustGetTraces(t, tbl, "only-in-copy"); len(got) != 0 {
		t.Fatal("write to the checkpoint reached the source")
	}
}

func TestConcurrentWrites(t *testing.T) {
	tbl, _ := newTestTable(t, func(o *Options) { o.MemTableSize = 256 << 10; o.FlushTimeout = 5 * time.Millisecond })
	const writers, batches = 4, 8
	written := make([][]Span, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			g := newSpanGen(uint64(100 + w))
			for range batches {
				spans := g.batch(100, 10)
				if err := tbl.Write(spans, swWriteOptions); err != nil {
					t.Error(err)
					return
				}
				written[w] = append(written[w], spans...)
			}
		})
	}
	// Readers run alongside.
	wg.Go(func() {
		for range 20 {
			it, err := tbl.Index(ruleDuration, FullRange(true))
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < 50 && it.Next(); i++ {
				if _, err := tbl.GetSpan(it.Entry().Ref); err != nil {
					t.Error(err)
				}
			}
			if err := errors.Join(it.Err(), it.Close()); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	var all []Span
	for _, w := range written {
		all = append(all, w...)
	}
	checkTraces(t, tbl, byTrace(all))
	if n := len(scan(t, tbl, ruleTimestamp, FullRange(false))); n != len(all) {
		t.Fatalf("%d timestamp entries, want %d", n, len(all))
	}
}

func TestWriteInvalid(t *testing.T) {
	tbl, _ := newTestTable(t)
	for _, c := range []struct {
		name  string
		spans []Span
		wo    WriteOptions
	}{
		{"empty trace ID", []Span{{TraceID: "ok"}, {TraceID: ""}}, WriteOptions{}},
		{"long trace ID", []Span{{TraceID: strings.Repeat("x", MaxTraceIDLen+1)}}, WriteOptions{}},
		{"negative sort position", []Span{{TraceID: "t"}}, WriteOptions{Rules: []IndexRule{{ID: 1, SortTagPos: -1}}}},
		{"negative indexed tag", []Span{{TraceID: "t"}}, WriteOptions{IndexedTags: []int{-1}}},
		{"huge indexed tag", []Span{{TraceID: "t"}}, WriteOptions{IndexedTags: []int{maxTagPos}}},
	} {
		if err := tbl.Write(c.spans, c.wo); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%s: %v, want ErrInvalidArgument", c.name, err)
		}
	}
	if got := mustGetTraces(t, tbl, "ok", "t"); len(got) != 0 {
		t.Fatal("a rejected write stored something")
	}
	if err := tbl.Write(nil, swWriteOptions); err != nil {
		t.Fatalf("empty write: %v", err)
	}
	// The longest trace ID is fine.
	long := strings.Repeat("y", MaxTraceIDLen)
	mustWrite(t, tbl, []Span{{TraceID: long, SpanID: "s"}}, swWriteOptions)
	if got := mustGetTraces(t, tbl, long); len(got[long]) != 1 {
		t.Fatal("longest trace ID not stored")
	}
}

func TestClose(t *testing.T) {
	dir := t.TempDir()
	tbl, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, tbl, newSpanGen(7).batch(50, 10), swWriteOptions)
	it, err := tbl.Index(ruleDuration, FullRange(false))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error)
	go func() { closed <- tbl.Close() }()
	// Close waits for the open iterator, which still works meanwhile.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with an iterator open", err)
	case <-time.After(50 * time.Millisecond):
	}
	if !it.Next() {
		t.Fatalf("iterator stopped during Close: %v", it.Err())
	}
	// New operations are refused while closing.
	if _, err := tbl.GetTraces([]string{"x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("GetTraces while closing: %v", err)
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if err := it.Close(); err != nil {
		t.Fatalf("second iterator Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := tbl.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for name, err := range map[string]error{
		"Write":      tbl.Write([]Span{{TraceID: "t"}}, WriteOptions{}),
		"Flush":      tbl.Flush(),
		"Checkpoint": tbl.Checkpoint(filepath.Join(t.TempDir(), "c")),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("%s after Close: %v", name, err)
		}
	}
	if _, err := tbl.Index(1, FullRange(false)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Index after Close: %v", err)
	}
	if _, err := tbl.GetSpan(SpanRef{TraceID: "t"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("GetSpan after Close: %v", err)
	}
	if n := tbl.DiskSize(); n != 0 {
		t.Fatalf("DiskSize after Close: %d", n)
	}
	// The directory is free again.
	tbl, err = Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOptions(t *testing.T) {
	d := DefaultOptions()
	if !d.Sync || d.FlushTimeout != time.Second || d.MemTableSize != 8<<20 || d.CacheSize != 8<<20 || d.MaxFanOutSize != 0 {
		t.Fatalf("defaults: %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Options{FlushTimeout: -1, CacheSize: -1, MaxFanOutSize: -1, MemTableSize: 1}
	err := bad.Validate()
	if !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Validate: %v", err)
	}
	for _, field := range []string{"FlushTimeout", "CacheSize", "MaxFanOutSize", "MemTableSize"} {
		if !strings.Contains(err.Error(), field) {
			t.Fatalf("%q does not name %s", err, field)
		}
	}
	if _, err := Open(t.TempDir(), bad); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Open with bad options: %v", err)
	}

	o := DefaultOptions()
	o.MaxFanOutSize = 3 << 20
	po := o.pebbleOptions("/x", nil, zerolog.Nop())
	for i, l := range po.Levels {
		want := min(int64(2<<20)<<i, 3<<20)
		if l.TargetFileSize != want {
			t.Fatalf("level %d target %d, want %d", i, l.TargetFileSize, want)
		}
		if l.Compression != pebble.SnappyCompression || l.FilterPolicy == nil {
			t.Fatalf("level %d: compression %v, filter %v", i, l.Compression, l.FilterPolicy)
		}
	}
}

func TestOpenFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	tbl, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// A second Open of a directory in use fails (Pebble's lock)...
	if _, err := Open(dir, DefaultOptions()); err == nil {
		t.Fatal("second Open of the same directory succeeded")
	}
	if err := tbl.Close(); err != nil {
		t.Fatal(err)
	}
	// ... and a directory of an unknown format is refused and left closed.
	db, err := pebble.Open(dir, &pebble.Options{Comparer: tableComparer, Logger: pebbleLogger{zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(metaKeyFormat, []byte{99}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, DefaultOptions()); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("Open of format 99: %v", err)
	}
	// A format 1 table opens and is upgraded to the current format.
	db, err = pebble.Open(dir, &pebble.Options{Comparer: tableComparer, Logger: pebbleLogger{zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	if err = db.Set(metaKeyFormat, []byte{1}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err = db.Close(); err != nil {
		t.Fatal(err)
	}
	tbl, err = Open(dir, DefaultOptions())
	if err != nil {
		t.Fatalf("Open of format 1: %v", err)
	}
	if err = tbl.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = pebble.Open(dir, &pebble.Options{Comparer: tableComparer, Logger: pebbleLogger{zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	v, closer, err := db.Get(metaKeyFormat)
	if err != nil || len(v) != 1 || v[0] != formatVersion {
		t.Fatalf("format after the upgrade: %x, err %v", v, err)
	}
	_ = closer.Close()
	if err = db.Set(metaKeyFormat, []byte{99}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err = db.Close(); err != nil {
		t.Fatal(err)
	}
	// It released the directory: Pebble opens it again.
	db, err = pebble.Open(dir, &pebble.Options{Comparer: tableComparer, Logger: pebbleLogger{zerolog.Nop()}})
	if err != nil {
		t.Fatalf("directory still locked after the failed Open: %v", err)
	}
	_ = db.Close()
}

func TestSharedCache(t *testing.T) {
	cache := pebble.NewCache(1 << 20)
	defer cache.Unref()
	var tables []*Table
	for range 3 {
		o := DefaultOptions()
		o.Cache = cache
		tbl, err := Open(t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, tbl)
	}
	spans := newSpanGen(8).batch(50, 10)
	for _, tbl := range tables {
		mustWrite(t, tbl, spans, swWriteOptions)
		if err := tbl.Flush(); err != nil {
			t.Fatal(err)
		}
		checkTraces(t, tbl, byTrace(spans))
		if err := tbl.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFlushTimeout checks that written data reaches an sstable by itself
// within the timeout, and that an idle table is not flushed.
func TestFlushTimeout(t *testing.T) {
	tbl, _ := newTestTable(t, func(o *Options) { o.FlushTimeout = 100 * time.Millisecond })
	flushes := func() int64 { return tbl.db.Metrics().Flush.Count }
	time.Sleep(300 * time.Millisecond)
	if n := flushes(); n != 0 {
		t.Fatalf("idle table flushed %d times", n)
	}
	mustWrite(t, tbl, newSpanGen(9).batch(10, 10), swWriteOptions)
	deadline := time.Now().Add(5 * time.Second)
	for flushes() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no flush within 5s of a write with a 100ms flush timeout")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if l0 := tbl.db.Metrics().Levels[0].NumFiles; l0 == 0 {
		t.Fatal("flush produced no L0 file")
	}
}

// TestNoWALRecycling guards walDeleteCleaner: obsolete WAL files are deleted,
// not kept for reuse.
func TestNoWALRecycling(t *testing.T) {
	tbl, dir := newTestTable(t, func(o *Options) { o.MemTableSize = 256 << 10 })
	g := newSpanGen(10)
	for range 10 {
		mustWrite(t, tbl, g.batch(200, 10), swWriteOptions)
		if err := tbl.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d WAL files on disk, want 1: %v", len(logs), logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m := tbl.db.Metrics(); m.WAL.ObsoleteFiles != 0 {
		t.Fatalf("%d obsolete WAL files kept", m.WAL.ObsoleteFiles)
	}
}

func TestDiskSize(t *testing.T) {
	tbl, _ := newTestTable(t)
	before := tbl.DiskSize()
	spans := newSpanGen(11).batch(2000, 10)
	mustWrite(t, tbl, spans, swWriteOptions)
	if err := tbl.Flush(); err != nil {
		t.Fatal(err)
	}
	after := tbl.DiskSize()
	perSpan := float64(after-before) / float64(len(spans))
	// ~600 B spans, about half random: a few hundred bytes each on disk.
	if perSpan < 200 || perSpan > 600 {
		t.Fatalf("%.0f bytes per span on disk", perSpan)
	}
}

// TestWALFileNoSync checks what Options.Sync=false relies on: WAL files of
// the table's own directory get no-op syncs, and nothing else does.
func TestWALFileNoSync(t *testing.T) {
	dir := t.TempDir()
	fs := walNoSyncFS{FS: vfs.Default, dir: filepath.Clean(dir)}
	for name, want := range map[string]bool{
		filepath.Join(dir, "000001.log"):          true,
		filepath.Join(dir, "000002.sst"):          false,
		filepath.Join(dir, "MANIFEST-000001"):     false,
		filepath.Join(dir, "sub", "000003.log"):   false,
		filepath.Join(dir+"-other", "000004.log"): false,
		filepath.Join(dir, ".", "000005.log"):     true,
	} {
		if got := fs.isWAL(name); got != want {
			t.Fatalf("isWAL(%s) = %v, want %v", name, got, want)
		}
	}
	f, err := fs.Create(filepath.Join(dir, "000001.log"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.(walNoSyncFile); !ok {
		t.Fatalf("WAL file not wrapped: %T", f)
	}
	_ = f.Close()
	if err := os.Remove(filepath.Join(dir, "000001.log")); err != nil {
		t.Fatal(err)
	}
}

func TestPrefixedRuleEntries(t *testing.T) {
	tbl, _ := newTestTable(t)
	mk := func(trace, service string, sortKey int64) Span {
		return Span{TraceID: trace, SpanID: trace + "-s", Timestamp: 1_000_000,
			Tags: []*modelv1.TagValue{strTag(service), intTag(sortKey)}}
	}
	wo := WriteOptions{Rules: []IndexRule{{ID: 7, SortTagPos: 1, Prefixed: true, PrefixTagPos: 0}}, IndexedTags: []int{0}}
	if err := tbl.Write([]Span{mk("a", "x", 3), mk("b", "y", 5), mk("c", "x", 9), mk("d", "", 1)}, wo); err != nil {
		t.Fatal(err)
	}
	scan := func(ruleID uint32, prefix ...string) []string {
		o := FullRange(true)
		if len(prefix) > 0 {
			o.Prefixed, o.Prefix = true, prefix[0]
		}
		it, err := tbl.Index(ruleID, o)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		var got []string
		for it.Next() {
			e := it.Entry()
			got = append(got, e.TraceID)
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Entries live only under their prefix's rule ID; the rule's own ID holds none.
	if got := scan(7); len(got) != 0 {
		t.Fatalf("unprefixed entries %v", got)
	}
	prefixes, err := tbl.Prefixes(7)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(prefixes, []string{"", "x", "y"}) {
		t.Fatalf("prefixes %q", prefixes)
	}
	if got := scan(7, "x"); !reflect.DeepEqual(got, []string{"c", "a"}) {
		t.Fatalf("prefix x entries %v", got)
	}
	if got := scan(7, "y"); !reflect.DeepEqual(got, []string{"b"}) {
		t.Fatalf("prefix y entries %v", got)
	}
	if got := scan(7, ""); !reflect.DeepEqual(got, []string{"d"}) {
		t.Fatalf("empty prefix entries %v", got)
	}
}

func TestStats(t *testing.T) {
	tbl, _ := newTestTable(t)
	if st, err := tbl.Stats(); err != nil || st.Spans != 0 || st.Records != 0 || st.IndexEntries != 0 {
		t.Fatalf("empty table: %+v, %v", st, err)
	}
	g := newSpanGen(3)
	first, second := g.batch(100, 10), g.batch(50, 5)
	mustWrite(t, tbl, first, swWriteOptions)
	mustWrite(t, tbl, second, swWriteOptions)
	st, err := tbl.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// One record per trace and Write; one entry per span and rule.
	wantRecords := int64(len(byTrace(first)) + len(byTrace(second)))
	if st.Spans != 150 || st.Records != wantRecords || st.IndexEntries != 150*int64(len(swWriteOptions.Rules)) || st.DiskSize <= 0 {
		t.Fatalf("stats %+v, want 150 spans in %d records", st, wantRecords)
	}
}

func TestSpansWrittenTwiceAreReadOnce(t *testing.T) {
	for _, spansPerTrace := range []int{10, 100} { // pairwise below smallTraceSpans, by map above
		t.Run(fmt.Sprintf("%d spans a trace", spansPerTrace), func(t *testing.T) {
			tbl, err := Open(t.TempDir(), DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer tbl.Close()
			g := newSpanGen(7)
			spans := g.batch(2*spansPerTrace, spansPerTrace)
			mustWrite(t, tbl, spans, swWriteOptions)
			entries := len(scan(t, tbl, ruleTimestamp, FullRange(false)))
			// A client retries the whole batch: every span is stored again, and read once.
			mustWrite(t, tbl, spans, swWriteOptions)
			if again := len(scan(t, tbl, ruleTimestamp, FullRange(false))); again != 2*entries {
				t.Fatalf("index entries after the retry = %d, want %d (both writes are stored)", again, 2*entries)
			}
			want := byTrace(spans)
			checkTraces(t, tbl, want)

			// A span of the same id and time that differs in its payload or a tag is another span.
			id := spans[0].TraceID
			payload := withPayloadSuffix(spans[:1], "-other")
			tagged := withPayloadSuffix(spans[:1], "")
			tagged[0].Tags = append([]*modelv1.TagValue(nil), tagged[0].Tags...)
			tagged[0].Tags[posService] = strTag("another-service")
			mustWrite(t, tbl, append(payload, tagged...), swWriteOptions)
			want[id] = append(want[id], payload[0], tagged[0])
			checkTraces(t, tbl, want)
			// Their retries too are read once, though they share an id and a time with others.
			mustWrite(t, tbl, append(tagged, payload...), swWriteOptions)
			checkTraces(t, tbl, want)
		})
	}
}
