// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package helpers

import (
	"os"
	"sort"
	"sync"

	"go.uber.org/multierr"
)

// cleanups is every process, node and temporary directory the helpers created and not yet
// released, so that CleanupAll can end a suite without leaking any of them.
var cleanups struct {
	sync.Mutex
	next  int
	funcs map[int]func() error
}

// registerCleanup remembers f and returns the function that runs it at most once and forgets it.
func registerCleanup(f func() error) func() error {
	cleanups.Lock()
	defer cleanups.Unlock()
	if cleanups.funcs == nil {
		cleanups.funcs = make(map[int]func() error)
	}
	id := cleanups.next
	cleanups.next++
	var once sync.Once
	var err error
	run := func() error {
		once.Do(func() {
			cleanups.Lock()
			delete(cleanups.funcs, id)
			cleanups.Unlock()
			err = f()
		})
		return err
	}
	cleanups.funcs[id] = run
	return run
}

// CleanupAll stops every server and in-process node still running and removes every temporary
// directory the helpers made, newest first (a server is registered after the directory it lives
// in). Suites call it from AfterSuite.
func CleanupAll() error {
	cleanups.Lock()
	ids := make([]int, 0, len(cleanups.funcs))
	funcs := make(map[int]func() error, len(cleanups.funcs))
	for id, f := range cleanups.funcs {
		ids = append(ids, id)
		funcs[id] = f
	}
	cleanups.Unlock()
	sort.Sort(sort.Reverse(sort.IntSlice(ids)))
	var errs error
	for _, id := range ids {
		errs = multierr.Append(errs, funcs[id]())
	}
	return errs
}

// TempDir makes a temporary directory that CleanupAll removes; remove runs that removal earlier.
func TempDir(pattern string) (dir string, remove func() error, err error) {
	dir, err = os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	remove = registerCleanup(func() error { return os.RemoveAll(dir) })
	return dir, remove, nil
}

// TempDirAndPorts makes a temporary directory as TempDir does and picks n free loopback ports for
// the process that will use it; on an error nothing is left behind.
func TempDirAndPorts(pattern string, n int) (dir string, ports []int, remove func() error, err error) {
	dir, remove, err = TempDir(pattern)
	if err != nil {
		return "", nil, nil, err
	}
	if ports, err = FreePorts(n); err != nil {
		_ = remove()
		return "", nil, nil, err
	}
	return dir, ports, remove, nil
}
