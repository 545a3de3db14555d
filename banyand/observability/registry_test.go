package observability

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestScopeAndMetricName(t *testing.T) {
	tests := []struct {
		scope Scope
		name  string
		want  string
	}{
		{RootScope("trace"), "total", "banyandb_trace_total"},
		{RootScope("trace").SubScope("write"), "spans", "banyandb_trace_write_spans"},
		{RootScope("trace").SubScope("write").SubScope("shard"), "x", "banyandb_trace_write_shard_x"},
		{RootScope(""), "up", "banyandb_up"},
		{RootScope("memory-protector"), "limit.bytes", "banyandb_memory_protector_limit_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := metricName(tt.scope, tt.name); got != tt.want {
				t.Fatalf("metricName(%q, %q) = %q, want %q", tt.scope, tt.name, got, tt.want)
			}
		})
	}
	if got := RootScope("a").SubScope("b"); got != "a_b" {
		t.Fatalf("SubScope = %q, want a_b", got)
	}
}

func TestFactoryRegistersUnderScopedName(t *testing.T) {
	reg := NewBypassRegistry()
	f := reg.With(RootScope("trace").SubScope("write"))
	f.NewCounter("spans_total", "group").WithLabelValues("g1").Add(3)
	f.NewGauge("pending").WithLabelValues().Set(7)
	f.NewHistogram("latency_seconds", []float64{0.1, 1}, "op").WithLabelValues("put").Observe(0.5)

	n := seriesCount(t, reg.Gatherer(),
		"banyandb_trace_write_spans_total", "banyandb_trace_write_pending", "banyandb_trace_write_latency_seconds")
	if n != 3 {
		t.Fatalf("gathered %d series, want 3", n)
	}
}

func TestFactoryReturnsAlreadyRegisteredCollector(t *testing.T) {
	reg := NewBypassRegistry()
	f := reg.With(RootScope("svc"))

	c1, c2 := f.NewCounter("requests_total", "code"), reg.With(RootScope("svc")).NewCounter("requests_total", "code")
	if c1 != c2 {
		t.Fatal("second NewCounter returned a different counter")
	}
	g1, g2 := f.NewGauge("in_flight"), f.NewGauge("in_flight")
	if g1 != g2 {
		t.Fatal("second NewGauge returned a different gauge")
	}
	h1, h2 := f.NewHistogram("seconds", nil), f.NewHistogram("seconds", nil)
	if h1 != h2 {
		t.Fatal("second NewHistogram returned a different histogram")
	}

	c1.WithLabelValues("200").Inc()
	c2.WithLabelValues("200").Inc()
	if got := counterValue(t, c1, "200"); got != 2 {
		t.Fatalf("counter = %v, want 2 (both handles share one series)", got)
	}
}

func TestFactoryConflictsDoNotPanic(t *testing.T) {
	reg := NewBypassRegistry()
	f := reg.With(RootScope("svc"))
	registered := f.NewCounter("events_total", "kind")
	registered.WithLabelValues("a").Inc()

	tests := []struct {
		name string
		make func() prometheus.Collector
	}{
		{"other labels", func() prometheus.Collector { return f.NewCounter("events_total", "other") }},
		{"other type", func() prometheus.Collector { return f.NewGauge("events_total", "kind") }},
		{"invalid label", func() prometheus.Collector { return f.NewGauge("bad_labels", "not-valid") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c := tt.make(); c == nil {
				t.Fatal("got nil collector")
			}
		})
	}
	if got := counterValue(t, registered, "a"); got != 1 {
		t.Fatalf("original counter = %v, want 1", got)
	}
	if n := seriesCount(t, reg.Gatherer()); n != 1 {
		t.Fatalf("gathered %d series, want only the original one", n)
	}
}

func TestHistogramBuckets(t *testing.T) {
	tests := []struct {
		name    string
		buckets []float64
		want    int
	}{
		{"custom", []float64{1, 2, 4}, 3},
		{"nil uses defaults", nil, len(prometheus.DefBuckets)},
		{"unsorted uses defaults", []float64{2, 1}, len(prometheus.DefBuckets)},
		{"duplicate uses defaults", []float64{1, 1}, len(prometheus.DefBuckets)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := NewBypassRegistry()
			reg.With(RootScope("h")).NewHistogram("seconds", tt.buckets).WithLabelValues().Observe(1)
			mfs, err := reg.Gatherer().Gather()
			if err != nil || len(mfs) != 1 {
				t.Fatalf("gather: %d families, %v", len(mfs), err)
			}
			if got := len(mfs[0].GetMetric()[0].GetHistogram().GetBucket()); got != tt.want {
				t.Fatalf("got %d buckets, want %d", got, tt.want)
			}
		})
	}
}

func TestBypassRegistriesAreIndependent(t *testing.T) {
	a, b := NewBypassRegistry(), NewBypassRegistry()
	a.With(RootScope("x")).NewCounter("c").WithLabelValues().Inc()
	b.With(RootScope("x")).NewCounter("c").WithLabelValues().Add(5)
	if n := seriesCount(t, a.Gatherer(), "banyandb_x_c"); n != 1 {
		t.Fatalf("registry a: %d series, want 1", n)
	}
	if got := counterValue(t, b.With(RootScope("x")).NewCounter("c")); got != 5 {
		t.Fatalf("registry b counter = %v, want 5", got)
	}
	if err := a.Registerer().Register(prometheus.NewCounter(prometheus.CounterOpts{Name: "extra"})); err != nil {
		t.Fatalf("Registerer: %v", err)
	}
	if n := seriesCount(t, b.Gatherer(), "extra"); n != 0 {
		t.Fatal("a collector registered on a leaked into b")
	}
}
