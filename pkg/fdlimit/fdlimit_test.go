// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package fdlimit

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

func TestLimitAndInUseOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		if _, err := InUse(); err == nil {
			t.Fatal("InUse answered on a platform without /proc/self/fd")
		}
		return
	}
	lim, err := Limit()
	if err != nil {
		t.Fatal(err)
	}
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Fatal(err)
	}
	if uint64(lim) != min(r.Cur, 1<<31) {
		t.Fatalf("Limit() = %d, RLIMIT_NOFILE is %d", lim, r.Cur)
	}
	before, err := InUse()
	if err != nil || before < 3 || before > lim {
		t.Fatalf("InUse() = %d, %v (limit %d)", before, err, lim)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := InUse()
	_ = f.Close()
	if err != nil || after != before+1 {
		t.Fatalf("InUse() after opening a file = %d, %v; want %d", after, err, before+1)
	}
}
