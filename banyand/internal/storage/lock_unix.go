//go:build unix

package storage

import (
	"os"
	"path/filepath"
	"syscall"

	"github.com/pkg/errors"
)

// dirLock is an exclusive flock on a location's lock file, held while a TSDB is open.
//
// flock belongs to the open file description, so a second OpenTSDB of the same location fails
// with ErrLocked whether it runs in another process or in this one. The kernel drops the lock
// when the descriptor is closed, including when the process dies.
type dirLock struct {
	f *os.File
}

func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, errors.Wrapf(err, "open lock file %s", path)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.Wrapf(ErrLocked, "%s", path)
		}
		return nil, errors.Wrapf(err, "flock %s", path)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) release() error {
	return errors.Wrapf(l.f.Close(), "release lock %s", l.f.Name())
}
