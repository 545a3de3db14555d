package run

import (
	"sync"

	"github.com/pkg/errors"
	"github.com/spf13/pflag"

	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// ErrGroupStarted is returned by Run when the Group has already been run once.
var ErrGroupStarted = errors.New("run: group already started")

// Group runs registered units through the Validate, PreRun, Serve and GracefulStop phases.
// Create it with NewGroup; a Group runs at most once.
type Group struct {
	name string
	log  *logger.Logger

	// mu guards the unit list and the started flag: Register and Run may race.
	mu struct {
		sync.Mutex
		units   []Unit
		started bool
	}

	stopOnce sync.Once
	stopCh   chan struct{} // closed by Stop
	readyCh  chan struct{} // closed once every service is serving
	doneCh   chan struct{} // closed when Run returns
}

// NewGroup returns an empty Group called name.
func NewGroup(name string) *Group {
	return &Group{
		name:    name,
		log:     logger.GetLogger("run", name),
		stopCh:  make(chan struct{}),
		readyCh: make(chan struct{}),
		doneCh:  make(chan struct{}),
	}
}

// Name returns the name the Group was created with.
func (g *Group) Name() string {
	return g.name
}

// Register adds units in order; each may implement any subset of Config, PreRunner and Service.
// Units registered after Run has started are ignored.
func (g *Group) Register(units ...Unit) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.started {
		g.log.Warn().Int("units", len(units)).Msg("register after run ignored")
		return
	}
	for _, u := range units {
		if u != nil {
			g.mu.units = append(g.mu.units, u)
		}
	}
}

// RegisterFlags returns the merged flags of all Config units; on a duplicate flag name the first unit wins.
func (g *Group) RegisterFlags() *FlagSet {
	fs := NewFlagSet(g.name)
	for _, u := range g.snapshot() {
		c, ok := u.(Config)
		if !ok {
			continue
		}
		ufs := c.FlagSet()
		if ufs == nil || ufs.FlagSet == nil {
			continue
		}
		ufs.VisitAll(func(f *pflag.Flag) {
			if fs.Lookup(f.Name) != nil {
				g.log.Warn().Str("unit", c.Name()).Str("flag", f.Name).Msg("duplicate flag ignored")
				return
			}
			fs.AddFlag(f)
		})
	}
	return fs
}

// Stop asks a running Group to stop; it is idempotent, and a Group stopped before Run serves nothing.
func (g *Group) Stop() {
	g.stopOnce.Do(func() { close(g.stopCh) })
}

// Ready returns a channel closed once every service is serving; it stays open if Run fails earlier.
func (g *Group) Ready() <-chan struct{} {
	return g.readyCh
}

// WaitTillReady blocks until every service is serving (true) or Run has returned without serving (false).
func (g *Group) WaitTillReady() bool {
	select {
	case <-g.readyCh:
		return true
	case <-g.doneCh:
		select {
		case <-g.readyCh:
			return true
		default:
			return false
		}
	}
}

func (g *Group) snapshot() []Unit {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Unit(nil), g.mu.units...)
}
