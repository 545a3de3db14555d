// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	crashDirEnv  = "TSTABLE_CRASH_DIR"
	crashSyncEnv = "TSTABLE_CRASH_SYNC"
)

// crashBatch is the batch number i of the crash writer: 20 spans in 2
// traces whose IDs name the batch.
func crashBatch(i int) []Span {
	g := newSpanGen(uint64(i))
	spans := g.batch(20, 10)
	for j := range spans {
		spans[j].TraceID = fmt.Sprintf("batch-%05d-%d", i, j/10)
		spans[j].Tags[posTraceID] = strTag(spans[j].TraceID)
	}
	return spans
}

// TestCrashWriter is the child process of TestAcknowledgedWritesSurviveKill:
// it writes batches forever and prints the number of each acknowledged one.
func TestCrashWriter(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestAcknowledgedWritesSurviveKill")
	}
	o := DefaultOptions()
	o.Sync = os.Getenv(crashSyncEnv) == "true"
	o.FlushTimeout = 0 // keep acknowledged data in the WAL only
	o.MemTableSize = 64 << 20
	tbl, err := Open(dir, o)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		if err := tbl.Write(crashBatch(i), swWriteOptions); err != nil {
			fmt.Println("write:", err)
			os.Exit(2)
		}
		fmt.Printf("acked %d\n", i)
	}
}

// TestAcknowledgedWritesSurviveKill kills a writing process with SIGKILL and
// checks that every write it acknowledged is in the reopened table, with
// Sync on and off.
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, sync := range []bool{true, false} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriter$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashSyncEnv+"="+strconv.FormatBool(sync))
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			acked := -1
			lines := bufio.NewScanner(out)
			deadline := time.Now().Add(30 * time.Second)
			for acked < 30 && lines.Scan() {
				line := lines.Text()
				n, ok := strings.CutPrefix(line, "acked ")
				if !ok {
					_ = cmd.Process.Kill()
					t.Fatalf("child: %s", line)
				}
				if acked, err = strconv.Atoi(n); err != nil {
					t.Fatal(err)
				}
				if time.Now().After(deadline) {
					break
				}
			}
			// Kill at once, mid-stream: later writes may be half done.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if acked < 0 {
				t.Fatal("child acknowledged nothing")
			}

			tbl, err := Open(dir, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer tbl.Close()
			for i := 0; i <= acked; i++ {
				checkTraces(t, tbl, byTrace(crashBatch(i)))
			}
			// The reopened table goes on with fresh sequence numbers.
			mustWrite(t, tbl, withPayloadSuffix(crashBatch(0), "-again"), swWriteOptions)
			if got := mustGetTraces(t, tbl, "batch-00000-0"); len(got["batch-00000-0"]) != 20 {
				t.Fatalf("rewritten trace has %d spans, want 20", len(got["batch-00000-0"]))
			}
		})
	}
}
