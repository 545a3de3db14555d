// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package helpers

import (
	"net"
	"sync"

	"github.com/pkg/errors"
	"go.uber.org/multierr"
)

var (
	portsMu sync.Mutex
	// handedOut remembers every port given out by this process, so that two servers started by
	// one test binary never get the same port even if the first has not bound it yet.
	handedOut = make(map[int]bool)
)

// FreePorts returns n distinct free TCP ports on 127.0.0.1. The ports are free when returned; a
// caller binds them soon after (another process could take one in between, which is unlikely).
func FreePorts(n int) ([]int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for attempts := 0; len(ports) < n; attempts++ {
		if attempts > 100*n {
			return nil, errors.Errorf("helpers: could not find %d free ports", n)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, multierr.Append(errors.New("helpers: listen on a free port"), err)
		}
		listeners = append(listeners, l)
		p := l.Addr().(*net.TCPAddr).Port
		if handedOut[p] {
			continue
		}
		handedOut[p] = true
		ports = append(ports, p)
	}
	return ports, nil
}
