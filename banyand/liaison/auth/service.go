// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package auth is the optional authentication of the public listeners, wire compatible with
// upstream BanyanDB: with --auth-config-file naming a YAML file `users: [{username, password}]`,
// every gRPC call except health must carry the per-RPC metadata keys `username` and `password`
// (codes.Unauthenticated otherwise), and every HTTP request except /api/healthz must carry HTTP
// basic auth (401 with WWW-Authenticate otherwise). A password may also be a bcrypt hash.
//
// The file must be readable by its owner only; the server refuses to start otherwise. While the
// server runs the file is polled and reloaded when it changes; a reload that fails keeps the
// users loaded before and logs an error.
//
// Usage sketch:
//
//	authn := auth.NewService()
//	group.Register(authn, grpcServer, httpServer) // before the servers: PreRun loads the file
//	grpc.ChainUnaryInterceptor(authn.UnaryInterceptor())
//	grpc.ChainStreamInterceptor(authn.StreamInterceptor())
//	httpServer.Handler = authn.Middleware(handler)
//
// Every method is safe on a nil *Service and on one without a users file: it lets everything in.
package auth

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// Flag names and defaults of the unit.
const (
	// ConfigFileFlag names the users file; upstream BanyanDB's flag name.
	ConfigFileFlag = "auth-config-file"
	// ReloadIntervalFlag is how often the users file is checked for changes.
	ReloadIntervalFlag = "auth-reload-interval"
	// DefaultReloadInterval is the default of --auth-reload-interval.
	DefaultReloadInterval = 5 * time.Second
)

// Service is the authentication unit (Name "auth"): it owns --auth-config-file, loads the users in
// PreRun and keeps them in step with the file while it serves.
type Service struct {
	log      *logger.Logger
	fs       *run.FlagSet
	path     string
	interval time.Duration

	// table is the users in force; nil when authentication is off.
	table atomic.Pointer[userTable]

	// reloadMu serializes reloads (the poller's and direct Reload calls); it guards seen.
	reloadMu sync.Mutex
	// seen is the state of the file at the last load attempt, good or bad; reload tries again only
	// when the file differs from it, so a broken file is reported once per change, not per poll.
	seen fileStamp

	stopCh   chan struct{}
	stopOnce sync.Once
	watching sync.WaitGroup
}

var (
	_ run.Config    = (*Service)(nil)
	_ run.PreRunner = (*Service)(nil)
	_ run.Service   = (*Service)(nil)
)

// fileStamp is what tells a changed file from an unchanged one.
type fileStamp struct {
	modTime time.Time
	size    int64
	mode    os.FileMode
	missing bool
}

// NewService returns the authentication unit; it reads nothing until PreRun.
func NewService() *Service {
	s := &Service{interval: DefaultReloadInterval, stopCh: make(chan struct{})}
	s.fs = run.NewFlagSet("auth")
	s.fs.StringVar(&s.path, ConfigFileFlag, "",
		"a YAML file of users, users: [{username, password}], readable by its owner only; when set, gRPC calls and HTTP requests other than health need credentials")
	s.fs.DurationVar(&s.interval, ReloadIntervalFlag, DefaultReloadInterval,
		"how often the --auth-config-file is checked for changes and reloaded")
	return s
}

// Name names the unit.
func (s *Service) Name() string { return "auth" }

// FlagSet returns the unit's flags.
func (s *Service) FlagSet() *run.FlagSet { return s.fs }

// Validate checks the reload interval.
func (s *Service) Validate() error {
	if s.interval <= 0 {
		return errors.Errorf("--%s must be above 0, got %s", ReloadIntervalFlag, s.interval)
	}
	return nil
}

// PreRun loads the users file, if one is named: an unsafe, unreadable or invalid file stops the
// start.
func (s *Service) PreRun(context.Context) error {
	s.log = logger.GetLogger("liaison", "auth")
	if s.path == "" {
		s.log.Info().Msg("authentication is off: no --auth-config-file")
		return nil
	}
	s.seen = stampOf(s.path)
	t, err := loadUsers(s.path)
	if err != nil {
		return err
	}
	s.table.Store(t)
	s.log.Info().Str("file", s.path).Int("users", len(t.users)).Msg("authentication is on")
	return nil
}

// Serve polls the users file for changes until GracefulStop.
func (s *Service) Serve() run.StopNotify {
	if s.Enabled() {
		s.watching.Add(1)
		go s.watch()
	}
	return s.stopCh
}

// GracefulStop stops polling the users file.
func (s *Service) GracefulStop() {
	s.stopOnce.Do(func() { close(s.stopCh) })
	s.watching.Wait()
}

// Enabled reports whether credentials are required: a users file was loaded.
func (s *Service) Enabled() bool {
	return s != nil && s.table.Load() != nil
}

// Reload reads the users file again if it changed since the last attempt. A file that fails to
// load leaves the users in force as they were; the error is returned and logged.
func (s *Service) Reload() error {
	if !s.Enabled() {
		return nil
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	stamp := stampOf(s.path)
	if stamp == s.seen {
		return nil
	}
	s.seen = stamp
	t, err := loadUsers(s.path)
	if err != nil {
		s.log.Error().Err(err).Str("file", s.path).Msg("cannot reload the users file; the users loaded before stay in force")
		return err
	}
	s.table.Store(t)
	s.log.Info().Str("file", s.path).Int("users", len(t.users)).Msg("users file reloaded")
	return nil
}

// authenticate reports whether the credentials are those of a user in force. It is true for
// anything when authentication is off.
func (s *Service) authenticate(username, password string) bool {
	if s == nil {
		return true
	}
	t := s.table.Load()
	if t == nil {
		return true
	}
	return t.check(username, password)
}

func (s *Service) watch() {
	defer s.watching.Done()
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stopCh:
			return
		case <-ticker.C:
			// Reload logs its own failure.
			_ = s.Reload()
		}
	}
}

func stampOf(path string) fileStamp {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{missing: true}
	}
	return fileStamp{modTime: info.ModTime(), size: info.Size(), mode: info.Mode()}
}
