// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package fdlimit tells how many file descriptors the process may hold and how many it holds:
// storage keeps its tables within the first, and listeners keep their connections within a
// share of it, so that neither can starve the other (Pebble ends the process when it cannot
// create a file it needs).
package fdlimit

import "github.com/pkg/errors"

// ErrUnknown is returned where the platform cannot tell.
var ErrUnknown = errors.New("fdlimit: this platform does not tell")

// Limit returns the process's soft limit of open file descriptors (Go raises it to the hard
// limit at start), at most 1<<31.
func Limit() (int, error) { return limit() }

// InUse returns how many file descriptors the process holds.
func InUse() (int, error) { return inUse() }
