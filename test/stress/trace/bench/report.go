// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mismatchLog prints the first few problems of each kind to stderr and counts the rest.
type mismatchLog struct {
	mu      sync.Mutex
	out     io.Writer
	limit   int
	printed map[string]int
	dropped map[string]int
}

func newMismatchLog(out io.Writer, limit int) *mismatchLog {
	return &mismatchLog{out: out, limit: limit, printed: map[string]int{}, dropped: map[string]int{}}
}

func (l *mismatchLog) note(kind, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.printed[kind] >= l.limit {
		l.dropped[kind]++
		return
	}
	l.printed[kind]++
	fmt.Fprintf(l.out, "bench: %s problem: %s\n", kind, msg)
}

func (l *mismatchLog) summary() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for kind, n := range l.dropped {
		fmt.Fprintf(l.out, "bench: %d more %s problems not shown\n", n, kind)
	}
}

// diskUsage is the size of the regular files under a directory, in total and by file extension.
type diskUsage struct {
	total int64
	files int
	byExt map[string]int64
}

// breakdown lists the sizes by extension, largest first, e.g. "sst=89.5MB log=28.8MB".
func (u diskUsage) breakdown() string {
	exts := make([]string, 0, len(u.byExt))
	for e := range u.byExt {
		exts = append(exts, e)
	}
	slices.SortFunc(exts, func(a, b string) int { return cmp.Compare(u.byExt[b], u.byExt[a]) })
	parts := make([]string, 0, len(exts))
	for _, e := range exts {
		parts = append(parts, fmt.Sprintf("%s=%.1fMB", e, float64(u.byExt[e])/1e6))
	}
	return strings.Join(parts, " ")
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) (diskUsage, error) {
	u := diskUsage{byExt: map[string]int64{}}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// Files may vanish under a background merge.
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		u.total += info.Size()
		u.files++
		ext := strings.TrimPrefix(filepath.Ext(path), ".")
		if ext == "" || len(ext) > 8 || strings.ContainsAny(ext, "0123456789") {
			ext = "other"
		}
		u.byExt[ext] += info.Size()
		return nil
	})
	return u, err
}

// procStatusKiB reads a "kB" field such as VmHWM from /proc/<pid>/status.
func procStatusKiB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			break
		}
		return strconv.ParseInt(fields[0], 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// fig formats an optional figure for the final line: "-" when it could not be measured.
type fig struct {
	ok  bool
	val string
}

func figInt(v int64) fig { return fig{ok: true, val: strconv.FormatInt(v, 10)} }
func figFloat(v float64, prec int) fig {
	return fig{ok: true, val: strconv.FormatFloat(v, 'f', prec, 64)}
}

func (f fig) String() string {
	if !f.ok {
		return "-"
	}
	return f.val
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyLine summarises query latencies and returns the p99 figure.
func latencyLine(q *queryStats) (string, fig) {
	p := func(x float64) fig {
		v, ok := percentile(q.lat, x)
		if !ok {
			return fig{}
		}
		return figFloat(ms(v), 2)
	}
	p99 := p(99)
	return fmt.Sprintf("%-9s queries=%d ok_calls=%d errors=%d mismatches=%d p50_ms=%s p95_ms=%s p99_ms=%s",
		q.kind, len(q.lat)+q.errors, len(q.lat), q.errors, q.mismatch, p(50), p(95), p99), p99
}
