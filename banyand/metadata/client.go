// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package metadata

import (
	"context"
	"crypto/tls"
	"sync"
	"time"

	"github.com/pkg/errors"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
)

// DefaultEtcdEndpoint is the default of --etcd-endpoints.
const DefaultEtcdEndpoint = "http://localhost:2379"

// clientOptions are the flags of the client service.
type clientOptions struct {
	namespace   string
	username    string
	password    string
	caFile      string
	certFile    string
	keyFile     string
	endpoints   []string
	dialTimeout time.Duration
}

// clientService connects to an external etcd.
type clientService struct {
	repo
	stopCh   chan struct{}
	opts     clientOptions
	stopOnce sync.Once
}

var _ Service = (*clientService)(nil)

// NewClientService returns the metadata unit of liaison and data nodes: PreRun connects to the
// etcd cluster of --etcd-endpoints and fails, naming the endpoints, if it does not answer within
// --etcd-dial-timeout; GracefulStop disconnects.
func NewClientService() Service {
	s := &clientService{stopCh: make(chan struct{})}
	s.log = logger.GetLogger(name)
	return s
}

func (s *clientService) Name() string { return name }

func (s *clientService) FlagSet() *run.FlagSet {
	fs := run.NewFlagSet(name)
	fs.StringSliceVar(&s.opts.endpoints, "etcd-endpoints", []string{DefaultEtcdEndpoint},
		"the client URLs of the etcd cluster")
	fs.StringVar(&s.opts.namespace, "namespace", schema.DefaultNamespace,
		"the namespace of the metadata keys in etcd")
	fs.StringVar(&s.opts.username, "etcd-username", "", "the user name for etcd authentication")
	fs.StringVar(&s.opts.password, "etcd-password", "", "the password for etcd authentication")
	fs.StringVar(&s.opts.caFile, "etcd-tls-ca-file", "", "the CA bundle that verifies etcd's certificate")
	fs.StringVar(&s.opts.certFile, "etcd-tls-cert-file", "", "the client certificate presented to etcd")
	fs.StringVar(&s.opts.keyFile, "etcd-tls-key-file", "", "the key of the client certificate")
	fs.DurationVar(&s.opts.dialTimeout, "etcd-dial-timeout", schema.DefaultDialTimeout,
		"how long to wait for etcd to answer when connecting")
	return fs
}

func (s *clientService) Validate() error {
	var errs error
	if len(s.opts.endpoints) == 0 {
		errs = multierr.Append(errs, errors.New("--etcd-endpoints is empty"))
	}
	for _, ep := range s.opts.endpoints {
		if err := checkEndpoint("etcd-endpoints", ep); err != nil {
			errs = multierr.Append(errs, err)
		}
	}
	if s.opts.namespace == "" {
		errs = multierr.Append(errs, errors.New("--namespace is empty"))
	}
	if (s.opts.certFile == "") != (s.opts.keyFile == "") {
		errs = multierr.Append(errs, errors.New("--etcd-tls-cert-file and --etcd-tls-key-file must be set together"))
	}
	if s.opts.dialTimeout <= 0 {
		errs = multierr.Append(errs, errors.Errorf("--etcd-dial-timeout %s is not positive", s.opts.dialTimeout))
	}
	return errs
}

func (s *clientService) PreRun(context.Context) error {
	tlsConfig, err := s.tlsConfig()
	if err != nil {
		return err
	}
	reg, err := schema.NewEtcdRegistry(schema.EtcdOptions{
		Endpoints:   s.opts.endpoints,
		Namespace:   s.opts.namespace,
		TLS:         tlsConfig,
		Username:    s.opts.username,
		Password:    s.opts.password,
		DialTimeout: s.opts.dialTimeout,
		Logger:      s.log,
	})
	if err != nil {
		return err
	}
	s.start(reg)
	return nil
}

// tlsConfig is nil when no TLS file is set.
func (s *clientService) tlsConfig() (*tls.Config, error) {
	if s.opts.caFile == "" && s.opts.certFile == "" {
		return nil, nil
	}
	info := transport.TLSInfo{CertFile: s.opts.certFile, KeyFile: s.opts.keyFile, TrustedCAFile: s.opts.caFile}
	cfg, err := info.ClientConfig()
	if err != nil {
		return nil, errors.Wrap(err, "load etcd TLS files")
	}
	return cfg, nil
}

func (s *clientService) Serve() run.StopNotify {
	return s.stopCh
}

func (s *clientService) GracefulStop() {
	s.stop()
	s.stopOnce.Do(func() { close(s.stopCh) })
}
