// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Command bench is the trace write/query benchmark. It speaks only the public gRPC API: it creates
// the sw schema, writes a generated workload of traces over concurrent write streams, then checks
// trace-id and condition queries against answers computed locally, and reports throughput,
// latencies, bytes on disk per span and the server's peak RSS. Its last line is
//
//	bench: spans_per_s=N id_p99_ms=X cond_p99_ms=Y bytes_per_span=Z peak_rss_mib=W failures=K
//
// where a figure that could not be measured is "-", and failures counts spans not acknowledged,
// unexpected write responses, failed query calls and wrong query answers.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

type options struct {
	addr          string
	testdata      string
	group         string
	createSchema  bool
	traces        int
	spans         int
	spanSize      int
	services      int
	streams       int
	batch         int
	idQueries     int
	condQueries   int
	limit         int
	dataDir       string
	pid           int
	seed          uint64
	flushWait     time.Duration
	schemaTimeout time.Duration
	queryTimeout  time.Duration
	showProblems  int
}

func parseFlags() *options {
	o := &options{}
	flag.StringVar(&o.addr, "addr", "127.0.0.1:17912", "gRPC address of the server")
	flag.StringVar(&o.testdata, "testdata", "", "directory holding schema/{groups,traces,index_rules,index_rule_bindings}; empty uses the fixtures of pkg/test/trace built into the bench")
	flag.StringVar(&o.group, "group", "", "write to this group instead of the one in the schema files (useful against a server that already holds bench data)")
	flag.BoolVar(&o.createSchema, "create-schema", true, "create the group, trace, index rules and binding (AlreadyExists is ignored)")
	flag.IntVar(&o.traces, "traces", 20000, "number of traces")
	flag.IntVar(&o.spans, "spans", 10, "spans per trace (spans 1-5 in the root service, the rest in a second service)")
	flag.IntVar(&o.spanSize, "span-size", 600, "bytes of each span payload")
	flag.IntVar(&o.services, "services", 50, "number of services")
	flag.IntVar(&o.streams, "streams", 4, "concurrent write streams")
	flag.IntVar(&o.batch, "batch", 1000, "spans per batch on a write stream")
	flag.IntVar(&o.idQueries, "id-queries", 1000, "number of trace-id queries")
	flag.IntVar(&o.condQueries, "cond-queries", 200, "number of service_id condition queries")
	flag.IntVar(&o.limit, "limit", 20, "limit of the condition queries")
	flag.StringVar(&o.dataDir, "data-dir", "", "the server's trace data directory: bytes on disk per span are measured under it")
	flag.IntVar(&o.pid, "pid", 0, "the server's process id: its peak RSS (VmHWM) is reported")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated data and of the query choices")
	flag.DurationVar(&o.flushWait, "flush-wait", 3*time.Second, "how long to wait after the writes before measuring the data directory (past the server's flush timeout)")
	flag.DurationVar(&o.schemaTimeout, "schema-timeout", 60*time.Second, "how long to wait for the schema to be created and writable")
	flag.DurationVar(&o.queryTimeout, "query-timeout", 30*time.Second, "timeout of one query")
	flag.IntVar(&o.showProblems, "show-problems", 5, "print at most this many problems of each kind to stderr")
	flag.Parse()
	return o
}

func (o *options) validate() error {
	switch {
	case o.traces < 1, o.spans < 1, o.services < 2, o.streams < 1, o.batch < 1, o.spanSize < 0:
		return fmt.Errorf("-traces, -spans, -streams and -batch must be positive and -services at least 2")
	case o.limit < 1 || o.limit > 1000:
		return fmt.Errorf("-limit must be in 1..1000")
	case o.idQueries < 0 || o.condQueries < 0:
		return fmt.Errorf("query counts must not be negative")
	}
	return nil
}

