// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package storage

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// ErrUnsafeLocation is returned when a path the TSDB would open or delete is not the directory
// it must be: a group name that is not one plain directory entry, or a location to drop that
// holds entries no TSDB writes.
var ErrUnsafeLocation = errors.New("storage: unsafe location")

// GroupLocation returns the directory of a group's TSDB, root/group, after checking that group is
// one plain directory entry: not empty, not "." or "..", without '/', '\' or NUL, and not
// starting with the ".deleting-" or ".creating-" prefixes of entries being removed or built.
// Whatever the name, the result is never root itself nor outside it. Errors wrap ErrUnsafeLocation.
//
// The registry refuses such names before they are stored; this check keeps storage safe from a
// name that reached it some other way (an old metadata store, a bug).
func GroupLocation(root, group string) (string, error) {
	if group == "" || group == "." || group == ".." || strings.ContainsAny(group, "/\\\x00") || isLeftover(group) {
		return "", errors.Wrapf(ErrUnsafeLocation, "group name %q is not a plain directory name", group)
	}
	if root == "" {
		return "", errors.Wrapf(ErrUnsafeLocation, "empty root for group %q", group)
	}
	cleanRoot := filepath.Clean(root)
	loc := filepath.Join(cleanRoot, group)
	if filepath.Dir(loc) != cleanRoot || filepath.Base(loc) != group {
		return "", errors.Wrapf(ErrUnsafeLocation, "group %q does not map to a directory directly under %s", group, cleanRoot)
	}
	return loc, nil
}

// checkDroppable reports an error wrapping ErrUnsafeLocation unless every entry of location is
// one a TSDB writes there (its lock file, segment directories, debris of interrupted creations
// and deletions). Drop calls it before it deletes the location, so that a TSDB opened on a
// directory holding other data (another group's directory, a snapshot) never deletes that data.
func checkDroppable(location string) error {
	entries, err := os.ReadDir(location)
	if err != nil {
		return errors.Wrapf(err, "read tsdb location %s before dropping it", location)
	}
	for _, e := range entries {
		name := e.Name()
		if name == lockFileName || isLeftover(name) {
			continue
		}
		if _, err := parseSegmentName(name); err == nil && e.IsDir() {
			continue
		}
		return errors.Wrapf(ErrUnsafeLocation, "refusing to delete %s: it holds %q, which is not part of a tsdb", location, name)
	}
	return nil
}
