// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"math"
	"sync"
	"syscall"
	"testing"
	"time"
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
	if testing.Verbose() {
		b.Logf("spans=%d\n%s", spans, m)
	}
}

// waitCompactions waits until Pebble has no compaction running or owed.
func waitCompactions(b *testing.B, tbl *Table) {
	for {
		m := tbl.db.Metrics()
		if m.Compact.EstimatedDebt == 0 && m.Compact.NumInProgress == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
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
			// not what is measured.
			const distinct = 64
			batches := make([][]Span, distinct)
			g := newSpanGen(1)
			for i := range batches {
				batches[i] = g.batch(benchBatch, benchSpansPerTrace)
			}
			var payload int
			for _, sp := range batches[0] {
				payload += len(sp.Payload)
			}
			b.SetBytes(int64(payload))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			cpu0 := cpuTime()
			var wg sync.WaitGroup
			work := make(chan int)
			for range bc.writers {
				wg.Go(func() {
					for i := range work {
						if err := tbl.Write(batches[i%distinct], swWriteOptions); err != nil {
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
