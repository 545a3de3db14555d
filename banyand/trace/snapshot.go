// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"

	"github.com/apache/skywalking-banyandb/banyand/internal/storage"

	"github.com/apache/skywalking-banyandb/pkg/fs"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// snapshotter takes consistent copies of the trace data while writes go on: one checkpoint per
// table, laid out like the data directory (<group>/seg-<start>/shard-<n>) under
// <snapshots>/<time>/. A snapshot is written under a temporary name (.tmp-<time>) and renamed
// when complete, so a failed or interrupted one never counts as a snapshot. It keeps the newest
// maxFileSnapshotNum snapshots and removes older ones.
type snapshotter struct {
	repo *schemaRepo
	lfs  fs.FileSystem
	l    *logger.Logger
	dir  string
	max  int
	mu   sync.Mutex
}

func newSnapshotter(repo *schemaRepo, dir string, max int, lfs fs.FileSystem, l *logger.Logger) *snapshotter {
	return &snapshotter{repo: repo, dir: dir, max: max, lfs: lfs, l: l}
}

// take writes a new snapshot and returns its directory.
func (s *snapshotter) take(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := time.Now().UTC().Format("20060102T150405.000000000Z")
	root := filepath.Join(s.dir, name)
	tmp := filepath.Join(s.dir, tmpSnapshotPrefix+name)
	if err := s.write(ctx, tmp); err != nil {
		if rmErr := s.lfs.RemoveAll(tmp); rmErr != nil {
			s.l.Warn().Err(rmErr).Str("dir", tmp).Msg("failed to remove a partial snapshot")
		}
		return "", err
	}
	if err := s.lfs.Rename(tmp, root); err != nil {
		return "", errors.Wrapf(err, "complete snapshot %s", root)
	}
	s.prune()
	s.l.Info().Str("dir", root).Msg("trace snapshot taken")
	return root, nil
}

// tmpSnapshotPrefix names a snapshot being written.
const tmpSnapshotPrefix = ".tmp-"

// write checkpoints every open table under root.
func (s *snapshotter) write(ctx context.Context, root string) error {
	for _, g := range s.repo.Groups() {
		h, ok := g.SupplyTSDB().(*tsdbHolder)
		if !ok || h == nil {
			continue
		}
		groupDir, err := storage.GroupLocation(root, h.group)
		if err != nil {
			return errors.Wrap(err, "snapshot")
		}
		// Each segment is released once copied, so that idle ones may close while the rest are.
		segs := heldSegments(h.db.Segments())
		err = func() error {
			defer segs.releaseAll()
			for i, seg := range segs {
				for shard := uint32(0); shard < seg.ShardNum(); shard++ {
					table, ok, err := seg.OpenedTable(storage.ShardID(shard))
					if err != nil {
						return errors.Wrapf(err, "open shard %d of %s", shard, seg.Dir())
					}
					if !ok {
						continue
					}
					if err := ctx.Err(); err != nil {
						return err
					}
					dst := filepath.Join(groupDir, filepath.Base(seg.Dir()), fmt.Sprintf("shard-%d", shard))
					if err := table.Checkpoint(dst); err != nil {
						return errors.Wrapf(err, "checkpoint %s", dst)
					}
				}
				segs.release(i)
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	// A node without data still gets an (empty) snapshot directory.
	if err := s.lfs.MkdirIfNotExist(root, 0o755); err != nil {
		return errors.Wrapf(err, "create snapshot %s", root)
	}
	return nil
}

// prune removes the oldest snapshots beyond the configured number, and the partial snapshots an
// interrupted process left behind (take holds the lock, so none is being written).
func (s *snapshotter) prune() {
	entries, err := s.lfs.ReadDir(s.dir)
	if err != nil {
		s.l.Warn().Err(err).Msg("failed to list snapshots")
		return
	}
	var names []string
	for _, e := range entries {
		switch {
		case !e.IsDir():
		case strings.HasPrefix(e.Name(), tmpSnapshotPrefix):
			if err := s.lfs.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
				s.l.Warn().Err(err).Str("snapshot", e.Name()).Msg("failed to remove a partial snapshot")
			}
		case !strings.HasPrefix(e.Name(), "."):
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for len(names) > s.max {
		if err := s.lfs.RemoveAll(filepath.Join(s.dir, names[0])); err != nil {
			s.l.Warn().Err(err).Str("snapshot", names[0]).Msg("failed to remove an old snapshot")
		}
		names = names[1:]
	}
}
