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

	// mu guards the fields below; Addr may be called from any goroutine.
	mu        sync.Mutex
	ln        net.Listener
	srv       *http.Server
	serveDone chan struct{} // closed when the HTTP server goroutine exits

	stopCh   chan struct{}
	stopOnce sync.Once
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
	return &metricService{
		registry:     newRegistry(reg, l),
		listenerAddr: defaultListenerAddr,
		stopCh:       make(chan struct{}),
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
	ln, err := net.Listen("tcp", s.listenerAddr)
	if err != nil {
		return errors.Wrapf(err, "listen on %s", s.listenerAddr)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

func (s *metricService) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Serve starts the HTTP server; its StopNotify also closes if the server fails.
func (s *metricService) Serve() run.StopNotify {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil || s.srv != nil {
		return s.stopCh
	}
	s.srv = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	s.serveDone = make(chan struct{})
	go func(srv *http.Server, ln net.Listener, done chan struct{}) {
		defer close(done)
		s.log.Info().Str("addr", ln.Addr().String()).Bool("pprof", s.pprofEnabled).Msg("serving metrics")
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("metrics HTTP server failed")
			s.closeStop()
		}
	}(s.srv, s.ln, s.serveDone)
	return s.stopCh
}

func (s *metricService) GracefulStop() {
	s.mu.Lock()
	srv, done, ln := s.srv, s.serveDone, s.ln
	s.mu.Unlock()
	if srv == nil && ln != nil {
		// Pre-run but never served: only the listener needs releasing.
		_ = ln.Close()
	}
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if err := srv.Shutdown(ctx); err != nil {
			s.log.Warn().Err(err).Msg("metrics HTTP server did not shut down in time; closing")
			_ = srv.Close()
		}
		cancel()
		<-done
	}
	s.closeStop()
}

func (s *metricService) closeStop() {
	s.stopOnce.Do(func() { close(s.stopCh) })
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
