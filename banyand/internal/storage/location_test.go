// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package storage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/errors"
)

func TestGroupLocation(t *testing.T) {
	root := filepath.Join(t.TempDir(), "data")
	for _, ok := range []string{"sw", "a.b", "...", ".hidden", "my group"} {
		got, err := GroupLocation(root, ok)
		if err != nil {
			t.Fatalf("GroupLocation(%q) = %v", ok, err)
		}
		if want := filepath.Join(root, ok); got != want {
			t.Fatalf("GroupLocation(%q) = %q, want %q", ok, got, want)
		}
	}
	if got, err := GroupLocation(root+"/", "g"); err != nil || got != filepath.Join(root, "g") {
		t.Fatalf("GroupLocation with a trailing slash on the root = %q, %v", got, err)
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../x", "/", `a\b`, "a\x00", ".deleting-g", ".creating-seg-2026112500"} {
		if got, err := GroupLocation(root, bad); !errors.Is(err, ErrUnsafeLocation) {
			t.Fatalf("GroupLocation(%q) = %q, %v; want ErrUnsafeLocation", bad, got, err)
		}
	}
	if _, err := GroupLocation("", "g"); !errors.Is(err, ErrUnsafeLocation) {
		t.Fatalf("GroupLocation with an empty root = %v, want ErrUnsafeLocation", err)
	}
}

// TestDropKeepsForeignEntries opens a TSDB on a directory that also holds another group's data
// (what a group named "." did to the trace data root) and checks that Drop deletes nothing.
func TestDropKeepsForeignEntries(t *testing.T) {
	db := newTestDB(t)
	other := filepath.Join(db.opts.Location, "other-group", "seg-2026112500")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	s := db.create(t, day(25))
	if _, err := s.Table(0); err != nil {
		t.Fatal(err)
	}
	s.DecRef()
	if err := db.Drop(); !errors.Is(err, ErrUnsafeLocation) {
		t.Fatalf("Drop = %v, want ErrUnsafeLocation", err)
	}
	if !exists(other) {
		t.Fatalf("Drop deleted %s", other)
	}
	if !exists(filepath.Join(db.opts.Location, "seg-2026112500")) {
		t.Fatal("Drop deleted the segment of a location it refused to delete")
	}
	db.rec.checkClosed(t)
	// The TSDB is closed all the same: its lock is free for the next open.
	db2, err := OpenTSDB(db.opts)
	if err != nil {
		t.Fatalf("reopen after a refused Drop: %v", err)
	}
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
}
