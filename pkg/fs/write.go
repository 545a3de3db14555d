package fs

import (
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

func (localFileSystem) WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return errors.Wrapf(err, "create temp file for %s", path)
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return errors.Wrapf(err, "write %s", tmpName)
	}
	if err = tmp.Chmod(perm); err != nil {
		return errors.Wrapf(err, "chmod %s", tmpName)
	}
	if err = tmp.Sync(); err != nil {
		return errors.Wrapf(err, "sync %s", tmpName)
	}
	if err = tmp.Close(); err != nil {
		return errors.Wrapf(err, "close %s", tmpName)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return errors.Wrapf(err, "rename %s to %s", tmpName, path)
	}
	committed = true
	return syncDir(dir)
}

// Rename moves from to to and syncs the directory of to.
func (localFileSystem) Rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return errors.Wrapf(err, "rename %s to %s", from, to)
	}
	return syncDir(filepath.Dir(to))
}

// syncDir makes a rename or removal inside dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return errors.Wrapf(err, "open dir %s", dir)
	}
	syncErr := d.Sync()
	closeErr := d.Close()
	if syncErr != nil {
		return errors.Wrapf(syncErr, "sync dir %s", dir)
	}
	if closeErr != nil {
		return errors.Wrapf(closeErr, "close dir %s", dir)
	}
	return nil
}
