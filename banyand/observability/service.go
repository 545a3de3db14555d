package observability

import (
	"context"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/pkg/errors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/netserver"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

const (
	serviceName         = "metric-service"
	listenerAddrFlag    = "observability-listener-addr"
	pprofEnabledFlag    = "observability-pprof-enabled"
	defaultListenerAddr = ":2121"
	shutdownTimeout     = 5 * time.Second
)

// Service is the metric-service unit: a MetricsRegistry whose metrics it serves over HTTP.
type Service interface {
	MetricsRegistry
	run.Config
	run.PreRunner
	run.Service
	// Addr returns the address the HTTP server is bound to, or "" if it is disabled or not yet pre-run.
	Addr() string
}

// metricService serves /metrics and /healthz on a listener bound in PreRun.
type metricService struct {
	*registry
	listenerAddr string
	// pprofEnabled serves Go's profiler under /debug/pprof/ on the same listener; off by default,
	// since profiles and the command line tell a stranger much about the process.
	pprofEnabled bool

	// flags is built once: defining a flag resets its variable, which would undo an earlier parse.
	flagsOnce sync.Once
	flags     *run.FlagSet

	// lis serves the HTTP server; it stays unbound when the server is disabled.
	lis *netserver.Listener
}

var _ Service = (*metricService)(nil)

// NewMetricService returns the metric-service unit; l may be nil to use the "observability" logger.
// Its registry already holds the Go runtime and process collectors and is usable before PreRun.
func NewMetricService(l *logger.Logger) Service {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	r := newRegistry(reg, l)
	return &metricService{
		registry:     r,
		listenerAddr: defaultListenerAddr,
		lis:          netserver.New(r.log, shutdownTimeout),
	}
}

func (s *metricService) Name() string {
	return serviceName
}

func (s *metricService) FlagSet() *run.FlagSet {
	s.flagsOnce.Do(func() {
		s.flags = run.NewFlagSet(serviceName)
		s.flags.StringVar(&s.listenerAddr, listenerAddrFlag, defaultListenerAddr,
			"address of the HTTP server exposing /metrics and /healthz; empty disables it")
		s.flags.BoolVar(&s.pprofEnabled, pprofEnabledFlag, false,
			"also serve Go's profiler under /debug/pprof/ on the metrics listener (bind that listener to a trusted address)")
	})
	return s.flags
}

func (s *metricService) Validate() error {
	if s.listenerAddr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(s.listenerAddr); err != nil {
		return errors.Wrapf(err, "--%s %q", listenerAddrFlag, s.listenerAddr)
	}
	return nil
}

// PreRun binds the listener so that an address in use fails the start instead of the serving.
func (s *metricService) PreRun(context.Context) error {
	if s.listenerAddr == "" {
		s.log.Info().Msg("metrics HTTP server disabled")
		return nil
	}
	return s.lis.Bind(s.listenerAddr, netserver.HTTP(&http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}))
}

func (s *metricService) Addr() string {
	return s.lis.Addr()
}

// Serve starts the HTTP server; its StopNotify also closes if the server fails. A disabled
// server stops only at GracefulStop.
func (s *metricService) Serve() run.StopNotify {
	return s.lis.Serve()
}

func (s *metricService) GracefulStop() {
	s.lis.GracefulStop()
}

func (s *metricService) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.InstrumentMetricHandler(s.reg, promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})))
	if s.pprofEnabled {
		// Go's profiler, for measuring rather than guessing: /debug/pprof/profile?seconds=10 etc.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	return mux
}
