package logger

import (
	"io"
	"os"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// sink is the single writer behind every Logger.
var sink = newSwitchWriter(os.Stderr, zerolog.InfoLevel)

// output is one immutable configuration of the sink; Init swaps in a new one.
type output struct {
	w     io.Writer
	level zerolog.Level
}

// switchWriter forwards log lines to the current output and drops those below its level.
// The output is swapped atomically, so writers never need a lock.
type switchWriter struct {
	cur atomic.Pointer[output]
}

var _ zerolog.LevelWriter = (*switchWriter)(nil)

func newSwitchWriter(w io.Writer, level zerolog.Level) *switchWriter {
	s := &switchWriter{}
	s.set(w, level)
	return s
}

func (s *switchWriter) set(w io.Writer, level zerolog.Level) {
	s.cur.Store(&output{w: w, level: level})
}

// Write forwards a line that carries no level.
func (s *switchWriter) Write(p []byte) (int, error) {
	return s.cur.Load().w.Write(p)
}

// WriteLevel forwards p if level is at or above the configured level.
func (s *switchWriter) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	o := s.cur.Load()
	// NoLevel lines (Log()) are always written, like zerolog does for its own global level.
	if level != zerolog.NoLevel && level < o.level {
		return len(p), nil
	}
	return o.w.Write(p)
}
