package logger

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of the logging test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// capture redirects the shared sink to a buffer for one test and restores stderr/info afterwards.
func capture(t *testing.T, cfg Logging) *lockedBuffer {
	t.Helper()
	buf := &lockedBuffer{}
	if err := initWithWriter(cfg, buf); err != nil {
		t.Fatalf("init: %v", err)
	}
	t.Cleanup(func() {
		if err := Init(Logging{}); err != nil {
			t.Errorf("restore: %v", err)
		}
	})
	return buf
}

func TestModuleNames(t *testing.T) {
	tests := []struct {
		name   string
		logger *Logger
		want   string
	}{
		{"root", GetLogger(), "root"},
		{"single", GetLogger("trace"), "trace"},
		{"joined", GetLogger("trace", "write"), "trace.write"},
		{"blank scopes skipped", GetLogger("", "trace", " "), "trace"},
		{"named", GetLogger("trace").Named("query", "merge"), "trace.query.merge"},
		{"named from root", GetLogger().Named("fs"), "fs"},
		{"named without scopes", GetLogger("x").Named(), "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.logger.Module(); got != tt.want {
				t.Fatalf("module = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJSONOutputCarriesModule(t *testing.T) {
	buf := capture(t, Logging{Level: "info"})
	GetLogger("trace", "write").Info().Str("k", "v").Msg("hello")

	lines := buf.lines()
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1: %q", len(lines), lines)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("line is not JSON: %v: %s", err, lines[0])
	}
	for key, want := range map[string]string{"module": "trace.write", "level": "info", "message": "hello", "k": "v"} {
		if rec[key] != want {
			t.Errorf("%s = %v, want %q", key, rec[key], want)
		}
	}
	if _, ok := rec["time"]; !ok {
		t.Error("record has no time field")
	}
}

func TestLevelFiltering(t *testing.T) {
	tests := []struct {
		level string
		want  []string
	}{
		{"debug", []string{"debug", "info", "warn", "error"}},
		{"", []string{"info", "warn", "error"}},
		{"INFO", []string{"info", "warn", "error"}},
		{"warn", []string{"warn", "error"}},
		{"error", []string{"error"}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			// The logger is created before Init to prove Init reaches existing loggers.
			l := GetLogger("filter")
			buf := capture(t, Logging{Level: tt.level})
			l.Debug().Msg("debug")
			l.Info().Msg("info")
			l.Warn().Msg("warn")
			l.Error().Msg("error")
			var got []string
			for _, line := range buf.lines() {
				var rec struct{ Message string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("bad line %q: %v", line, err)
				}
				got = append(got, rec.Message)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDefaultLevelIsInfo(t *testing.T) {
	if got := sink.cur.Load().level.String(); got != "info" {
		t.Fatalf("default level = %s, want info", got)
	}
}

func TestDevEnvUsesConsoleWriter(t *testing.T) {
	buf := capture(t, Logging{Env: "dev", Level: "info"})
	GetLogger("console").Info().Msg("hello console")
	lines := buf.lines()
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	if json.Valid([]byte(lines[0])) {
		t.Fatalf("dev output should not be JSON: %s", lines[0])
	}
	if !strings.Contains(lines[0], "hello console") || !strings.Contains(lines[0], "console") {
		t.Fatalf("console line misses message or module: %s", lines[0])
	}
}

func TestInitRejectsBadLevel(t *testing.T) {
	err := Init(Logging{Level: "verbose"})
	if !errors.Is(err, ErrInvalidLevel) {
		t.Fatalf("err = %v, want ErrInvalidLevel", err)
	}
	if !strings.Contains(err.Error(), "verbose") {
		t.Fatalf("error should name the level: %v", err)
	}
}

func TestConcurrentInitAndLog(t *testing.T) {
	buf := capture(t, Logging{Level: "info"})
	l := GetLogger("race")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				l.Info().Int("j", j).Msg("x")
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if err := initWithWriter(Logging{Level: "info"}, buf); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if got := len(buf.lines()); got != 800 {
		t.Fatalf("got %d lines, want 800", got)
	}
}
