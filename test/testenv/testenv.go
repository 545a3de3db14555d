// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package testenv is the environment of the unit tests: it reads the fixtures of pkg/test/trace
// (a missing one fails the test), quiets the logs of a TestMain (Run), starts the package-wide
// embedded etcd that a TestMain shares among its tests (RunWithEtcd), and opens registries in
// namespaces of their own. The fake metadata repositories (over such a registry, or in memory)
// are in the subpackage metarepo, because the tests of banyand/metadata/schema use this package
// and a fake of the repository must import schema. For the same reason this package imports
// neither pkg/schema nor banyand/metadata/schema: the internal tests of both use it.
//
// Usage sketch:
//
//	var etcdURL string
//
//	func TestMain(m *testing.M) { os.Exit(testenv.RunWithEtcd(m, func(s *embeddedetcd.Server) { etcdURL = s.ClientURL() })) }
//
//	func TestX(t *testing.T) {
//		g := testenv.LoadFixture(t, "schema/groups/test-trace-group.json", &commonv1.Group{})
//		traces := testenv.LoadFixtures(t, "schema/traces", func() *databasev1.Trace { return &databasev1.Trace{} })
//	}
package testenv

import (
	"fmt"
	"os"
	"testing"

	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// Run is the body of a TestMain whose tests need no etcd: it sets the log level to error, so that
// the output holds what matters rather than every group and table opened, and runs the tests. It
// returns the exit code for os.Exit.
func Run(m *testing.M) int {
	if err := logger.Init(logger.Logging{Level: "error"}); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: logger:", err)
		return 1
	}
	return m.Run()
}
