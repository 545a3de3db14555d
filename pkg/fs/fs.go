// Package fs is the narrow file-system seam of the storage engine: crash-safe writes and deletes,
// disk usage, and an exclusive lock file, over the local disk.
package fs

import (
	"io"
	"os"

	"github.com/pkg/errors"
)

// ErrLocked is returned by CreateLockFile when another holder already owns the lock.
var ErrLocked = errors.New("fs: file is locked")

// FileSystem is the set of disk operations the engine uses.
type FileSystem interface {
	// MkdirIfNotExist creates path and its missing parents with perm; an existing directory is fine.
	MkdirIfNotExist(path string, perm os.FileMode) error
	// ReadDir lists the entries of path sorted by name.
	ReadDir(path string) ([]os.DirEntry, error)
	// RemoveAll deletes path crash-safely: it is first renamed to a ".deleting-<name>" sibling,
	// so a crash leaves either the whole tree or a leftover that CleanDeleting removes.
	// A missing path is not an error.
	RemoveAll(path string) error
	// CleanDeleting removes the ".deleting-*" leftovers of interrupted RemoveAll calls in dir.
	CleanDeleting(dir string) error
	// WriteFileAtomic replaces path with data so that readers see either the old or the new content,
	// even after a crash: temp file, fsync, rename, then fsync of the directory.
	WriteFileAtomic(path string, data []byte, perm os.FileMode) error
	// Rename moves from to to (both in one file system) and makes the move durable: a crash leaves
	// either name, never a half-moved tree.
	Rename(from, to string) error
	// ReadFile returns the content of path.
	ReadFile(path string) ([]byte, error)
	// DiskUsagePercent returns used/(used+available) of the file system holding path, rounded up.
	DiskUsagePercent(path string) (int, error)
	// DirSize returns the total size of the regular files under path.
	DirSize(path string) (int64, error)
	// CreateLockFile takes a non-blocking exclusive lock on path, creating it if needed;
	// it returns ErrLocked if the lock is held. Close releases the lock.
	CreateLockFile(path string) (io.Closer, error)
}

// localFileSystem implements FileSystem over the os package.
type localFileSystem struct{}

var _ FileSystem = localFileSystem{}

// NewLocalFileSystem returns a FileSystem over the local disk.
func NewLocalFileSystem() FileSystem {
	return localFileSystem{}
}

func (localFileSystem) MkdirIfNotExist(path string, perm os.FileMode) error {
	if err := os.MkdirAll(path, perm); err != nil {
		return errors.Wrapf(err, "mkdir %s", path)
	}
	return nil
}

func (localFileSystem) ReadDir(path string) ([]os.DirEntry, error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, errors.Wrapf(err, "read dir %s", path)
	}
	return entries, nil
}

func (localFileSystem) ReadFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrapf(err, "read file %s", path)
	}
	return data, nil
}
