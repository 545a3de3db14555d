// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package testenv

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tracetest "github.com/apache/skywalking-banyandb/pkg/test/trace"
)

// fixtureJSON parses fixtures leniently, as upstream's test harness does: fields this fork does
// not know are ignored.
var fixtureJSON = protojson.UnmarshalOptions{DiscardUnknown: true}

// ReadFixture returns the bytes of the fixture at rel (e.g. "schema/traces/sw.json") and fails
// the test when it is missing.
func ReadFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := tracetest.ReadFile(rel)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

// LoadFixture parses the protojson fixture at rel into m and returns m.
func LoadFixture[T proto.Message](t testing.TB, rel string, m T) T {
	t.Helper()
	if err := fixtureJSON.Unmarshal(ReadFixture(t, rel), m); err != nil {
		t.Fatalf("parse fixture %s: %v", rel, err)
	}
	return m
}

// LoadFixtures parses every *.json fixture of the directory dir (e.g. "schema/groups"), in file
// name order, each into a fresh message made by newMsg. An empty directory fails the test.
func LoadFixtures[T proto.Message](t testing.TB, dir string, newMsg func() T) []T {
	t.Helper()
	names, err := tracetest.Glob(dir + "/*.json")
	if err != nil {
		t.Fatalf("fixtures: %v", err)
	}
	out := make([]T, 0, len(names))
	for _, name := range names {
		out = append(out, LoadFixture(t, name, newMsg()))
	}
	return out
}
