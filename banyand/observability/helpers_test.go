package observability

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gather returns the families of g keyed by name.
func gather(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// seriesCount returns the number of series in the named families, or in all families if none are named.
func seriesCount(t *testing.T, g prometheus.Gatherer, names ...string) int {
	t.Helper()
	families := gather(t, g)
	n := 0
	if len(names) == 0 {
		for _, mf := range families {
			n += len(mf.GetMetric())
		}
		return n
	}
	for _, name := range names {
		if mf, ok := families[name]; ok {
			n += len(mf.GetMetric())
		}
	}
	return n
}

// counterValue returns the value of the counter series of c with the given label values.
func counterValue(t *testing.T, c *prometheus.CounterVec, labels ...string) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.WithLabelValues(labels...).Write(&m); err != nil {
		t.Fatalf("write counter: %v", err)
	}
	return m.GetCounter().GetValue()
}
