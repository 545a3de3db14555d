package run

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const waitTimeout = 5 * time.Second

// recorder collects lifecycle events from all fake units of one test, in call order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// fake implements every role; tests restrict it to a subset by embedding it as an interface.
type fake struct {
	name        string
	rec         *recorder
	validateErr error
	preRunErr   error
	fs          *FlagSet
	stopCh      chan struct{}
	stopOnce    sync.Once
}

func newFake(name string, rec *recorder) *fake {
	return &fake{name: name, rec: rec, fs: NewFlagSet(name), stopCh: make(chan struct{})}
}

func (f *fake) Name() string      { return f.name }
func (f *fake) FlagSet() *FlagSet { return f.fs }

func (f *fake) Validate() error {
	f.rec.add("validate " + f.name)
	return f.validateErr
}

func (f *fake) PreRun(context.Context) error {
	f.rec.add("prerun " + f.name)
	return f.preRunErr
}

func (f *fake) Serve() StopNotify {
	f.rec.add("serve " + f.name)
	return f.stopCh
}

func (f *fake) GracefulStop() {
	f.rec.add("stop " + f.name)
	f.selfStop()
}

// selfStop closes the StopNotify as a service that ends on its own would.
func (f *fake) selfStop() {
	f.stopOnce.Do(func() { close(f.stopCh) })
}

type allRoles interface {
	Config
	PreRunner
	Service
}

type preRunService interface {
	PreRunner
	Service
}

func onlyConfig(f *fake) Unit        { return struct{ Config }{f} }
func onlyPreRunner(f *fake) Unit     { return struct{ PreRunner }{f} }
func onlyService(f *fake) Unit       { return struct{ Service }{f} }
func preRunAndServe(f *fake) Unit    { return struct{ preRunService }{f} }
func allOf(f *fake) Unit             { return struct{ allRoles }{f} }
func onlyUnit(f *fake) Unit          { return struct{ Unit }{f} }
func runAsync(g *Group) <-chan error { return runAsyncCtx(context.Background(), g) }

func runAsyncCtx(ctx context.Context, g *Group) <-chan error {
	errCh := make(chan error, 1)
	go func() { errCh <- g.Run(ctx) }()
	return errCh
}

func waitReady(t *testing.T, g *Group) {
	t.Helper()
	select {
	case <-g.Ready():
	case <-time.After(waitTimeout):
		t.Fatal("group did not become ready")
	}
}

func waitRun(t *testing.T, errCh <-chan error) error {
	t.Helper()
	select {
	case err := <-errCh:
		return err
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return")
		return nil
	}
}

func assertEvents(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	if got := rec.get(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events:\n got  %q\n want %q", got, want)
	}
}

func TestRunPhasesInOrderAndStopInReverse(t *testing.T) {
	rec := &recorder{}
	g := NewGroup("test")
	g.Register(
		allOf(newFake("a", rec)),
		onlyPreRunner(newFake("b", rec)),
		onlyService(newFake("c", rec)),
		onlyConfig(newFake("d", rec)),
		onlyUnit(newFake("plain", rec)),
		allOf(newFake("e", rec)),
	)
	errCh := runAsync(g)
	waitReady(t, g)
	assertEvents(t, rec,
		"validate a", "validate d", "validate e",
		"prerun a", "prerun b", "prerun e",
		"serve a", "serve c", "serve e")

	g.Stop()
	if err := waitRun(t, errCh); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := rec.get()
	assertEvents(t, rec, append(got[:9:9], "stop e", "stop c", "stop a")...)
	if !g.WaitTillReady() {
		t.Fatal("WaitTillReady = false after serving")
	}
}

func TestValidateFailureReportsEveryUnitAndPreRunsNothing(t *testing.T) {
	errBad := errors.New("bad flag")
	rec := &recorder{}
	first, second := newFake("first", rec), newFake("second", rec)
	first.validateErr, second.validateErr = errBad, errBad
	g := NewGroup("test")
	g.Register(allOf(first), allOf(newFake("ok", rec)), onlyConfig(second))

	err := g.Run(context.Background())
	if !errors.Is(err, errBad) {
		t.Fatalf("err = %v, want wrapping %v", err, errBad)
	}
	for _, name := range []string{"validate first", "validate second"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %q", err, name)
		}
	}
	if strings.Contains(err.Error(), "validate ok") {
		t.Errorf("error %q names a valid unit", err)
	}
	assertEvents(t, rec, "validate first", "validate ok", "validate second")
	if g.WaitTillReady() {
		t.Fatal("WaitTillReady = true after a failed Run")
	}
}

