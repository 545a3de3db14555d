//go:build linux || darwin

package fs

import (
	"io"
	"os"
	"strconv"
	"syscall"

	"github.com/pkg/errors"
)

func (localFileSystem) DiskUsagePercent(path string) (int, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, errors.Wrapf(err, "statfs %s", path)
	}
	bsize := uint64(st.Bsize)
	used := (uint64(st.Blocks) - uint64(st.Bfree)) * bsize
	avail := uint64(st.Bavail) * bsize
	return usagePercent(used, avail), nil
}

// usagePercent returns used/(used+avail) in percent, rounded up like df does.
func usagePercent(used, avail uint64) int {
	total := used + avail
	if total == 0 {
		return 0
	}
	return int((used*100 + total - 1) / total)
}

func (localFileSystem) CreateLockFile(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, errors.Wrapf(err, "open lock file %s", path)
	}
	if err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.Wrapf(ErrLocked, "lock %s", path)
		}
		return nil, errors.Wrapf(err, "lock %s", path)
	}
	// The pid only helps an operator find the holder; the flock is what excludes.
	if err = f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		_ = f.Close()
		return nil, errors.Wrapf(err, "write pid to lock file %s", path)
	}
	return &lockFile{f: f}, nil
}

// lockFile releases its flock on Close; the file itself stays so that no holder races on its inode.
type lockFile struct {
	f *os.File
}

func (l *lockFile) Close() error {
	unlockErr := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	closeErr := l.f.Close()
	if unlockErr != nil {
		return errors.Wrapf(unlockErr, "unlock %s", l.f.Name())
	}
	if closeErr != nil {
		return errors.Wrapf(closeErr, "close lock file %s", l.f.Name())
	}
	return nil
}
