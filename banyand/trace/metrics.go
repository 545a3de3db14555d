// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/apache/skywalking-banyandb/banyand/observability"
)

var traceScope = observability.RootScope("trace")

// metrics are the trace model's Prometheus metrics, under the "trace" scope.
type metrics struct {
	writtenSpans *prometheus.CounterVec
	writeErrors  *prometheus.CounterVec
	writeLatency *prometheus.HistogramVec
	queries      *prometheus.CounterVec
	queryErrors  *prometheus.CounterVec
	queryLatency *prometheus.HistogramVec
	missingNodes *prometheus.GaugeVec
}

var latencyBuckets = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5}

func newMetrics(omr observability.MetricsRegistry) *metrics {
	f := omr.With(traceScope)
	return &metrics{
		writtenSpans: f.NewCounter("written_spans_total", "group"),
		writeErrors:  f.NewCounter("write_errors_total", "group", "status"),
		writeLatency: f.NewHistogram("write_batch_seconds", latencyBuckets, "group"),
		queries:      f.NewCounter("queries_total", "group"),
		queryErrors:  f.NewCounter("query_errors_total", "group"),
		queryLatency: f.NewHistogram("query_seconds", latencyBuckets, "group"),
		missingNodes: f.NewGauge("query_missing_nodes"),
	}
}
