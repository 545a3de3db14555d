// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"io/fs"
	"reflect"
	"testing"

	"github.com/pkg/errors"
)

func TestGlobListsTheTreeInNameOrder(t *testing.T) {
	got, err := Glob("schema/groups/*.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"schema/groups/test-trace-group.json", "schema/groups/test-trace-updated.json", "schema/groups/zipkin-trace-group.json",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Glob = %v, want %v", got, want)
	}
	for _, name := range got {
		if b, err := ReadFile(name); err != nil || len(b) == 0 {
			t.Fatalf("ReadFile(%s) = %d bytes, %v", name, len(b), err)
		}
	}
}

func TestMissingFixturesAreErrors(t *testing.T) {
	if _, err := ReadFile("schema/traces/nope.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadFile of a missing fixture: %v, want fs.ErrNotExist", err)
	}
	if _, err := Glob("schema/nope/*.json"); err == nil {
		t.Fatal("Glob of an empty directory succeeded")
	}
	if _, err := Glob("[bad"); err == nil {
		t.Fatal("Glob of a malformed pattern succeeded")
	}
}
