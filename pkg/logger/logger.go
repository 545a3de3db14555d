// Package logger wraps zerolog with module-scoped loggers that share one process-wide sink.
//
// Loggers may be taken at any time, including in package-level variables before Init runs: every
// logger writes through the same switchable sink, so Init changes the output format and the level of
// loggers that already exist.
package logger

import (
	"strings"

	"github.com/rs/zerolog"
)

const (
	rootModule = "root"
	moduleKey  = "module"
)

// Logger is a zerolog logger bound to a module name such as "trace.write".
type Logger struct {
	*zerolog.Logger
	module string
}

// GetLogger returns a logger for the module named by scopes joined with "."; no scopes means the root logger.
func GetLogger(scopes ...string) *Logger {
	module := joinScopes(scopes)
	if module == "" {
		module = rootModule
	}
	return newLogger(module)
}

// Named returns a child logger whose module is this logger's module followed by scopes.
func (l *Logger) Named(scopes ...string) *Logger {
	sub := joinScopes(scopes)
	if sub == "" {
		return l
	}
	if l == nil || l.module == "" || l.module == rootModule {
		return newLogger(sub)
	}
	return newLogger(l.module + "." + sub)
}

// Module returns the dot-joined module name of the logger.
func (l *Logger) Module() string {
	return l.module
}

func newLogger(module string) *Logger {
	// The logger itself accepts every level; the shared sink filters, so that Init can
	// raise or lower the level of loggers created before it.
	zl := zerolog.New(sink).Level(zerolog.TraceLevel).With().Timestamp().Str(moduleKey, module).Logger()
	return &Logger{Logger: &zl, module: module}
}

func joinScopes(scopes []string) string {
	parts := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ".")
}
