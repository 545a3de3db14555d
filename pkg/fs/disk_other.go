//go:build !linux && !darwin

package fs

import (
	"io"
	"runtime"

	"github.com/pkg/errors"
)

// errUnsupported is returned on platforms without statfs/flock support.
var errUnsupported = errors.New("fs: not supported on " + runtime.GOOS)

func (localFileSystem) DiskUsagePercent(path string) (int, error) {
	return 0, errors.Wrapf(errUnsupported, "disk usage of %s", path)
}

func (localFileSystem) CreateLockFile(path string) (io.Closer, error) {
	return nil, errors.Wrapf(errUnsupported, "lock %s", path)
}