func TestPreRunFailureServesNothingAndReleasesWhatPreRan(t *testing.T) {
	errOpen := errors.New("cannot open")
	rec := &recorder{}
	broken := newFake("broken", rec)
	broken.preRunErr = errOpen
	g := NewGroup("test")
	g.Register(preRunAndServe(newFake("a", rec)), preRunAndServe(broken), preRunAndServe(newFake("c", rec)))

	err := g.Run(context.Background())
	if !errors.Is(err, errOpen) {
		t.Fatalf("err = %v, want wrapping %v", err, errOpen)
	}
	if !strings.Contains(err.Error(), "pre-run broken") {
		t.Fatalf("error %q does not name the unit", err)
	}
	assertEvents(t, rec, "prerun a", "prerun broken", "stop a")
	select {
	case <-g.Ready():
		t.Fatal("Ready closed after a failed PreRun")
	default:
	}
	if g.WaitTillReady() {
		t.Fatal("WaitTillReady = true after a failed PreRun")
	}
}

func TestServiceStoppingOnItsOwnStopsTheGroup(t *testing.T) {
	rec := &recorder{}
	a, b, c := newFake("a", rec), newFake("b", rec), newFake("c", rec)
	g := NewGroup("test")
	g.Register(onlyService(a), onlyService(b), onlyService(c))
	errCh := runAsync(g)
	waitReady(t, g)

	b.selfStop()
	if err := waitRun(t, errCh); err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertEvents(t, rec, "serve a", "serve b", "serve c", "stop c", "stop b", "stop a")
}

func TestStopTriggers(t *testing.T) {
	tests := []struct {
		name    string
		trigger func(g *Group, cancel context.CancelFunc)
	}{
		{"stop", func(g *Group, _ context.CancelFunc) { g.Stop() }},
		{"stop twice", func(g *Group, _ context.CancelFunc) { g.Stop(); g.Stop() }},
		{"context cancel", func(_ *Group, cancel context.CancelFunc) { cancel() }},
		{"sigterm", func(*Group, context.CancelFunc) {
			// Run has called signal.Notify before Ready, so the signal is caught, not fatal.
			if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
				panic(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			g := NewGroup("test")
			g.Register(onlyService(newFake("a", rec)), onlyService(newFake("b", rec)))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errCh := runAsyncCtx(ctx, g)
			waitReady(t, g)
			tt.trigger(g, cancel)
			if err := waitRun(t, errCh); err != nil {
				t.Fatalf("Run: %v", err)
			}
			assertEvents(t, rec, "serve a", "serve b", "stop b", "stop a")
		})
	}
}

func TestStopBeforeRunServesNothing(t *testing.T) {
	rec := &recorder{}
	g := NewGroup("test")
	g.Register(preRunAndServe(newFake("a", rec)))
	g.Stop()
	if err := g.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertEvents(t, rec, "prerun a", "stop a")
}

func TestRunTwiceFails(t *testing.T) {
	g := NewGroup("test")
	g.Stop()
	if err := g.Run(context.Background()); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if err := g.Run(context.Background()); !errors.Is(err, ErrGroupStarted) {
		t.Fatalf("second Run err = %v, want ErrGroupStarted", err)
	}
}

func TestRegisterFlagsMergesConfigUnits(t *testing.T) {
	rec := &recorder{}
	a, b := newFake("a", rec), newFake("b", rec)
	var port int
	var size Bytes
	var dup string
	a.fs.IntVar(&port, "port", 1, "port")
	b.fs.Var(&size, "size", "size")
	b.fs.StringVar(&dup, "port-dup", "x", "other")
	b.fs.IntVar(new(int), "port", 2, "duplicate of a's flag")

	g := NewGroup("test")
	g.Register(allOf(a), onlyService(newFake("svc", rec)), onlyConfig(b))
	fs := g.RegisterFlags()
	if err := fs.Parse([]string{"--port=8080", "--size=32mb", "--port-dup=y"}); err != nil {
		t.Fatalf("parse: %v", err)
	}
	if port != 8080 || size != 32<<20 || dup != "y" {
		t.Fatalf("port=%d size=%d dup=%q, want values bound into the units", port, size, dup)
	}
	if got := fs.Lookup("port").Usage; got != "port" {
		t.Fatalf("duplicate flag replaced the first one: usage %q", got)
	}
}
