package protector

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/skywalking-banyandb/banyand/observability"
)

// newTestMemory returns a protector with flags parsed from args and memory read from fixtures.
func newTestMemory(t *testing.T, omr observability.MetricsRegistry, cgroup, meminfo string, args ...string) *memory {
	t.Helper()
	m := NewMemory(omr).(*memory)
	if err := m.FlagSet().Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	dir := t.TempDir()
	m.cgroupMaxPath, m.meminfoPath = fixture(t, dir, "memory.max", cgroup), fixture(t, dir, "meminfo", meminfo)
	return m
}

// fixture writes content to dir/name and returns the path; empty content means a missing file.
func fixture(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if content != "" {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// keepGoMemoryLimit restores the process's Go memory limit when the test ends.
func keepGoMemoryLimit(t *testing.T) {
	t.Helper()
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
}

const meminfo16G = "MemTotal:       16777216 kB\nMemFree:         1000 kB\n"

func preRun(t *testing.T, m Memory) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := m.PreRun(context.Background()); err != nil {
		t.Fatalf("PreRun: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	m := NewMemory(nil)
	if m.Name() != "memory-protector" {
		t.Fatalf("Name = %q", m.Name())
	}
	for flag, want := range map[string]string{"allowed-percent": "75", "allowed-bytes": "0b"} {
		f := m.FlagSet().Lookup(flag)
		if f == nil || f.DefValue != want {
			t.Fatalf("--%s = %+v, want default %s", flag, f, want)
		}
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
	}{
		{[]string{"--allowed-percent=1"}, false},
		{[]string{"--allowed-percent=100"}, false},
		{[]string{"--allowed-percent=0"}, true},
		{[]string{"--allowed-percent=101"}, true},
		{[]string{"--allowed-percent=-5"}, true},
		{[]string{"--allowed-percent=0", "--allowed-bytes=1gb"}, true},
		{[]string{"--allowed-bytes=1gb"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			m := newTestMemory(t, nil, "", meminfo16G, tt.args...)
			err := m.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, errInvalidFlag) || !strings.Contains(err.Error(), "--allowed-percent")) {
				t.Fatalf("error %q should wrap errInvalidFlag and name the flag", err)
			}
		})
	}
}

func TestPreRunLimit(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name    string
		cgroup  string
		meminfo string
		args    []string
		want    uint64
		wantErr bool
	}{
		{"default percent of meminfo", "", meminfo16G, nil, 12 * gib, false},
		{"cgroup without limit", "max\n", meminfo16G, []string{"--allowed-percent=50"}, 8 * gib, false},
		{"cgroup limit", "4294967296\n", meminfo16G, []string{"--allowed-percent=50"}, 2 * gib, false},
		{"cgroup above machine", "68719476736", meminfo16G, []string{"--allowed-percent=100"}, 16 * gib, false},
		{"cgroup only", "1073741824", "", []string{"--allowed-percent=100"}, gib, false},
		{"bytes override percent", "1073741824", meminfo16G, []string{"--allowed-percent=10", "--allowed-bytes=3gb"}, 3 * gib, false},
		{"bytes need no memory files", "", "", []string{"--allowed-bytes=512mb"}, 512 << 20, false},
		{"no memory source", "", "", nil, 0, true},
		{"meminfo without total", "", "MemFree: 1 kB\n", nil, 0, true},
		{"bad cgroup falls back", "lots", meminfo16G, []string{"--allowed-percent=25"}, 4 * gib, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestMemory(t, nil, tt.cgroup, tt.meminfo, tt.args...)
			err := m.PreRun(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("PreRun = %v, wantErr %v", err, tt.wantErr)
			}
			if got := m.GetLimit(); got != tt.want {
				t.Fatalf("limit = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPreRunSetsTheGoMemoryLimitWhenAsked(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	keepGoMemoryLimit(t)
	before := debug.SetMemoryLimit(-1)
	preRun(t, newTestMemory(t, nil, "", "", "--allowed-bytes=2gb"))
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Fatalf("Go memory limit = %d after a PreRun without SetGoMemoryLimit, want it untouched (%d)", got, before)
	}
	m := newTestMemory(t, nil, "", "", "--allowed-bytes=3gb")
	SetGoMemoryLimit()(m)
	preRun(t, m)
	if got := debug.SetMemoryLimit(-1); got != 3<<30 {
		t.Fatalf("Go memory limit = %d, want the budget %d", got, 3<<30)
	}
}

func TestPreRunKeepsGOMEMLIMIT(t *testing.T) {
	// The runtime read GOMEMLIMIT at start; the variable only tells PreRun an operator chose.
	t.Setenv("GOMEMLIMIT", "5GiB")
	keepGoMemoryLimit(t)
	m := newTestMemory(t, nil, "", "", "--allowed-bytes=3gb")
	SetGoMemoryLimit()(m)
	before := debug.SetMemoryLimit(-1)
	preRun(t, m)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Fatalf("Go memory limit = %d after PreRun, want it untouched (%d)", got, before)
	}
}

func TestPreRunOnThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/meminfo")
	}
	m := NewMemory(nil)
	preRun(t, m)
	if m.GetLimit() == 0 {
		t.Fatal("limit is 0 on a real machine")
	}
}

