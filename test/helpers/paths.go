// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package helpers is the toolbox of the integration suites: it finds the repository, reads the fixtures
// of pkg/test/trace, picks free loopback ports, builds and runs banyand-server as a child process (or a
// standalone node in-process), dials it, loads the schema fixtures and writes the span fixtures the
// way API.md §8.2 describes. It holds no Ginkgo state: every function returns an error, so the
// suites decide how to fail.
//
// Usage sketch:
//
//	srv, err := helpers.StartServer(helpers.ServerOptions{})
//	defer helpers.CleanupAll()
//	conn, err := helpers.Dial(srv.Addr)
//	err = helpers.LoadSchemas(ctx, conn)
//	base := helpers.FixtureBase(time.Now())
//	err = helpers.WriteFixtureSpans(ctx, conn, base)
package helpers

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pkg/errors"
)

// modulePath is the module of the repository root.
const modulePath = "github.com/apache/skywalking-banyandb"

// ErrRepoRootNotFound is returned when no go.mod of the module is found above the helpers.
var ErrRepoRootNotFound = errors.New("helpers: repository root not found")

// RepoRoot returns the directory of the module's go.mod, found by walking up from this source
// file (and, failing that, from the working directory).
func RepoRoot() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			if isModuleRoot(filepath.Join(dir, "go.mod")) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", ErrRepoRootNotFound
}

func isModuleRoot(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == modulePath
		}
	}
	return false
}
