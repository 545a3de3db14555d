// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package cmdsetup

import (
	"context"
	"net"
	"os"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// logging is the unit of the logging flags; its PreRun configures the logger before any other unit starts.
type logging struct {
	fs    *run.FlagSet
	level string
	env   string
}

func newLogging() *logging {
	l := &logging{}
	l.fs = run.NewFlagSet("logging")
	l.fs.StringVar(&l.level, "logging-level", "info", "the log level: debug, info, warn or error")
	l.fs.StringVar(&l.env, "logging-env", "prod", "the log format: prod (JSON) or dev (console)")
	return l
}

func (l *logging) Name() string { return "logging" }

func (l *logging) FlagSet() *run.FlagSet { return l.fs }

func (l *logging) Validate() error {
	switch l.level {
	case "debug", "info", "warn", "error":
		return nil
	}
	return errors.Errorf("--logging-level must be debug, info, warn or error, got %q", l.level)
}

func (l *logging) PreRun(context.Context) error {
	return logger.Init(logger.Logging{Env: l.env, Level: l.level})
}

// Identity is the unit of the node's advertised host (--node-host-provider, --node-host).
type Identity struct {
	fs       *run.FlagSet
	provider string
	host     string
	resolved string
}

func newIdentity() *Identity {
	id := &Identity{}
	id.fs = run.NewFlagSet("node")
	id.fs.StringVar(&id.provider, "node-host-provider", "hostname", "how the node finds the host it advertises: hostname, ip or flag")
	id.fs.StringVar(&id.host, "node-host", "", "the host the node advertises when --node-host-provider=flag")
	return id
}

// Name names the unit.
func (id *Identity) Name() string { return "node-identity" }

// FlagSet returns the node flags.
func (id *Identity) FlagSet() *run.FlagSet { return id.fs }

// Validate checks the provider.
func (id *Identity) Validate() error {
	switch id.provider {
	case "hostname", "ip":
		return nil
	case "flag":
		if id.host == "" {
			return errors.New("--node-host is required when --node-host-provider=flag")
		}
		return nil
	}
	return errors.Errorf("--node-host-provider must be hostname, ip or flag, got %q", id.provider)
}

// PreRun resolves the advertised host.
func (id *Identity) PreRun(context.Context) error {
	switch id.provider {
	case "flag":
		id.resolved = id.host
	case "hostname":
		h, err := os.Hostname()
		if err != nil {
			return errors.Wrap(err, "read the hostname")
		}
		id.resolved = h
	case "ip":
		ip, err := firstIP()
		if err != nil {
			return err
		}
		id.resolved = ip
	}
	return nil
}

// Host returns the advertised host, known after PreRun.
func (id *Identity) Host() string { return id.resolved }

func firstIP() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", errors.Wrap(err, "list interface addresses")
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String(), nil
		}
	}
	return "127.0.0.1", nil
}
