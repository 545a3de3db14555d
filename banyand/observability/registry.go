package observability

import (
	"github.com/pkg/errors"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// MetricsRegistry hands out metric factories bound to a scope and exposes the underlying registry.
type MetricsRegistry interface {
	// With returns a Factory whose metrics are named "banyandb_<scope>_<name>".
	With(scope Scope) Factory
	// Registerer returns the registry for collectors built outside a Factory.
	Registerer() prometheus.Registerer
	// Gatherer returns the registry for reading the current metric values.
	Gatherer() prometheus.Gatherer
}

// Factory creates metric vectors within one scope.
//
// Creating a metric whose name and labels are already registered returns the registered vector,
// so modules may call the constructors more than once. A metric that cannot be registered (a name
// already used with other labels or type, or an invalid label) is logged and returned unregistered:
// it works but is not exported.
type Factory interface {
	// NewCounter returns a counter vector with the given label names.
	NewCounter(name string, labels ...string) *prometheus.CounterVec
	// NewGauge returns a gauge vector with the given label names.
	NewGauge(name string, labels ...string) *prometheus.GaugeVec
	// NewHistogram returns a histogram vector; nil or unsorted buckets fall back to prometheus.DefBuckets.
	NewHistogram(name string, buckets []float64, labels ...string) *prometheus.HistogramVec
}

// registry implements MetricsRegistry over one prometheus.Registry.
type registry struct {
	reg *prometheus.Registry
	log *logger.Logger
}

var _ MetricsRegistry = (*registry)(nil)

// NewBypassRegistry returns a MetricsRegistry over a fresh private registry, for tests and tools.
func NewBypassRegistry() MetricsRegistry {
	return newRegistry(prometheus.NewRegistry(), nil)
}

func newRegistry(reg *prometheus.Registry, l *logger.Logger) *registry {
	if l == nil {
		l = logger.GetLogger("observability")
	}
	return &registry{reg: reg, log: l}
}

func (r *registry) With(scope Scope) Factory {
	return &factory{scope: scope, reg: r.reg, log: r.log}
}

func (r *registry) Registerer() prometheus.Registerer {
	return r.reg
}

func (r *registry) Gatherer() prometheus.Gatherer {
	return r.reg
}

// factory implements Factory for one scope.
type factory struct {
	scope Scope
	reg   prometheus.Registerer
	log   *logger.Logger
}

func (f *factory) NewCounter(name string, labels ...string) *prometheus.CounterVec {
	fq := metricName(f.scope, name)
	return register(f, fq, prometheus.NewCounterVec(prometheus.CounterOpts{Name: fq, Help: name}, labels))
}

func (f *factory) NewGauge(name string, labels ...string) *prometheus.GaugeVec {
	fq := metricName(f.scope, name)
	return register(f, fq, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: fq, Help: name}, labels))
}

func (f *factory) NewHistogram(name string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	fq := metricName(f.scope, name)
	if !validBuckets(buckets) {
		if buckets != nil {
			f.log.Error().Str("metric", fq).Floats64("buckets", buckets).Msg("buckets not strictly increasing; using defaults")
		}
		buckets = prometheus.DefBuckets
	}
	opts := prometheus.HistogramOpts{Name: fq, Help: name, Buckets: buckets}
	return register(f, fq, prometheus.NewHistogramVec(opts, labels))
}

// register adds c to the registry and returns c, or the collector already registered under the same identity.
func register[T prometheus.Collector](f *factory, fq string, c T) T {
	err := f.reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(T); ok {
			return existing
		}
	}
	f.log.Error().Err(err).Str("metric", fq).Msg("metric not registered; it will not be exported")
	return c
}

// validBuckets reports whether b is non-empty and strictly increasing, as Prometheus requires.
func validBuckets(b []float64) bool {
	if len(b) == 0 {
		return false
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			return false
		}
	}
	return true
}
