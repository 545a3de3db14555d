// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package embeddedetcd runs a single-member etcd server inside the process: the metadata store of
// a standalone node, and the real etcd of tests.
//
//	srv, err := embeddedetcd.Start(embeddedetcd.Options{Dir: dir,
//		ListenClientURL: "http://127.0.0.1:2379", ListenPeerURL: "http://127.0.0.1:2380"})
//	if err != nil { ... }
//	defer srv.Close()
//	reg, err := schema.NewEtcdRegistry(schema.EtcdOptions{Endpoints: []string{srv.ClientURL()}})
package embeddedetcd

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// StartTimeout bounds how long Start waits for the server to be ready.
const StartTimeout = 30 * time.Second

// Options configures Start.
type Options struct {
	// Logger receives the server's lifecycle logs. The default value is the
	// "metadata.etcd" logger. etcd's own log is kept at error level on stderr.
	Logger *logger.Logger
	// Dir holds etcd's data (created if missing); a restart on the same Dir keeps the data. Required.
	Dir string
	// ListenClientURL is the URL clients connect to, e.g. "http://127.0.0.1:2379". Required.
	ListenClientURL string
	// ListenPeerURL is the URL of the (unused, single-member) peer listener. Required.
	ListenPeerURL string
}

// Server is a running embedded etcd.
type Server struct {
	etcd      *embed.Etcd
	log       *logger.Logger
	closing   *atomic.Bool
	clientURL string
	closeOnce sync.Once
}

// Start starts an embedded etcd and waits until it serves clients. On failure, everything it
// started is stopped again.
func Start(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = logger.GetLogger("metadata", "etcd")
	}
	if opts.Dir == "" {
		return nil, errors.New("embedded etcd: data dir is empty")
	}
	clientURL, err := parseURL("listen client URL", opts.ListenClientURL)
	if err != nil {
		return nil, err
	}
	peerURL, err := parseURL("listen peer URL", opts.ListenPeerURL)
	if err != nil {
		return nil, err
	}
	if err = os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, errors.Wrapf(err, "embedded etcd: create data dir %s", opts.Dir)
	}

	cfg := embed.NewConfig()
	cfg.Name = "banyandb"
	cfg.Dir = opts.Dir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	closing := new(atomic.Bool)
	zl, err := newEtcdLogger(closing)
	if err != nil {
		return nil, errors.Wrap(err, "embedded etcd: build logger")
	}
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"stderr"}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zl)
	// Keep an hour of history: watchers that fall further behind re-read the store.
	cfg.AutoCompactionMode = embed.CompactorModePeriodic
	cfg.AutoCompactionRetention = "1h"

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, errors.Wrapf(err, "embedded etcd: start on %s (data %s)", clientURL, opts.Dir)
	}
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err = <-e.Err():
		closing.Store(true)
		e.Close()
		return nil, errors.Wrapf(err, "embedded etcd: serve on %s", clientURL)
	case <-timer.C:
		closing.Store(true)
		e.Server.Stop()
		e.Close()
		return nil, errors.Errorf("embedded etcd: not ready on %s within %s", clientURL, StartTimeout)
	}
	s := &Server{etcd: e, log: opts.Logger, clientURL: dialURL(clientURL, e.Clients), closing: closing}
	s.log.Info().Str("client_url", s.clientURL).Str("dir", opts.Dir).Msg("embedded etcd is ready")
	return s, nil
}

// ClientURL is the URL a client of this process dials, e.g. "http://127.0.0.1:2379"; a wildcard
// listen address is replaced by the loopback address.
func (s *Server) ClientURL() string {
	return s.clientURL
}

// StopNotify is closed when the server has stopped, by Close or on its own.
func (s *Server) StopNotify() <-chan struct{} {
	return s.etcd.Server.StopNotify()
}

// Close stops the server and releases its listeners and files. It is safe to call more than once.
// Streams that clients still hold open (watches, lease keepalives) delay it by etcd's request
// timeout (about 7s): close the clients first.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.etcd.Close()
		s.log.Info().Str("client_url", s.clientURL).Msg("embedded etcd stopped")
	})
	return nil
}

func parseURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.Wrapf(err, "embedded etcd: %s %q", what, raw)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.Errorf("embedded etcd: %s %q is not an http(s)://host:port URL", what, raw)
	}
	return u, nil
}

// dialURL is the URL of the first client listener as a client can dial it.
func dialURL(listen *url.URL, listeners []net.Listener) string {
	if len(listeners) == 0 {
		return listen.String()
	}
	addr, ok := listeners[0].Addr().(*net.TCPAddr)
	if !ok {
		return listen.String()
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		// A wildcard listener also accepts loopback connections.
		host = "127.0.0.1"
	}
	u := url.URL{Scheme: listen.Scheme, Host: net.JoinHostPort(host, strconv.Itoa(addr.Port))}
	return u.String()
}