func main() {
	o := parseFlags()
	if err := o.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, o)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, o *options) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
		fmt.Println("bench: spans_per_s=- id_p99_ms=- cond_p99_ms=- bytes_per_span=- peak_rss_mib=- failures=-")
		return 1
	}
	sch, err := loadSchema(o.testdata, o.group)
	if err != nil {
		return fail("load schema: %v", err)
	}
	conn, err := grpc.NewClient(o.addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return fail("connect %s: %v", o.addr, err)
	}
	defer conn.Close()
	client := tracev1.NewTraceServiceClient(conn)

	// Generate first, so that the write phase measures the server and not the generator.
	genStart := time.Now()
	now := time.Now()
	w := generate(workloadConfig{
		traces: o.traces, spansPerTrace: o.spans, services: o.services, instances: 5, endpoints: 20,
		spanSize: o.spanSize, errorRate: 0.05, window: time.Hour, seed: o.seed,
	}, now)
	reqs := w.requests(sch.metadata)
	fmt.Printf("bench: generated %d traces x %d spans (%d spans, %d-byte payloads) in %v; spans from %s to %s\n",
		len(w.traces), o.spans, len(reqs), o.spanSize, time.Since(genStart).Round(time.Millisecond),
		w.minTS.Format(time.RFC3339), w.maxTS.Format(time.RFC3339))

	sctx, cancel := context.WithTimeout(ctx, o.schemaTimeout)
	if o.createSchema {
		if err := sch.create(sctx, conn); err != nil {
			cancel()
			return fail("%v", err)
		}
	}
	schemaStart := time.Now()
	// The probe lies just before the workload's window: it is never part of an answer.
	if err := sch.waitWritable(sctx, client, o.seed, w.minTS.Add(-30*time.Second)); err != nil {
		cancel()
		return fail("schema %s/%s: %v", sch.metadata.GetGroup(), sch.metadata.GetName(), err)
	}
	cancel()
	fmt.Printf("bench: schema %s/%s writable after %v\n", sch.metadata.GetGroup(), sch.metadata.GetName(), time.Since(schemaStart).Round(time.Millisecond))

	log := newMismatchLog(os.Stderr, o.showProblems)
	acks := newAckSet(len(w.traces), o.spans)
	ws := runWrites(ctx, client, reqs, acks, o.streams, o.batch, log)
	acked := ws.acked.Load()
	spansPerS := fig{}
	if ws.elapsed > 0 && acked > 0 {
		sec := ws.elapsed.Seconds()
		spansPerS = figInt(int64(float64(acked) / sec))
		fmt.Printf("bench: write  spans=%d sent=%d acked=%d refused=%d unexpected=%d in %v: %s spans/s, %.1f MB/s of payload+tags\n",
			len(reqs), ws.sent.Load(), acked, ws.refused.Load(), ws.unexpected.Load(), ws.elapsed.Round(time.Millisecond),
			spansPerS, float64(ws.ackedBytes.Load())/sec/1e6)
	} else {
		fmt.Printf("bench: write  spans=%d sent=%d acked=%d refused=%d in %v\n", len(reqs), ws.sent.Load(), acked, ws.refused.Load(), ws.elapsed.Round(time.Millisecond))
	}
	if len(ws.statuses) > 1 || ws.refused.Load() > 0 {
		fmt.Printf("bench: write  statuses %v\n", ws.statuses)
	}
	if p50, ok := percentile(ws.batchLat, 50); ok {
		p99, _ := percentile(ws.batchLat, 99)
		fmt.Printf("bench: write  batch ack latency p50_ms=%.1f p99_ms=%.1f (%d batches)\n", ms(p50), ms(p99), len(ws.batchLat))
	}
	for _, e := range ws.streamErrs {
		fmt.Fprintf(os.Stderr, "bench: write stream error: %s\n", e)
	}
	writeEnd := time.Now()

	bytesPerSpan := fig{}
	if o.dataDir != "" {
		time.Sleep(time.Until(writeEnd.Add(o.flushWait)))
		u, err := dirSize(o.dataDir)
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "bench: measure %s: %v\n", o.dataDir, err)
		case acked == 0:
		default:
			bytesPerSpan = figInt(int64(float64(u.total)/float64(acked) + 0.5))
			fmt.Printf("bench: disk   %d bytes in %d files under %s %v after the writes: %s bytes/span (payload %d); %s\n",
				u.total, u.files, o.dataDir, o.flushWait, bytesPerSpan, o.spanSize, u.breakdown())
		}
	}

	q := &querier{client: client, schema: sch, w: w, acks: acks, log: log, timeout: o.queryTimeout, refByQuery: map[string][]rankedTrace{}}
	qrng := rand.New(rand.NewPCG(o.seed+1, o.seed^0x5851f42d4c957f2d))
	ids := q.idQueries(ctx, o.idQueries, qrng, now, time.Minute)
	conds := q.condQueries(ctx, o.condQueries, o.limit, qrng)
	idLine, idP99 := latencyLine(ids)
	condLine, condP99 := latencyLine(conds)
	fmt.Println("bench: query", idLine)
	fmt.Println("bench: query", condLine)

	if o.dataDir != "" {
		if u, err := dirSize(o.dataDir); err == nil && acked > 0 {
			fmt.Printf("bench: disk   %d bytes in %d files at the end: %.0f bytes/span; %s\n", u.total, u.files, float64(u.total)/float64(acked), u.breakdown())
		}
	}
	rss := fig{}
	if o.pid > 0 {
		if kib, err := procStatusKiB(o.pid, "VmHWM"); err != nil {
			fmt.Fprintf(os.Stderr, "bench: peak RSS of pid %d: %v\n", o.pid, err)
		} else {
			rss = figFloat(float64(kib)/1024, 1)
		}
	}
	log.summary()
	failures := int64(len(reqs)) - acked + ws.unexpected.Load() + int64(ids.failures()+conds.failures())
	fmt.Printf("bench: spans_per_s=%s id_p99_ms=%s cond_p99_ms=%s bytes_per_span=%s peak_rss_mib=%s failures=%d\n",
		spansPerS, idP99, condP99, bytesPerSpan, rss, failures)
	if failures > 0 || ctx.Err() != nil {
		return 1
	}
	return 0
}
