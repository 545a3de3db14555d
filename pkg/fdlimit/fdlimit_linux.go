// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package fdlimit

import (
	"os"
	"syscall"

	"github.com/pkg/errors"
)

func limit() (int, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, errors.Wrap(err, "read RLIMIT_NOFILE")
	}
	if r.Cur > 1<<31 {
		return 1 << 31, nil
	}
	return int(r.Cur), nil
}

func inUse() (int, error) {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, errors.Wrap(err, "open /proc/self/fd")
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return 0, errors.Wrap(err, "read /proc/self/fd")
	}
	// Less the descriptor of the directory being read.
	return len(names) - 1, nil
}
