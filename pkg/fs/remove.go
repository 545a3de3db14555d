package fs

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// deletingPrefix marks a directory entry whose removal has started but may not have finished.
const deletingPrefix = ".deleting-"

func (localFileSystem) RemoveAll(path string) error {
	clean := filepath.Clean(path)
	if _, err := os.Lstat(clean); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return errors.Wrapf(err, "stat %s", clean)
	}
	dir, base := filepath.Split(clean)
	if dir == "" {
		dir = "."
	}
	if strings.HasPrefix(base, deletingPrefix) {
		// Already marked: just finish the job.
		return removeTree(clean)
	}
	marked := filepath.Join(dir, deletingPrefix+base)
	// A leftover from an earlier crash would make the rename fail on a non-empty directory.
	if err := removeTree(marked); err != nil {
		return err
	}
	if err := os.Rename(clean, marked); err != nil {
		return errors.Wrapf(err, "rename %s to %s", clean, marked)
	}
	// Once the rename is durable, the original name is gone for good even if the removal below is cut short.
	if err := syncDir(dir); err != nil {
		return err
	}
	return removeTree(marked)
}

func (localFileSystem) CleanDeleting(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return errors.Wrapf(err, "read dir %s", dir)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), deletingPrefix) {
			if err := removeTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func removeTree(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return errors.Wrapf(err, "remove %s", path)
	}
	return nil
}
