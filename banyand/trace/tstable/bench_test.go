// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

const (
	benchBatch         = 1000
	benchSpansPerTrace = 10
)

// reportSize reports the table's size per span after a flush: bytes/span is
// everything on disk (DiskSize: sstables, WAL, manifest), sst-bytes/span
// the sstables alone.
func reportSize(b *testing.B, tbl *Table, spans int) {
	b.Helper()
	if err := tbl.Flush(); err != nil {
		b.Fatal(err)
	}
	m := tbl.db.Metrics()
	var sst int64
	for _, l := range m.Levels {
		sst += l.Size
	}
	b.ReportMetric(float64(tbl.DiskSize())/float64(spans), "bytes/span")
	b.ReportMetric(float64(sst)/float64(spans), "sst-bytes/span")
	for _, kind := range []struct {
		name string
		k    byte
	}{{"record", kindRecord}, {"index", kindIndex}} {
		n, err := tbl.db.EstimateDiskUsage([]byte{kind.k}, []byte{kind.k + 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/float64(spans), kind.name+"-bytes/span")
	}
	if testing.Verbose() {
		b.Logf("spans=%d\n%s", spans, m)
	}
}

// freshener makes a batch unlike every other from a template, cheaply: a
// per-use trace ID prefix, and new random bytes at the end of each payload.
type freshener struct {
	rng  *rand.Rand
	tags []*modelv1.TagValue
}

func newFreshener(seed uint64) *freshener {
	return &freshener{rng: rand.New(rand.NewPCG(seed, 7))}
}

func (f *freshener) freshen(dst, tmpl []Span, use int) []Span {
	dst = append(dst[:0], tmpl...)
	prefix := fmt.Sprintf("%08x", use)
	f.tags = slices.Grow(f.tags[:0], len(tmpl)*numTags)[:len(tmpl)*numTags]
	for i := range dst {
		sp := &dst[i]
		sp.TraceID = prefix + tmpl[i].TraceID[8:]
		tags := f.tags[i*numTags : (i+1)*numTags : (i+1)*numTags]
		copy(tags, tmpl[i].Tags)
		tags[posTraceID] = strTag(sp.TraceID)
		sp.Tags = tags
		p := slices.Clone(tmpl[i].Payload)
		for j := len(p) - 176; j+8 <= len(p); j += 8 {
			binary.LittleEndian.PutUint64(p[j:], f.rng.Uint64())
		}
		sp.Payload = p
	}
	return dst
}

// waitCompactions waits until Pebble has run no compaction for a while:
// what the written data owed has been paid.
func waitCompactions(b *testing.B, tbl *Table) {
	b.Helper()
	idle := 0
	for idle < 10 {
		if tbl.db.Metrics().Compact.NumInProgress == 0 {
			idle++
		} else {
			idle = 0
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cpuTime returns the CPU time (user+system) of the process in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkWrite writes 1,000-span batches (~600 B spans, 10 per trace, two
// index rules, three indexed tags), from one writer and from four.
func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct {
		name    string
		writers int
		sync    bool
	}{
		{"writers=1/sync=false", 1, false},
		{"writers=4/sync=false", 4, false},
		{"writers=4/sync=true", 4, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tbl, _ := newTestTable(b, func(o *Options) { o.Sync = bc.sync })
			// Batches are made before the clock starts; the generator is
			// not what is measured. Each use of a template gets fresh trace
			// IDs and fresh random payload bytes (see freshen), so that no
			// two records are alike.
			const distinct = 16
			g := newSpanGen(1)
			templates := make([][]Span, distinct)
			for i := range templates {
				templates[i] = g.batch(benchBatch, benchSpansPerTrace)
			}
			var payload int
			for _, sp := range templates[0] {
				payload += len(sp.Payload)
			}
			b.SetBytes(int64(payload))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			cpu0 := cpuTime()
			var wg sync.WaitGroup
			work := make(chan int)
			for w := range bc.writers {
				wg.Go(func() {
					f := newFreshener(uint64(w))
					var batch []Span
					for i := range work {
						batch = f.freshen(batch, templates[i%distinct], i)
						if err := tbl.Write(batch, swWriteOptions); err != nil {
							b.Error(err)
						}
					}
				})
			}
			for i := range b.N {
				work <- i
			}
			close(work)
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			spans := b.N * benchBatch
			b.ReportMetric(float64(spans)/elapsed.Seconds(), "spans/s")
			// Background compactions still owe work for what was written;
			// a sustained rate has to pay for it.
			if err := tbl.Flush(); err != nil {
				b.Fatal(err)
			}
			waitCompactions(b, tbl)
			drained := time.Since(start)
			b.ReportMetric(float64(spans)/drained.Seconds(), "drained-spans/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(spans)/1e3, "cpu-us/span")
			reportSize(b, tbl, spans)
		})
	}
}

// BenchmarkIndexScan answers "service = X order by duration desc limit 20"
// over 200,000 spans: a descending scan of the duration rule that filters on
// the indexed service tag and stops at 20 distinct traces.
func BenchmarkIndexScan(b *testing.B) {
	tbl, _ := newTestTable(b)
	g := newSpanGen(2)
	const total = 200_000
	for range total / benchBatch {
		if err := tbl.Write(g.batch(benchBatch, benchSpansPerTrace), swWriteOptions); err != nil {
			b.Fatal(err)
		}
	}
	if err := tbl.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := tbl.db.Compact([]byte{0}, []byte{0xff}, true); err != nil {
		b.Fatal(err)
	}
	reportSize(b, tbl, total)
	service := g.services[3]
	scanned := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		it, err := tbl.Index(ruleDuration, IterOptions{Desc: true, Min: math.MinInt64, Max: math.MaxInt64})
		if err != nil {
			b.Fatal(err)
		}
		seen := make(map[string]struct{}, 20)
		for len(seen) < 20 && it.Next() {
			scanned++
			e := it.Entry()
			if e.Tags[posService].GetStr().GetValue() == service {
				seen[e.TraceID] = struct{}{}
			}
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		if err := it.Close(); err != nil {
			b.Fatal(err)
		}
		if len(seen) != 20 {
			b.Fatalf("found %d traces", len(seen))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(scanned)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(scanned)/float64(b.N), "entries/op")
}

// BenchmarkDropRepeatedSpans is what a read pays to answer a span stored twice once, for traces
// of distinct spans (the common case).
func BenchmarkDropRepeatedSpans(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("%d distinct spans", n), func(b *testing.B) {
			g := newSpanGen(1)
			spans := g.batch(n, n)
			stored := make([]StoredSpan, len(spans))
			for i, sp := range spans {
				stored[i] = StoredSpan{TraceID: sp.TraceID, SpanID: sp.SpanID, Timestamp: sp.Timestamp, Tags: sp.Tags, Payload: sp.Payload}
			}
			work := make([]StoredSpan, len(stored))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				copy(work, stored)
				if got := dropRepeatedSpans(work); len(got) != n {
					b.Fatalf("kept %d of %d distinct spans", len(got), n)
				}
			}
		})
	}
}