func TestAcquireAndRelease(t *testing.T) {
	m := newTestMemory(t, nil, "", "", "--allowed-bytes=100")
	preRun(t, m)
	ctx := context.Background()

	steps := []struct {
		name      string
		acquire   uint64
		release   uint64
		wantErr   bool
		wantUsage uint64
	}{
		{name: "fits", acquire: 60, wantUsage: 60},
		{name: "would exceed", acquire: 50, wantErr: true, wantUsage: 60},
		{name: "up to the limit", acquire: 40, wantUsage: 100},
		{name: "full", acquire: 1, wantErr: true, wantUsage: 100},
		{name: "release", release: 60, wantUsage: 40},
		{name: "huge size does not overflow", acquire: math.MaxUint64, wantErr: true, wantUsage: 40},
		{name: "zero size", acquire: 0, wantUsage: 40},
		{name: "over-release clamps", release: 1000, wantUsage: 0},
	}
	for _, s := range steps {
		var err error
		if s.release > 0 {
			m.ReleaseResource(s.release)
		} else {
			err = m.AcquireResource(ctx, s.acquire)
		}
		if s.wantErr != (err != nil) {
			t.Fatalf("%s: err = %v, wantErr %v", s.name, err, s.wantErr)
		}
		if err != nil && !errors.Is(err, ErrMemoryExceeded) {
			t.Fatalf("%s: err = %v, want ErrMemoryExceeded", s.name, err)
		}
		if got := m.Usage(); got != s.wantUsage {
			t.Fatalf("%s: usage = %d, want %d", s.name, got, s.wantUsage)
		}
	}
}

func TestAcquireErrorNamesSizes(t *testing.T) {
	m := newTestMemory(t, nil, "", "", "--allowed-bytes=100")
	preRun(t, m)
	if err := m.AcquireResource(context.Background(), 70); err != nil {
		t.Fatal(err)
	}
	err := m.AcquireResource(context.Background(), 31)
	if err == nil || !strings.Contains(err.Error(), "acquire 31 bytes with 70 of 100 bytes in use") {
		t.Fatalf("err = %v, want the sizes in the message", err)
	}
}

func TestAcquireBeforePreRunFails(t *testing.T) {
	m := NewMemory(nil)
	if m.GetLimit() != 0 {
		t.Fatalf("limit before PreRun = %d, want 0", m.GetLimit())
	}
	if err := m.AcquireResource(context.Background(), 1); !errors.Is(err, ErrMemoryExceeded) {
		t.Fatalf("err = %v, want ErrMemoryExceeded", err)
	}
}

func TestAcquireWithDoneContext(t *testing.T) {
	m := newTestMemory(t, nil, "", "", "--allowed-bytes=100")
	preRun(t, m)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.AcquireResource(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if m.Usage() != 0 {
		t.Fatalf("usage = %d after a cancelled acquire", m.Usage())
	}
}

func TestConcurrentAcquireNeverPassesLimit(t *testing.T) {
	const limit = 1000
	m := newTestMemory(t, nil, "", "", "--allowed-bytes=1000")
	preRun(t, m)
	var granted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if err := m.AcquireResource(context.Background(), 1); err == nil {
					granted.Add(1)
				} else if !errors.Is(err, ErrMemoryExceeded) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if granted.Load() != limit || m.Usage() != limit {
		t.Fatalf("granted %d, usage %d; want exactly %d", granted.Load(), m.Usage(), limit)
	}
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				m.ReleaseResource(1)
			}
		}()
	}
	wg.Wait()
	if m.Usage() != 0 {
		t.Fatalf("usage after releasing everything = %d", m.Usage())
	}
}

func TestGauges(t *testing.T) {
	omr := observability.NewBypassRegistry()
	m := newTestMemory(t, omr, "", "", "--allowed-bytes=1kb")
	preRun(t, m)
	if err := m.AcquireResource(context.Background(), 300); err != nil {
		t.Fatal(err)
	}
	m.ReleaseResource(100)

	mfs, err := omr.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
	}
	want := map[string]float64{"banyandb_memory_protector_limit_bytes": 1024, "banyandb_memory_protector_usage_bytes": 200}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], v, got)
		}
	}
}

func TestServeStopsOnGracefulStop(t *testing.T) {
	m := NewMemory(nil)
	stopped := m.Serve()
	select {
	case <-stopped:
		t.Fatal("stopped before GracefulStop")
	default:
	}
	m.GracefulStop()
	m.GracefulStop()
	select {
	case <-stopped:
	case <-time.After(time.Second):
		t.Fatal("StopNotify not closed by GracefulStop")
	}
}
