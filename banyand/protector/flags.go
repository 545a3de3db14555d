package protector

import (
	"github.com/pkg/errors"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/pkg/run"
)

const (
	allowedPercentFlag    = "allowed-percent"
	allowedBytesFlag      = "allowed-bytes"
	defaultAllowedPercent = 75
)

// errInvalidFlag marks a flag value that Validate rejects.
var errInvalidFlag = errors.New("protector: invalid flag")

// FlagSet is built once: defining a flag resets its variable, which would undo an earlier parse.
func (m *memory) FlagSet() *run.FlagSet {
	m.flagsOnce.Do(func() {
		m.flags = run.NewFlagSet(serviceName)
		m.flags.IntVar(&m.allowedPercent, allowedPercentFlag, defaultAllowedPercent,
			"percent (1-100) of the machine's or cgroup's memory the process may reserve")
		m.flags.Var(&m.allowedBytes, allowedBytesFlag,
			"memory the process may reserve, e.g. 4gb; overrides --allowed-percent when set")
	})
	return m.flags
}

// Validate checks the flag values and reports every invalid one.
func (m *memory) Validate() error {
	var errs error
	if m.allowedPercent < 1 || m.allowedPercent > 100 {
		errs = multierr.Append(errs, errors.Wrapf(errInvalidFlag, "--%s %d is outside 1..100", allowedPercentFlag, m.allowedPercent))
	}
	if m.allowedBytes < 0 {
		errs = multierr.Append(errs, errors.Wrapf(errInvalidFlag, "--%s %s is negative", allowedBytesFlag, m.allowedBytes))
	}
	return errs
}
