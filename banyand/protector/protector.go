// Package protector guards the process against running out of memory by admitting large
// allocations only while the bytes reserved so far stay under a configured limit.
package protector

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/pkg/errors"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// ErrMemoryExceeded is returned by AcquireResource when the reservation would pass the limit.
var ErrMemoryExceeded = errors.New("protector: memory limit exceeded")

const serviceName = "memory-protector"

// Memory is the memory-protector unit: a limit computed at PreRun and an atomic count of reserved bytes.
type Memory interface {
	run.PreRunner
	run.Config
	run.Service
	// AcquireResource reserves size bytes without blocking. It returns ErrMemoryExceeded (wrapped with
	// the sizes) if usage+size would pass the limit, including before PreRun when the limit is 0,
	// and the context's error if ctx is already done.
	AcquireResource(ctx context.Context, size uint64) error
	// ReleaseResource returns size bytes taken by an earlier successful AcquireResource.
	ReleaseResource(size uint64)
	// GetLimit returns the limit in bytes; it is 0 until PreRun.
	GetLimit() uint64
	// Usage returns the bytes currently reserved.
	Usage() uint64
}

// memory implements Memory.
type memory struct {
	log *logger.Logger

	// Flag values, bound by FlagSet and read in PreRun.
	allowedPercent int
	allowedBytes   run.Bytes
	flagsOnce      sync.Once
	flags          *run.FlagSet

	// Sources of the machine's memory size; tests point them at fixtures.
	cgroupMaxPath string
	meminfoPath   string

	// setGoLimit makes PreRun set the Go runtime's memory limit (SetGoMemoryLimit).
	setGoLimit bool

	limit atomic.Uint64
	usage atomic.Uint64

	// Gauges are nil when no registry was given.
	limitGauge prometheus.Gauge
	usageGauge prometheus.Gauge

	stopCh   chan struct{}
	stopOnce sync.Once
}

var _ Memory = (*memory)(nil)

// Option adjusts a protector built by NewMemory.
type Option func(*memory)

// SetGoMemoryLimit makes PreRun set the Go runtime's soft memory limit (debug.SetMemoryLimit) to
// the protector's limit, unless the GOMEMLIMIT environment variable names one: the collector then
// works harder as the heap nears the budget instead of letting it pass. The limit is the
// process's, so only the protector of a server process sets it.
func SetGoMemoryLimit() Option {
	return func(m *memory) { m.setGoLimit = true }
}

// NewMemory returns the memory protector; omr may be nil to export no metrics.
func NewMemory(omr observability.MetricsRegistry, opts ...Option) Memory {
	m := &memory{
		log:            logger.GetLogger(serviceName),
		allowedPercent: defaultAllowedPercent,
		cgroupMaxPath:  defaultCgroupMaxPath,
		meminfoPath:    defaultMeminfoPath,
		stopCh:         make(chan struct{}),
	}
	for _, o := range opts {
		o(m)
	}
	if omr != nil {
		f := omr.With(observability.RootScope("memory_protector"))
		m.limitGauge = f.NewGauge("limit_bytes").WithLabelValues()
		m.usageGauge = f.NewGauge("usage_bytes").WithLabelValues()
	}
	return m
}

func (m *memory) Name() string {
	return serviceName
}

// PreRun computes the limit from the flags and, unless --allowed-bytes is set, the machine's
// memory. With SetGoMemoryLimit it also makes the limit the Go runtime's soft memory limit.
func (m *memory) PreRun(context.Context) error {
	limit := uint64(m.allowedBytes)
	if limit == 0 {
		total, err := totalMemory(m.cgroupMaxPath, m.meminfoPath)
		if err != nil {
			return errors.Wrap(err, "read total memory")
		}
		limit = percentOf(total, m.allowedPercent)
		m.log.Info().Uint64("total", total).Int("percent", m.allowedPercent).Uint64("limit", limit).Msg("memory limit set")
	} else {
		m.log.Info().Uint64("limit", limit).Msg("memory limit set from --allowed-bytes")
	}
	m.limit.Store(limit)
	if m.limitGauge != nil {
		m.limitGauge.Set(float64(limit))
	}
	if !m.setGoLimit {
		return nil
	}
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		m.log.Info().Str("GOMEMLIMIT", env).Msg("the Go memory limit is the environment's")
		return nil
	}
	debug.SetMemoryLimit(int64(min(limit, math.MaxInt64)))
	return nil
}

// Serve has no background work; the returned channel closes on GracefulStop.
func (m *memory) Serve() run.StopNotify {
	return m.stopCh
}

func (m *memory) GracefulStop() {
	m.stopOnce.Do(func() { close(m.stopCh) })
}
