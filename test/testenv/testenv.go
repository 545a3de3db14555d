// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package testenv is the environment of the unit tests: it reads the fixtures of
// pkg/test/trace (a missing one fails the test), starts the package-wide embedded etcd that a
// TestMain shares among its tests, and opens registries in namespaces of their own. The fake
// metadata repository over such a registry is in the subpackage metarepo, because the tests of
// banyand/metadata/schema use this package and a fake of the repository must import schema.
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
