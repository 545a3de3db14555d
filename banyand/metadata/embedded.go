// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package metadata

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/pkg/errors"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// Flag defaults of the embedded service.
const (
	DefaultRootPath        = "/tmp"
	DefaultListenClientURL = "http://localhost:2379"
	DefaultListenPeerURL   = "http://localhost:2380"
)

// embeddedOptions are the flags of the embedded service.
type embeddedOptions struct {
	// rootPath holds the etcd data in <rootPath>/metadata.
	rootPath        string
	listenClientURL string
	listenPeerURL   string
	namespace       string
}

// embeddedService runs etcd in the process and a registry on it.
type embeddedService struct {
	repo
	etcd     *embeddedetcd.Server
	stopCh   chan struct{}
	opts     embeddedOptions
	stopOnce sync.Once
}

var _ Service = (*embeddedService)(nil)

// NewEmbeddedService returns the metadata unit of a standalone node: PreRun starts an embedded
// etcd whose data lives in <--metadata-root-path>/metadata and opens the registry on it;
// GracefulStop closes both.
func NewEmbeddedService() Service {
	s := &embeddedService{stopCh: make(chan struct{})}
	s.log = logger.GetLogger(name)
	return s
}

func (s *embeddedService) Name() string { return name }

func (s *embeddedService) FlagSet() *run.FlagSet {
	fs := run.NewFlagSet(name)
	fs.StringVar(&s.opts.rootPath, "metadata-root-path", DefaultRootPath,
		"the root path of the metadata; the embedded etcd keeps its data in <root>/metadata")
	fs.StringVar(&s.opts.listenClientURL, "etcd-listen-client-url", DefaultListenClientURL,
		"the URL the embedded etcd serves clients on")
	fs.StringVar(&s.opts.listenPeerURL, "etcd-listen-peer-url", DefaultListenPeerURL,
		"the URL the embedded etcd listens on for peers")
	fs.StringVar(&s.opts.namespace, "namespace", schema.DefaultNamespace,
		"the namespace of the metadata keys in etcd")
	return fs
}

func (s *embeddedService) Validate() error {
	var errs error
	if s.opts.rootPath == "" {
		errs = multierr.Append(errs, errors.New("--metadata-root-path is empty"))
	}
	if err := checkURL("etcd-listen-client-url", s.opts.listenClientURL); err != nil {
		errs = multierr.Append(errs, err)
	}
	if err := checkURL("etcd-listen-peer-url", s.opts.listenPeerURL); err != nil {
		errs = multierr.Append(errs, err)
	}
	if s.opts.namespace == "" {
		errs = multierr.Append(errs, errors.New("--namespace is empty"))
	}
	return errs
}

func (s *embeddedService) PreRun(context.Context) error {
	srv, err := embeddedetcd.Start(embeddedetcd.Options{
		Dir:             filepath.Join(s.opts.rootPath, "metadata"),
		ListenClientURL: s.opts.listenClientURL,
		ListenPeerURL:   s.opts.listenPeerURL,
		Logger:          s.log.Named("etcd"),
	})
	if err != nil {
		return err
	}
	reg, err := schema.NewEtcdRegistry(schema.EtcdOptions{
		Endpoints: []string{srv.ClientURL()},
		Namespace: s.opts.namespace,
		Logger:    s.log,
	})
	if err != nil {
		_ = srv.Close()
		return err
	}
	s.etcd = srv
	s.start(reg)
	return nil
}

// Serve returns a channel closed by GracefulStop, or when the embedded etcd stops on its own.
func (s *embeddedService) Serve() run.StopNotify {
	if s.etcd != nil {
		etcdStopped := s.etcd.StopNotify()
		go func() {
			select {
			case <-etcdStopped:
				s.log.Warn().Msg("embedded etcd stopped")
				s.stopOnce.Do(func() { close(s.stopCh) })
			case <-s.stopCh:
			}
		}()
	}
	return s.stopCh
}

func (s *embeddedService) GracefulStop() {
	s.stop()
	if s.etcd != nil {
		if err := s.etcd.Close(); err != nil {
			s.log.Warn().Err(err).Msg("close embedded etcd")
		}
	}
	s.stopOnce.Do(func() { close(s.stopCh) })
}
