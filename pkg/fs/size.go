package fs

import (
	iofs "io/fs"
	"path/filepath"

	"github.com/pkg/errors"
)

func (localFileSystem) DirSize(path string) (int64, error) {
	var total int64
	err := filepath.WalkDir(path, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return 0, errors.Wrapf(err, "size of %s", path)
	}
	return total, nil
}
