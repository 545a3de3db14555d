package observability

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apache/skywalking-banyandb/pkg/run"
)

func newTestService(t *testing.T, addr string) Service {
	t.Helper()
	svc := NewMetricService(nil)
	if err := svc.FlagSet().Parse([]string{"--observability-listener-addr=" + addr}); err != nil {
		t.Fatalf("parse flags: %v", err)
	}
	if err := svc.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return svc
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func waitClosed(t *testing.T, ch run.StopNotify) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("StopNotify not closed")
	}
}

func TestServiceDefaults(t *testing.T) {
	svc := NewMetricService(nil)
	if svc.Name() != "metric-service" {
		t.Fatalf("Name = %q", svc.Name())
	}
	f := svc.FlagSet().Lookup("observability-listener-addr")
	if f == nil || f.DefValue != ":2121" {
		t.Fatalf("listener flag = %+v, want default :2121", f)
	}
	if first, second := svc.FlagSet(), svc.FlagSet(); first != second {
		t.Fatal("FlagSet is rebuilt on every call, which would reset parsed values")
	}
}

func TestServiceValidate(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr bool
	}{
		{"", false},
		{":2121", false},
		{"127.0.0.1:0", false},
		{"[::1]:9090", false},
		{"localhost", true},
		{"1.2.3.4:5:6", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			svc := NewMetricService(nil)
			if err := svc.FlagSet().Parse([]string{"--observability-listener-addr=" + tt.addr}); err != nil {
				t.Fatal(err)
			}
			err := svc.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate(%q) = %v, wantErr %v", tt.addr, err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "observability-listener-addr") {
				t.Fatalf("error %q does not name the flag", err)
			}
		})
	}
}

func TestServiceServesMetricsAndHealth(t *testing.T) {
	svc := newTestService(t, "127.0.0.1:0")
	svc.With(RootScope("test")).NewCounter("hits_total", "path").WithLabelValues("/x").Add(42)
	if err := svc.PreRun(context.Background()); err != nil {
		t.Fatalf("PreRun: %v", err)
	}
	stopped := svc.Serve()
	base := "http://" + svc.Addr()
	if !strings.HasPrefix(svc.Addr(), "127.0.0.1:") || strings.HasSuffix(svc.Addr(), ":0") {
		t.Fatalf("Addr = %q, want the bound loopback port", svc.Addr())
	}

	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics status %d", code)
	}
	for _, want := range []string{`banyandb_test_hits_total{path="/x"} 42`, "go_goroutines", "promhttp_metric_handler_requests_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics misses %q", want)
		}
	}
	if code, body = get(t, base+"/healthz"); code != http.StatusOK || body != "ok" {
		t.Fatalf("/healthz = %d %q, want 200 ok", code, body)
	}

	svc.GracefulStop()
	waitClosed(t, stopped)
	if conn, err := net.DialTimeout("tcp", svc.Addr(), time.Second); err == nil {
		conn.Close()
		t.Fatal("server still accepts connections after GracefulStop")
	}
}

func TestServiceDisabled(t *testing.T) {
	svc := newTestService(t, "")
	if err := svc.PreRun(context.Background()); err != nil {
		t.Fatalf("PreRun: %v", err)
	}
	stopped := svc.Serve()
	if svc.Addr() != "" {
		t.Fatalf("Addr = %q, want empty when disabled", svc.Addr())
	}
	svc.With(RootScope("off")).NewGauge("g").WithLabelValues().Set(1)
	if mfs, err := svc.Gatherer().Gather(); err != nil || len(mfs) == 0 {
		t.Fatalf("gather while disabled: %d families, %v", len(mfs), err)
	}
	select {
	case <-stopped:
		t.Fatal("StopNotify closed before GracefulStop")
	default:
	}
	svc.GracefulStop()
	waitClosed(t, stopped)
}

func TestServicePreRunFailsOnBusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	svc := newTestService(t, ln.Addr().String())
	err = svc.PreRun(context.Background())
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("PreRun err = %v, want a listen error naming the address", err)
	}
}

func TestServiceInGroup(t *testing.T) {
	svc := NewMetricService(nil)
	g := run.NewGroup("observability-test")
	g.Register(svc)
	if err := g.RegisterFlags().Parse([]string{"--observability-listener-addr=127.0.0.1:0"}); err != nil {
		t.Fatalf("parse: %v", err)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- g.Run(context.Background()) }()
	if !g.WaitTillReady() {
		t.Fatalf("group failed: %v", <-errCh)
	}
	if code, _ := get(t, "http://"+svc.Addr()+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz status %d", code)
	}
	g.Stop()
	select {
	case err := <-errCh:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestServicePprofIsOffUnlessEnabled(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want int
	}{
		{nil, http.StatusNotFound},
		{[]string{"--observability-pprof-enabled=false"}, http.StatusNotFound},
		{[]string{"--observability-pprof-enabled"}, http.StatusOK},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			svc := NewMetricService(nil)
			args := append([]string{"--observability-listener-addr=127.0.0.1:0"}, tt.args...)
			if err := svc.FlagSet().Parse(args); err != nil {
				t.Fatal(err)
			}
			if err := svc.PreRun(context.Background()); err != nil {
				t.Fatalf("PreRun: %v", err)
			}
			stopped := svc.Serve()
			defer func() {
				svc.GracefulStop()
				waitClosed(t, stopped)
			}()
			base := "http://" + svc.Addr()
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/symbol"} {
				if code, _ := get(t, base+path); code != tt.want {
					t.Errorf("GET %s = %d, want %d", path, code, tt.want)
				}
			}
			if code, _ := get(t, base+"/metrics"); code != http.StatusOK {
				t.Errorf("/metrics = %d, want 200 whatever the pprof flag", code)
			}
		})
	}
}
