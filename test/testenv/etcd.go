// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package testenv

import (
	"fmt"
	"os"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// StartEtcd starts an embedded etcd whose data lives in dir, on client and peer ports of
// 127.0.0.1 chosen at random. The caller closes it.
func StartEtcd(dir string) (*embeddedetcd.Server, error) {
	clientURL, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		return nil, errors.Wrap(err, "pick the etcd client URL")
	}
	peerURL, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		return nil, errors.Wrap(err, "pick the etcd peer URL")
	}
	srv, err := embeddedetcd.Start(embeddedetcd.Options{Dir: dir, ListenClientURL: clientURL, ListenPeerURL: peerURL})
	if err != nil {
		return nil, errors.Wrapf(err, "start embedded etcd in %s", dir)
	}
	return srv, nil
}

// RunWithEtcd is the body of a TestMain whose tests share one embedded etcd: it sets the log level
// to warn, starts the etcd in a temporary directory, hands it to started, runs the tests and
// removes everything. It returns the exit code for os.Exit.
func RunWithEtcd(m *testing.M, started func(*embeddedetcd.Server)) int {
	if err := logger.Init(logger.Logging{Level: "warn"}); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: logger:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "testenv-etcd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err := StartEtcd(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	defer srv.Close()
	started(srv)
	return m.Run()
}

// namespaceSeq numbers the namespaces, so that repeated runs (-count) never share one.
var namespaceSeq atomic.Int64

// nonKeyChars are the characters of a test name that do not go into an etcd namespace.
var nonKeyChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Namespace returns an etcd key namespace that belongs to the test alone.
func Namespace(t testing.TB) string {
	return fmt.Sprintf("test-%s-%d-%d", nonKeyChars.ReplaceAllString(t.Name(), "_"), os.Getpid(), namespaceSeq.Add(1))
}
