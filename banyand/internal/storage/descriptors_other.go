// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

//go:build !linux

package storage

import "github.com/pkg/errors"

var errNoDescriptorCount = errors.New("storage: this platform does not tell how many descriptors a process holds")

// openFileLimit is unknown here: the DescriptorGuard is off.
func openFileLimit() (int, error) { return 0, errNoDescriptorCount }

// openFileCount is unknown here: the DescriptorGuard is off.
func openFileCount() (int, error) { return 0, errNoDescriptorCount }
