// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"context"
	"crypto/tls"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"
	"go.etcd.io/etcd/client/pkg/v3/logutil"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// Defaults of EtcdOptions.
const (
	DefaultNamespace   = "banyandb"
	DefaultDialTimeout = 5 * time.Second
)

// revokeTimeout bounds the lease revocation done when a node registration ends.
const revokeTimeout = 2 * time.Second

// EtcdOptions configures NewEtcdRegistry.
type EtcdOptions struct {
	// Endpoints are the client URLs of the etcd cluster, e.g. "http://127.0.0.1:2379". Required.
	Endpoints []string
	// Namespace is the first element of every key ("/<Namespace>/groups/..."), so that several
	// deployments can share one etcd. The default value is "banyandb".
	Namespace string
	// TLS is the client TLS configuration; nil means plain text.
	TLS *tls.Config
	// Username and Password authenticate against etcd when Username is not empty.
	Username, Password string
	// DialTimeout bounds connecting and the first round trip that proves etcd is usable.
	// The default value is 5s.
	DialTimeout time.Duration
	// Logger receives the registry's logs. The default value is the "metadata" logger.
	Logger *logger.Logger
}

// etcdRegistry is the etcd-backed Registry.
//
// Writes go straight to etcd; every conditional write is one etcd transaction. Watching is done
// by a single watcher goroutine that owns the handlers (see watch.go). Node registrations each
// own a keepalive goroutine. Close cancels ctx, which ends all goroutines, waits for them, and
// closes the client.
type etcdRegistry struct {
	client *clientv3.Client
	keys   keyspace
	log    *logger.Logger
	w      *watcher
	// dialTimeout bounds the revision read of RegisterHandler.
	dialTimeout time.Duration

	// ctx is canceled by Close; every background goroutine derives from it.
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards closed and orders wg.Add against Close's wg.Wait.
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup

	closeOnce sync.Once
}

var _ Registry = (*etcdRegistry)(nil)

// NewEtcdRegistry connects to etcd and returns a Registry over the namespace of opts.
// It fails, naming the endpoints, when etcd does not answer within opts.DialTimeout.
func NewEtcdRegistry(opts EtcdOptions) (reg Registry, err error) {
	if len(opts.Endpoints) == 0 {
		return nil, errors.Wrap(ErrBadRequest, "etcd endpoints are empty")
	}
	if strings.Trim(opts.Namespace, "/") == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.Logger == nil {
		opts.Logger = logger.GetLogger("metadata")
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   opts.Endpoints,
		DialTimeout: opts.DialTimeout,
		TLS:         opts.TLS,
		Username:    opts.Username,
		Password:    opts.Password,
		// Keep the connection checked so that a dead peer is noticed and the client fails over.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: opts.DialTimeout,
		// The client's own log (retries, reconnects) is noise at any level below error; the
		// registry logs what matters through opts.Logger.
		Logger: clientLogger(),
	})
	if err != nil {
		return nil, errors.Wrapf(err, "connect to etcd %v", opts.Endpoints)
	}
	defer func() {
		if err != nil {
			_ = client.Close()
		}
	}()
	keys := newKeyspace(opts.Namespace)
	// clientv3.New does not wait for a connection; one round trip proves the cluster is usable.
	probeCtx, cancelProbe := context.WithTimeout(context.Background(), opts.DialTimeout)
	_, err = client.Get(probeCtx, keys.root, clientv3.WithCountOnly())
	cancelProbe()
	if err != nil {
		return nil, errors.Wrapf(err, "etcd %v is unreachable within %s", opts.Endpoints, opts.DialTimeout)
	}

	r := &etcdRegistry{client: client, keys: keys, log: opts.Logger, dialTimeout: opts.DialTimeout}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.w = newWatcher(client, keys, opts.Logger)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.w.run(r.ctx)
	}()
	r.log.Info().Strs("endpoints", opts.Endpoints).Str("namespace", keys.root).Msg("metadata registry connected to etcd")
	return r, nil
}

// RegisterHandler subscribes h to the kinds. Before it returns, h has received OnAddOrUpdate for
// every resource of those kinds as of a revision no older than the call (so every write that
// completed before the call is included), groups first, then in key order; afterwards h receives
// every later change, in revision order, one event at a time. It must not be called from inside an
// EventHandler callback: the replay runs on the goroutine that delivers events. If etcd has not
// been read yet it waits for the first successful read; after Close it does nothing.
func (r *etcdRegistry) RegisterHandler(name string, kindList []Kind, h EventHandler) {
	if h == nil || len(kindList) == 0 {
		r.log.Warn().Str("handler", name).Msg("ignoring a handler without kinds or callbacks")
		return
	}
	set := make(map[Kind]bool, len(kindList))
	for _, k := range kindList {
		set[k] = true
	}
	reg := registration{entry: &handlerEntry{name: name, kinds: set, h: h}, done: make(chan struct{})}
	// The replay must include every write that completed before this call: it waits for the
	// watcher to reach the store's current revision.
	ctx, cancel := context.WithTimeout(r.ctx, r.dialTimeout)
	resp, err := r.client.Get(ctx, r.keys.root, clientv3.WithCountOnly())
	cancel()
	if err == nil {
		reg.minRev = resp.Header.Revision
	} else if r.ctx.Err() == nil {
		r.log.Warn().Err(err).Str("handler", name).Msg("cannot read the store revision; replaying what the watcher has seen")
	}
	select {
	case r.w.regCh <- reg:
	case <-r.ctx.Done():
		r.log.Warn().Str("handler", name).Msg("registry is closed; handler not registered")
		return
	}
	select {
	case <-reg.done:
	case <-r.ctx.Done():
	}
}

// Close stops the watcher and the node keepalives (revoking the nodes' leases, so that they leave
// at once), then closes the etcd client. It is safe to call more than once.
func (r *etcdRegistry) Close() error {
	var err error
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		r.cancel()
		r.wg.Wait()
		if cerr := r.client.Close(); cerr != nil && !errors.Is(cerr, context.Canceled) {
			err = errors.Wrap(cerr, "close etcd client")
		}
		r.log.Info().Msg("metadata registry closed")
	})
	return err
}

// checkOpen returns ErrClosed after Close.
func (r *etcdRegistry) checkOpen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	return nil
}

// storeErr wraps an etcd error with what was being done; after Close it is ErrClosed.
func (r *etcdRegistry) storeErr(err error, format string, args ...any) error {
	if r.checkOpen() != nil {
		return errors.Wrapf(ErrClosed, format, args...)
	}
	return errors.Wrapf(err, format, args...)
}

// clientLogger is the zap logger of the etcd client: errors only, on stderr.
func clientLogger() *zap.Logger {
	lg, err := logutil.CreateDefaultZapLogger(zap.ErrorLevel)
	if err != nil {
		return zap.NewNop()
	}
	return lg
}
