//go:build linux || darwin

package fs

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestUsagePercent(t *testing.T) {
	tests := []struct {
		used, avail uint64
		want        int
	}{
		{0, 0, 0},
		{0, 100, 0},
		{100, 0, 100},
		{50, 50, 50},
		{1, 99, 1},
		{1, 999, 1}, // 0.1% rounds up
		{749, 251, 75},
	}
	for _, tt := range tests {
		if got := usagePercent(tt.used, tt.avail); got != tt.want {
			t.Errorf("usagePercent(%d, %d) = %d, want %d", tt.used, tt.avail, got, tt.want)
		}
	}
}

func TestDiskUsagePercent(t *testing.T) {
	lfs := NewLocalFileSystem()
	got, err := lfs.DiskUsagePercent(t.TempDir())
	if err != nil {
		t.Fatalf("DiskUsagePercent: %v", err)
	}
	if got < 0 || got > 100 {
		t.Fatalf("DiskUsagePercent = %d, want 0..100", got)
	}
	if _, err = lfs.DiskUsagePercent(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("DiskUsagePercent of a missing path succeeded")
	}
}

func TestCreateLockFile(t *testing.T) {
	lfs := NewLocalFileSystem()
	path := filepath.Join(t.TempDir(), "lock")

	held, err := lfs.CreateLockFile(path)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	content, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(content)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q, %v; want the pid", content, err)
	}
	// flock belongs to the open file, so a second open in this process contends like another process.
	if _, err = lfs.CreateLockFile(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock err = %v, want ErrLocked", err)
	}
	if err = held.Close(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	again, err := lfs.CreateLockFile(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if err = again.Close(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if _, err = lfs.CreateLockFile(filepath.Join(t.TempDir(), "missing", "lock")); err == nil || errors.Is(err, ErrLocked) {
		t.Fatalf("lock in a missing dir err = %v, want an open error", err)
	}
}
