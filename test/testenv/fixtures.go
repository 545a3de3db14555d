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

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
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

// Schemas are the schema fixtures of the sw trace (test-trace-group) and the zipkin trace
// (zipkinTrace), one message each, as most unit tests create them.
type Schemas struct {
	// SWGroup is the group of the sw trace.
	SWGroup *commonv1.Group
	// SW is the sw trace schema.
	SW *databasev1.Trace
	// Duration and Timestamp are the index rules of the sw trace.
	Duration, Timestamp *databasev1.IndexRule
	// SWBinding binds the sw trace to Duration and Timestamp.
	SWBinding *databasev1.IndexRuleBinding
	// ZipkinGroup is the group of the zipkin trace.
	ZipkinGroup *commonv1.Group
	// Zipkin is the zipkin trace schema.
	Zipkin *databasev1.Trace
	// ZipkinTimestamp is the index rule of the zipkin trace.
	ZipkinTimestamp *databasev1.IndexRule
	// ZipkinBinding binds the zipkin trace to ZipkinTimestamp.
	ZipkinBinding *databasev1.IndexRuleBinding
}

// LoadSchemas reads the schema fixtures of the sw and zipkin traces; a missing one fails the test.
func LoadSchemas(t testing.TB) Schemas {
	t.Helper()
	return Schemas{
		SWGroup:         LoadFixture(t, "schema/groups/test-trace-group.json", &commonv1.Group{}),
		SW:              LoadFixture(t, "schema/traces/sw.json", &databasev1.Trace{}),
		Duration:        LoadFixture(t, "schema/index_rules/duration.json", &databasev1.IndexRule{}),
		Timestamp:       LoadFixture(t, "schema/index_rules/timestamp.json", &databasev1.IndexRule{}),
		SWBinding:       LoadFixture(t, "schema/index_rule_bindings/sw.json", &databasev1.IndexRuleBinding{}),
		ZipkinGroup:     LoadFixture(t, "schema/groups/zipkin-trace-group.json", &commonv1.Group{}),
		Zipkin:          LoadFixture(t, "schema/traces/zipkin.json", &databasev1.Trace{}),
		ZipkinTimestamp: LoadFixture(t, "schema/index_rules/zipkin-timestamp.json", &databasev1.IndexRule{}),
		ZipkinBinding:   LoadFixture(t, "schema/index_rule_bindings/zipkin.json", &databasev1.IndexRuleBinding{}),
	}
}

// Clone returns a deep copy of m, typed as m.
func Clone[T proto.Message](m T) T { return proto.Clone(m).(T) }
