package fs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte{'x'}, size), 0o600); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := NewLocalFileSystem().ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func TestMkdirIfNotExist(t *testing.T) {
	lfs := NewLocalFileSystem()
	dir := filepath.Join(t.TempDir(), "a", "b")
	for i := 0; i < 2; i++ {
		if err := lfs.MkdirIfNotExist(dir, 0o755); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		t.Fatalf("dir not created: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, 1)
	if err := lfs.MkdirIfNotExist(file, 0o755); err == nil {
		t.Fatal("mkdir over a regular file succeeded")
	}
}

func TestReadErrorsKeepTheCause(t *testing.T) {
	lfs := NewLocalFileSystem()
	missing := filepath.Join(t.TempDir(), "missing")
	_, err := lfs.ReadFile(missing)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("ReadFile err = %v, want wrapped ErrNotExist naming the path", err)
	}
	if _, err = lfs.ReadDir(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadDir err = %v, want wrapped ErrNotExist", err)
	}
	if _, err = lfs.DirSize(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("DirSize err = %v, want wrapped ErrNotExist", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	lfs := NewLocalFileSystem()
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.json")
	for _, content := range []string{"first", "second, longer content", ""} {
		if err := lfs.WriteFileAtomic(path, []byte(content), 0o640); err != nil {
			t.Fatalf("WriteFileAtomic: %v", err)
		}
		got, err := lfs.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("ReadFile = %q, %v; want %q", got, err, content)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Fatalf("perm = %v, want 0640", info.Mode().Perm())
	}
	if got := names(t, dir); len(got) != 1 || got[0] != "meta.json" {
		t.Fatalf("dir holds %v, want only meta.json (no temp files)", got)
	}
}

func TestWriteFileAtomicFailureLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	// The target is a non-empty directory, so the final rename must fail.
	target := filepath.Join(dir, "target")
	writeFile(t, filepath.Join(target, "child"), 1)
	if err := NewLocalFileSystem().WriteFileAtomic(target, []byte("x"), 0o600); err == nil {
		t.Fatal("write over a non-empty directory succeeded")
	}
	if got := names(t, dir); len(got) != 1 || got[0] != "target" {
		t.Fatalf("dir holds %v, want only target", got)
	}
}

func TestRemoveAll(t *testing.T) {
	lfs := NewLocalFileSystem()
	root := t.TempDir()
	seg := filepath.Join(root, "seg-2024010100")
	writeFile(t, filepath.Join(seg, "shard-0", "data"), 10)
	// A leftover of an earlier crashed delete of the same name must not block this one.
	writeFile(t, filepath.Join(root, ".deleting-seg-2024010100", "old"), 10)
	writeFile(t, filepath.Join(root, "keep", "data"), 10)

	if err := lfs.RemoveAll(seg); err != nil {
		t.Fatalf("RemoveAll: %v", err)
	}
	if got := names(t, root); strings.Join(got, ",") != "keep" {
		t.Fatalf("root holds %v, want only keep", got)
	}
	if err := lfs.RemoveAll(seg); err != nil {
		t.Fatalf("RemoveAll of a missing path: %v", err)
	}
	file := filepath.Join(root, "keep", "data")
	if err := lfs.RemoveAll(file); err != nil {
		t.Fatalf("RemoveAll of a file: %v", err)
	}
	if got := names(t, filepath.Join(root, "keep")); len(got) != 0 {
		t.Fatalf("file not removed: %v", got)
	}
}

func TestCleanDeleting(t *testing.T) {
	lfs := NewLocalFileSystem()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, ".deleting-seg-a", "shard-0", "data"), 10)
	writeFile(t, filepath.Join(root, ".deleting-file"), 10)
	writeFile(t, filepath.Join(root, "seg-b", "data"), 10)
	writeFile(t, filepath.Join(root, "deleting-lookalike"), 1)

	if err := lfs.CleanDeleting(root); err != nil {
		t.Fatalf("CleanDeleting: %v", err)
	}
	if got := strings.Join(names(t, root), ","); got != "deleting-lookalike,seg-b" {
		t.Fatalf("root holds %s", got)
	}
	if err := lfs.CleanDeleting(filepath.Join(root, "missing")); err != nil {
		t.Fatalf("CleanDeleting of a missing dir: %v", err)
	}
}

func TestDirSize(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a"), 100)
	writeFile(t, filepath.Join(root, "sub", "b"), 20)
	writeFile(t, filepath.Join(root, "sub", "deeper", "c"), 3)
	if err := os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	got, err := NewLocalFileSystem().DirSize(root)
	if err != nil {
		t.Fatalf("DirSize: %v", err)
	}
	if got != 123 {
		t.Fatalf("DirSize = %d, want 123 (symlinks not followed)", got)
	}
}
