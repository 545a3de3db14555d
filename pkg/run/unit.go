// Package run drives the lifecycle of a process made of units.
//
// A unit implements any subset of the role interfaces Config, PreRunner and Service. A Group runs
// them in phases:
//
//	Validate every Config  ->  PreRun every PreRunner  ->  Serve every Service  ->  wait  ->  GracefulStop
//	(registration order)       (registration order)        (registration order)           (reverse order)
//
// The wait ends on SIGINT/SIGTERM, on cancellation of the context given to Run, on Group.Stop, or
// when any service's StopNotify closes. Constructors of units should only capture dependencies; all
// IO belongs in PreRun and Serve.
package run

import "context"

// Unit is anything the Group manages; Name identifies it in errors and logs.
type Unit interface {
	Name() string
}

// Config is a unit with command-line flags; Validate checks them and must have no side effects.
type Config interface {
	Unit
	// FlagSet returns the unit's flags, bound to its private option fields.
	FlagSet() *FlagSet
	// Validate reports invalid flag values; it runs before any PreRun.
	Validate() error
}

// PreRunner is a unit that wires itself up (opens files, connects, registers) before serving.
type PreRunner interface {
	Unit
	// PreRun prepares the unit; a failure aborts the Group before anything is served.
	PreRun(ctx context.Context) error
}

// StopNotify is closed by a Service when it has stopped on its own or after GracefulStop.
type StopNotify <-chan struct{}

// Service is a unit with background work that runs between Serve and GracefulStop.
type Service interface {
	Unit
	// Serve starts the work without blocking and returns a channel closed when the service stops.
	Serve() StopNotify
	// GracefulStop stops the work and returns once it has finished.
	GracefulStop()
}
