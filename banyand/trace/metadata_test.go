// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/errors"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	"github.com/apache/skywalking-banyandb/banyand/internal/storage"
	"github.com/apache/skywalking-banyandb/test/testenv"
)

// TestOpenDBRefusesNamesOutsideTheDataRoot gives the supplier group names that the registry
// refuses, as if they had reached the node another way: storage must not open (and so never
// later drop) the data root, its parent or anything else but a child of the data root.
func TestOpenDBRefusesNamesOutsideTheDataRoot(t *testing.T) {
	e := newEnv(t)
	other := filepath.Join(e.s.dataPath, "other-group")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	sup := newSupplier(e.s.dataPath, e.s)
	for _, name := range []string{".", "..", "../..", "a/b", "", "a\x00b", ".deleting-other-group"} {
		g := testenv.Clone(e.fx.SWGroup)
		g.Metadata = &commonv1.Metadata{Name: name}
		db, err := sup.OpenDB(g)
		if !errors.Is(err, storage.ErrUnsafeLocation) {
			if db != nil {
				_ = db.Drop()
			}
			t.Fatalf("OpenDB(%q) = %v, want ErrUnsafeLocation", name, err)
		}
	}
	for _, p := range []string{filepath.Join(e.s.dataPath, "lock"), filepath.Join(filepath.Dir(e.s.dataPath), "lock")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s exists: a TSDB was opened outside a group directory", p)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("another group's directory is gone: %v", err)
	}
}
