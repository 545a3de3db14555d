//go:build !unix

package storage

import (
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

// dirLock keeps the lock file open. On platforms without flock it does not exclude a second
// TSDB on the same location; the tables' own locks (e.g. Pebble's LOCK file) still do.
type dirLock struct {
	f *os.File
}

func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, errors.Wrapf(err, "open lock file %s", path)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) release() error {
	return errors.Wrapf(l.f.Close(), "release lock %s", l.f.Name())
}
