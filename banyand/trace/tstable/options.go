// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"github.com/cockroachdb/pebble/vfs"
	"github.com/rs/zerolog"
)

// Options configure a Table. Start from DefaultOptions: the zero value is not
// the default (Sync would be off and MemTableSize 0 is invalid).
type Options struct {
	// Sync makes every Write fsync the write-ahead log before it returns, so
	// that an acknowledged write survives a power loss.
	//
	// With Sync false a Write still returns only after its batch has been
	// written to the WAL file with write(2): it survives the process being
	// killed (kill -9, OOM) but not a crash of the machine. Pebble's own
	// NoSync mode is not used for that, because it may return while the
	// batch is only in Pebble's in-process WAL buffer, which a killed process
	// loses. Instead every commit waits for the WAL write, as a synced commit
	// does, and the fsync of the table's WAL files is made a no-op.
	//
	// The default value is true.
	Sync bool
	// FlushTimeout is the longest time written data stays only in memtables
	// (and the WAL) before a flush writes it to an sstable. 0 disables the
	// timer: memtables are then flushed only when full, on Flush and on Close.
	//
	// The default value is 1s (the trace service's --trace-flush-timeout).
	FlushTimeout time.Duration
	// CacheSize is the size in bytes of the block cache the table creates for
	// itself. It is ignored when Cache is set.
	//
	// The default value is 8 MiB.
	CacheSize int64
	// Cache, when set, is a block cache shared with other tables. The caller
	// keeps its own reference and releases it (Unref) after it is done with
	// every table using it; the table holds a reference while it is open.
	//
	// The default value is nil.
	Cache *pebble.Cache
	// MaxFanOutSize caps the size in bytes of the sstables written by
	// compactions (Pebble's per-level TargetFileSize, which otherwise
	// doubles per level from 2 MiB at L0). 0 keeps Pebble's sizes.
	//
	// The default value is 0.
	MaxFanOutSize int64
	// MemTableSize is the size in bytes of one memtable. At most four exist
	// at a time (one being written, up to three queued or being flushed).
	//
	// The default value is 8 MiB.
	MemTableSize uint64
	// Logger receives Pebble's messages and background errors. nil discards
	// them.
	//
	// The default value is nil.
	Logger *zerolog.Logger
}

// Defaults of Options.
const (
	DefaultFlushTimeout = time.Second
	DefaultCacheSize    = 8 << 20
	DefaultMemTableSize = 8 << 20
)

// DefaultOptions returns the default Options.
func DefaultOptions() Options {
	return Options{
		Sync:         true,
		FlushTimeout: DefaultFlushTimeout,
		CacheSize:    DefaultCacheSize,
		MemTableSize: DefaultMemTableSize,
	}
}

// Validate reports every invalid field at once. Errors wrap ErrInvalidOptions.
func (o Options) Validate() error {
	var errs []error
	if o.FlushTimeout < 0 {
		errs = append(errs, fmt.Errorf("FlushTimeout %v is negative", o.FlushTimeout))
	}
	if o.Cache == nil && o.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("CacheSize %d is negative", o.CacheSize))
	}
	if o.MaxFanOutSize < 0 {
		errs = append(errs, fmt.Errorf("MaxFanOutSize %d is negative", o.MaxFanOutSize))
	}
	// Pebble keeps memtable offsets in uint32.
	if o.MemTableSize < minMemTableSize || o.MemTableSize > maxMemTableSize {
		errs = append(errs, fmt.Errorf("MemTableSize %d is not in [%d, %d]", o.MemTableSize, minMemTableSize, maxMemTableSize))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidOptions, errors.Join(errs...))
}

const (
	minMemTableSize = 64 << 10
	maxMemTableSize = 4 << 30
)

// Storage tuning that is not an option. See docs/storage-layout.md.
const (
	// blockSize is the uncompressed size of an sstable data block. Bigger
	// blocks give Snappy more repeats to find in index entries (tag values,
	// close sort keys). Measured with BenchmarkWrite, index bytes per span
	// (two rules): 68 at Pebble's default 4 KiB, 42 at 16 KiB, 37 at 32 KiB,
	// with less CPU per span as blocks grow. A scan or a trace lookup reads
	// one 32 KiB block more or less, which costs little.
	blockSize = 32 << 10
	// bloomBitsPerKey sizes the bloom filters on trace-ID prefixes: ~1% false
	// positives.
	bloomBitsPerKey = 10
	// numLevels is Pebble's fixed number of LSM levels.
	numLevels = 7
	// l0TargetFileSize is Pebble's default L0 TargetFileSize; each level
	// below doubles it.
	l0TargetFileSize = 2 << 20
)

