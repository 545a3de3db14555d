// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package main

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// workloadConfig shapes the generated data.
type workloadConfig struct {
	traces        int
	spansPerTrace int
	services      int
	instances     int // per service
	endpoints     int // per service
	spanSize      int
	errorRate     float64 // share of spans with state = 1
	window        time.Duration
	seed          uint64
}

// genSpan is one generated span: its tag values and its payload.
type genSpan struct {
	spanID   string
	service  string
	instance string
	endpoint string
	state    int64
	duration int64
	ts       time.Time // millisecond precision
	payload  []byte
}

// genTrace is one generated trace.
type genTrace struct {
	id          string
	rootService int
	start       time.Time
	spans       []genSpan
}

// workload is the whole generated data set, in write order (trace after trace).
type workload struct {
	cfg    workloadConfig
	traces []genTrace
	minTS  time.Time
	maxTS  time.Time
}

// serviceName names service i, e.g. "service-07".
func serviceName(i int) string { return fmt.Sprintf("service-%02d", i) }

// generate builds the data set. Everything but the absolute time is a function of cfg.seed: the
// trace start times are offsets drawn from the seed, placed in the window ending at now.
func generate(cfg workloadConfig, now time.Time) *workload {
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
	now = now.Truncate(time.Second)
	// Keep the last span of every trace a few seconds in the past.
	span := cfg.window - 5*time.Second - time.Duration(cfg.spansPerTrace)*time.Millisecond
	if span <= time.Millisecond {
		span = time.Millisecond
	}
	base := now.Add(-cfg.window)
	// Spans 1-5 belong to the root service, spans 6 and later to a second service.
	rootSpans := min(cfg.spansPerTrace, 5)
	w := &workload{cfg: cfg, traces: make([]genTrace, cfg.traces)}
	idBytes := make([]byte, 16)
	for t := range w.traces {
		for i := 0; i < len(idBytes); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8; j++ {
				idBytes[i+j] = byte(v >> (8 * j))
			}
		}
		tr := &w.traces[t]
		tr.id = hex.EncodeToString(idBytes) + "-" + fmt.Sprint(t)
		tr.rootService = rng.IntN(cfg.services)
		second := tr.rootService
		if cfg.services > 1 {
			second = (tr.rootService + 1 + rng.IntN(cfg.services-1)) % cfg.services
		}
		tr.start = base.Add(time.Duration(rng.Int64N(int64(span/time.Millisecond))) * time.Millisecond)
		rootDur := int64(math.Exp(rng.NormFloat64()*1.2 + 4.5))
		if rootDur < 1 {
			rootDur = 1
		}
		tr.spans = make([]genSpan, cfg.spansPerTrace)
		for i := range tr.spans {
			svc := tr.rootService
			if i >= rootSpans {
				svc = second
			}
			s := &tr.spans[i]
			s.spanID = fmt.Sprintf("span-%d-%d", t, i)
			s.service = serviceName(svc)
			s.instance = fmt.Sprintf("%s-instance-%d", s.service, rng.IntN(cfg.instances))
			s.endpoint = fmt.Sprintf("/%s/endpoint-%02d", s.service, rng.IntN(cfg.endpoints))
			if rng.Float64() < cfg.errorRate {
				s.state = 1
			}
			if i == 0 {
				s.duration = rootDur
			} else {
				s.duration = rng.Int64N(rootDur) // uniform in [0, root)
			}
			s.ts = tr.start.Add(time.Duration(i) * time.Millisecond)
			s.payload = makePayload(rng, cfg.spanSize, tr.id, s)
		}
		first, last := tr.spans[0].ts, tr.spans[len(tr.spans)-1].ts
		if t == 0 || first.Before(w.minTS) {
			w.minTS = first
		}
		if t == 0 || last.After(w.maxTS) {
			w.maxTS = last
		}
	}
	return w
}

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// makePayload builds a span body of exactly size bytes: a JSON-like header naming the ids, then
// random base64 characters, closed like a JSON string.
func makePayload(rng *rand.Rand, size int, traceID string, s *genSpan) []byte {
	header := fmt.Sprintf(`{"trace_id":%q,"span_id":%q,"service_id":%q,"service_instance_id":%q,"endpoint_id":%q,"duration":%d,"state":%d,"body":"`,
		traceID, s.spanID, s.service, s.instance, s.endpoint, s.duration, s.state)
	buf := make([]byte, 0, size)
	buf = append(buf, header...)
	tail := []byte(`"}`)
	if len(buf)+len(tail) > size {
		buf = buf[:max(0, size-len(tail))]
		if size < len(tail) {
			return buf[:size]
		}
		return append(buf, tail[:size-len(buf)]...)
	}
	for n := size - len(tail) - len(buf); n > 0; {
		v := rng.Uint64()
		for k := 0; k < 10 && n > 0; k++ {
			buf = append(buf, base64Chars[v&63])
			v >>= 6
			n--
		}
	}
	return append(buf, tail...)
}

// spanCount is the number of generated spans.
func (w *workload) spanCount() int { return len(w.traces) * w.cfg.spansPerTrace }

// tagValues returns the span's tag values in the order of the sw schema: trace_id, state,
// service_id, service_instance_id, endpoint_id, duration, span_id, timestamp.
func tagValues(traceID string, s *genSpan) []*modelv1.TagValue {
	str := func(v string) *modelv1.TagValue {
		return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: v}}}
	}
	num := func(v int64) *modelv1.TagValue {
		return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: v}}}
	}
	return []*modelv1.TagValue{
		str(traceID),
		num(s.state),
		str(s.service),
		str(s.instance),
		str(s.endpoint),
		num(s.duration),
		str(s.spanID),
		{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(s.ts)}},
	}
}

// spanBytes is what a span carries on the wire for the MB/s figure: payload plus tag values
// (strings by length, ints and timestamps as 8 bytes).
func spanBytes(traceID string, s *genSpan) int64 {
	return int64(len(s.payload) + len(traceID) + len(s.service) + len(s.instance) + len(s.endpoint) + len(s.spanID) + 8*3)
}

// request is one span ready to be written, with its position in the workload.
type request struct {
	trace, span int
	req         *tracev1.WriteRequest
	bytes       int64
}

// requests builds the write requests of the workload in write order (trace after trace).
func (w *workload) requests(md *commonv1.Metadata) []request {
	out := make([]request, 0, w.spanCount())
	for t := range w.traces {
		tr := &w.traces[t]
		for i := range tr.spans {
			s := &tr.spans[i]
			out = append(out, request{
				trace: t,
				span:  i,
				req:   &tracev1.WriteRequest{Metadata: md, Tags: tagValues(tr.id, s), Span: s.payload},
				bytes: spanBytes(tr.id, s),
			})
		}
	}
	return out
}
