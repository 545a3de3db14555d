package run

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pkg/errors"
	"go.uber.org/multierr"
)

// Run validates, pre-runs and serves the registered units, then blocks until the Group must stop
// and gracefully stops every served service in reverse registration order.
//
// The wait ends on SIGINT or SIGTERM, on cancellation of ctx, on Stop, or when the StopNotify of
// any service closes; each of these ends Run with a nil error once all services have stopped.
// GracefulStop is called on every served service, including one that stopped on its own.
// A Validate failure returns the errors of every invalid unit and pre-runs nothing; a PreRun
// failure returns that unit's error, serves nothing and gracefully stops the services that
// already pre-ran, in reverse order. Run returns ErrGroupStarted if called twice.
func (g *Group) Run(ctx context.Context) error {
	units, err := g.start()
	if err != nil {
		return err
	}
	defer close(g.doneCh)

	// Signals are caught from the start so that an interrupt during PreRun still ends in an orderly stop.
	sigCh := make(chan os.Signal, 1)
	signal.Notify(sigCh, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigCh)

	if err = validate(units); err != nil {
		return err
	}
	if err = g.preRun(ctx, units); err != nil {
		return err
	}
	if reason, stop := g.stopRequested(ctx, sigCh); stop {
		g.log.Info().Str("reason", reason).Msg("stop requested before serving")
		g.release(units)
		return nil
	}

	served, notifies := g.serve(units)
	close(g.readyCh)
	g.log.Info().Int("services", len(served)).Msg("group is serving")

	reason := g.wait(ctx, sigCh, served, notifies)
	g.log.Info().Str("reason", reason).Msg("group is stopping")
	for i := len(served) - 1; i >= 0; i-- {
		g.log.Debug().Str("unit", served[i].Name()).Msg("stopping")
		served[i].GracefulStop()
	}
	g.log.Info().Msg("group stopped")
	return nil
}

// start marks the Group as started and returns the units registered so far.
func (g *Group) start() ([]Unit, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.started {
		return nil, errors.Wrapf(ErrGroupStarted, "group %s", g.name)
	}
	g.mu.started = true
	return append([]Unit(nil), g.mu.units...), nil
}

// validate checks every Config and reports all failures at once.
func validate(units []Unit) error {
	var errs error
	for _, u := range units {
		if c, ok := u.(Config); ok {
			if err := c.Validate(); err != nil {
				errs = multierr.Append(errs, errors.Wrapf(err, "validate %s", c.Name()))
			}
		}
	}
	return errs
}

// preRun pre-runs the units in order. When one fails, the units that pre-ran before it are
// released (see release) so that what they opened (an embedded etcd, listeners) does not outlive Run.
func (g *Group) preRun(ctx context.Context, units []Unit) error {
	for i, u := range units {
		p, ok := u.(PreRunner)
		if !ok {
			continue
		}
		g.log.Debug().Str("unit", p.Name()).Msg("pre-running")
		if err := p.PreRun(ctx); err != nil {
			g.release(units[:i])
			return errors.Wrapf(err, "pre-run %s", p.Name())
		}
	}
	return nil
}

// release calls GracefulStop, in reverse order, on the services among units that pre-ran but
// were never served: a unit acquires its resources in PreRun and frees them in GracefulStop.
func (g *Group) release(units []Unit) {
	for i := len(units) - 1; i >= 0; i-- {
		_, pre := units[i].(PreRunner)
		s, svc := units[i].(Service)
		if pre && svc {
			g.log.Debug().Str("unit", s.Name()).Msg("releasing a unit that was not served")
			s.GracefulStop()
		}
	}
}

func (g *Group) serve(units []Unit) ([]Service, []StopNotify) {
	var served []Service
	var notifies []StopNotify
	for _, u := range units {
		s, ok := u.(Service)
		if !ok {
			continue
		}
		g.log.Debug().Str("unit", s.Name()).Msg("serving")
		notifies = append(notifies, s.Serve())
		served = append(served, s)
	}
	return served, notifies
}

// stopRequested reports, without blocking, whether a stop was asked for and why.
func (g *Group) stopRequested(ctx context.Context, sigCh <-chan os.Signal) (string, bool) {
	select {
	case <-g.stopCh:
		return "stop called", true
	case <-ctx.Done():
		return "context done", true
	case sig := <-sigCh:
		return "signal " + sig.String(), true
	default:
		return "", false
	}
}

// wait blocks until the Group must stop and returns why.
func (g *Group) wait(ctx context.Context, sigCh <-chan os.Signal, served []Service, notifies []StopNotify) string {
	// One watcher per service forwards the first close of its StopNotify; a nil StopNotify never fires.
	stopped := make(chan int, len(notifies))
	quit := make(chan struct{})
	defer close(quit)
	for i, n := range notifies {
		go func() {
			select {
			case <-n:
				stopped <- i
			case <-quit:
			}
		}()
	}
	select {
	case <-g.stopCh:
		return "stop called"
	case <-ctx.Done():
		return "context done"
	case sig := <-sigCh:
		return "signal " + sig.String()
	case i := <-stopped:
		g.log.Warn().Str("unit", served[i].Name()).Msg("service stopped on its own")
		return "service " + served[i].Name() + " stopped"
	}
}
