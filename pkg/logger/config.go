package logger

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/rs/zerolog"
)

// EnvDev selects the human-readable console writer; any other Env writes JSON.
const EnvDev = "dev"

// ErrInvalidLevel is returned by Init when the level string is not debug, info, warn or error.
var ErrInvalidLevel = errors.New("logger: invalid level")

// Logging configures the process-wide log output.
type Logging struct {
	// Env is "dev" for console output; anything else (including "") means JSON on stderr.
	Env string
	// Level is one of debug, info, warn, error (case-insensitive); "" means info.
	Level string
}

// Init applies cfg to every logger, including those created before the call; it is safe to call concurrently.
func Init(cfg Logging) error {
	return initWithWriter(cfg, os.Stderr)
}

func initWithWriter(cfg Logging, out io.Writer) error {
	lvl, err := parseLevel(cfg.Level)
	if err != nil {
		return err
	}
	var w io.Writer = out
	if strings.EqualFold(strings.TrimSpace(cfg.Env), EnvDev) {
		w = zerolog.ConsoleWriter{Out: out, TimeFormat: time.RFC3339}
	}
	sink.set(w, lvl)
	return nil
}

func parseLevel(s string) (zerolog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return zerolog.InfoLevel, nil
	case "debug":
		return zerolog.DebugLevel, nil
	case "info":
		return zerolog.InfoLevel, nil
	case "warn", "warning":
		return zerolog.WarnLevel, nil
	case "error":
		return zerolog.ErrorLevel, nil
	default:
		return zerolog.NoLevel, errors.Wrapf(ErrInvalidLevel, "level %q (want debug, info, warn or error)", s)
	}
}
