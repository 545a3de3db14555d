// Package observability exposes the process's Prometheus metrics: a MetricsRegistry that every
// module registers its collectors with, and the metric-service unit that serves them over HTTP.
package observability

import "strings"

// metricPrefix starts the name of every metric this process registers.
const metricPrefix = "banyandb"

// Scope is the part of a metric name that identifies the module, e.g. "trace_write".
type Scope string

// RootScope returns the top-level scope called name.
func RootScope(name string) Scope {
	return Scope(name)
}

// SubScope returns the scope nested under s, joined with "_".
func (s Scope) SubScope(name string) Scope {
	if s == "" {
		return Scope(name)
	}
	if name == "" {
		return s
	}
	return s + "_" + Scope(name)
}

// metricName builds "banyandb_<scope>_<name>", replacing characters Prometheus does not allow with "_".
func metricName(scope Scope, name string) string {
	parts := []string{metricPrefix}
	for _, p := range []string{string(scope), name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == ':':
			return r
		default:
			return '_'
		}
	}, strings.Join(parts, "_"))
}