// pebbleOptions builds Pebble's options. cache is the block cache to use.
func (o Options) pebbleOptions(dir string, cache *pebble.Cache, log zerolog.Logger) *pebble.Options {
	po := &pebble.Options{
		Cache:              cache,
		Comparer:           tableComparer,
		FormatMajorVersion: pebble.FormatPrePebblev1MarkedCompacted,
		MemTableSize:       o.MemTableSize,
		// Up to four memtables: one taking writes while up to three wait for
		// or go through a flush. With two (one writing, one flushing), every
		// flush slower than filling a memtable stalled writes: measured with
		// `make bench`, 8 MiB x 4 more than doubled the spans/s of 4 MiB x 2
		// (16k -> 38k) for at most 32 MiB per table being written.
		MemTableStopWritesThreshold: 4,
		// Records are keyed by trace id, so every flushed file spans the whole
		// key range and each L0 -> Lbase compaction rewrites much of Lbase.
		// Letting L0 gather more files and Lbase grow larger before merging
		// cuts that rewriting: server CPU for the bench workload's 200,000
		// spans fell from 8.8-9.8 s to 6.6-7.2 s (3 runs each). Lookups by
		// trace id stay cheap through the bloom filters on L0 files.
		L0CompactionThreshold: 8,
		L0StopWritesThreshold: 24,
		LBaseMaxBytes:         256 << 20,
		Logger:                pebbleLogger{log},
		Cleaner:               newWALDeleteCleaner(pebble.DeleteCleaner{}.Clean),
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) {
				log.Error().Err(err).Str("dir", dir).Msg("tstable: pebble background error")
			},
			WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
				log.Warn().Str("dir", dir).Str("reason", info.Reason).Msg("tstable: write stall")
			},
		},
	}
	po.Levels = make([]pebble.LevelOptions, numLevels)
	for i := range po.Levels {
		target := int64(l0TargetFileSize) << i
		if o.MaxFanOutSize > 0 && target > o.MaxFanOutSize {
			target = o.MaxFanOutSize
		}
		po.Levels[i] = pebble.LevelOptions{
			BlockSize:      blockSize,
			IndexBlockSize: blockSize,
			Compression:    pebble.SnappyCompression,
			FilterPolicy:   bloom.FilterPolicy(bloomBitsPerKey),
			FilterType:     pebble.TableFilter,
			TargetFileSize: target,
		}
	}
	if o.Sync {
		po.FS = vfs.Default
	} else {
		po.FS = walNoSyncFS{FS: vfs.Default, dir: filepath.Clean(dir)}
	}
	return po
}

// walNoSyncFS makes the fsyncs of the WAL files of one directory no-ops, and
// changes nothing else (sstables, manifests, and files written elsewhere,
// such as checkpoints, are synced as usual).
//
// It implements Options.Sync == false: the table commits every batch with
// pebble.Sync, so a commit returns only after Pebble's WAL writer has passed
// the batch to write(2) and then "synced" the file, which this FS turns into
// nothing. The batch is in the kernel's page cache when Write returns.
type walNoSyncFS struct {
	vfs.FS
	dir string
}

func (fs walNoSyncFS) isWAL(name string) bool {
	return filepath.Ext(name) == ".log" && filepath.Dir(filepath.Clean(name)) == fs.dir
}

func (fs walNoSyncFS) Create(name string) (vfs.File, error) {
	f, err := fs.FS.Create(name)
	if err != nil || !fs.isWAL(name) {
		return f, err
	}
	return walNoSyncFile{f}, nil
}

func (fs walNoSyncFS) ReuseForWrite(oldname, newname string) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname)
	if err != nil || !fs.isWAL(newname) {
		return f, err
	}
	return walNoSyncFile{f}, nil
}

type walNoSyncFile struct{ vfs.File }

func (walNoSyncFile) Sync() error                { return nil }
func (walNoSyncFile) SyncData() error            { return nil }
func (walNoSyncFile) SyncTo(int64) (bool, error) { return false, nil }

// walDeleteCleaner deletes obsolete files, as Pebble's default cleaner does,
// and also stops Pebble from keeping obsolete WAL files for reuse.
//
// Pebble v1.1 keeps up to three obsolete WAL files (each about MemTableSize
// and preallocated) to reuse them as new WALs, and offers no option to turn
// that off; it only skips it for cleaners that need the files' contents,
// which it recognizes by an unexported marker method. Embedding
// pebble.ArchiveCleaner carries that marker. Those kept files would cost
// every table ~13 MiB on disk, more than the data of a small table; a fresh
// WAL costs little (its first fsyncs also update file metadata).
// TestNoWALRecycling fails if a Pebble upgrade changes this.
//
// The type parameter is Pebble's internal FileType, which cannot be named
// outside Pebble: newWALDeleteCleaner infers it from DeleteCleaner's Clean.
type walDeleteCleaner[F any] struct {
	pebble.ArchiveCleaner
	remove func(vfs.FS, F, string) error
}

func newWALDeleteCleaner[F any](remove func(vfs.FS, F, string) error) walDeleteCleaner[F] {
	return walDeleteCleaner[F]{remove: remove}
}

// Clean removes the file (it does not archive it).
func (c walDeleteCleaner[F]) Clean(fs vfs.FS, fileType F, path string) error {
	return c.remove(fs, fileType, path)
}

func (walDeleteCleaner[F]) String() string { return "delete" }

// pebbleLogger adapts a zerolog.Logger to Pebble's Logger.
type pebbleLogger struct{ l zerolog.Logger }

func (p pebbleLogger) Infof(format string, args ...interface{}) {
	p.l.Info().Msgf(format, args...)
}

// Fatalf is called by Pebble for states it cannot continue from; it must not
// return.
func (p pebbleLogger) Fatalf(format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error().Msg(msg)
	fmt.Fprintln(os.Stderr, "tstable: pebble fatal:", msg)
	panic("tstable: pebble fatal: " + msg)
}
