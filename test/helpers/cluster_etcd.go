// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package helpers

import (
	"path/filepath"

	"github.com/pkg/errors"
	"go.uber.org/multierr"

	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

// Etcd is a real etcd server embedded in the test process, on random loopback ports with its data
// in a temporary directory: the metadata store of the cluster suites' nodes.
type Etcd struct {
	// URL is the client URL the nodes dial (--etcd-endpoints).
	URL string
	// Dir holds etcd's data.
	Dir string

	srv     *embeddedetcd.Server
	cleanup func() error
}

// StartEtcd starts an embedded etcd and returns once it serves clients. CleanupAll (or Close)
// stops it and removes its directory. Start the nodes that use it after it, so that CleanupAll,
// which goes newest first, stops them before it: etcd's close waits for open client streams.
func StartEtcd() (*Etcd, error) {
	dir, removeDir, err := TempDir("banyand-etcd-")
	if err != nil {
		return nil, err
	}
	srv, err := testenv.StartEtcd(filepath.Join(dir, "etcd"))
	if err != nil {
		_ = removeDir()
		return nil, errors.Wrap(err, "helpers")
	}
	e := &Etcd{URL: srv.ClientURL(), Dir: dir, srv: srv}
	e.cleanup = registerCleanup(func() error {
		return errors.Wrap(multierr.Combine(srv.Close(), removeDir()), "helpers: clean up etcd")
	})
	return e, nil
}

// Close stops etcd and removes its directory.
func (e *Etcd) Close() error {
	return e.cleanup()
}
