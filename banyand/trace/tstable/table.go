// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// Sentinel errors. Returned errors wrap them; test with errors.Is.
var (
	// ErrClosed is returned by every operation on a closed Table.
	ErrClosed = errors.New("tstable: table closed")
	// ErrNotFound is returned by GetSpan when the referenced span does not exist.
	ErrNotFound = errors.New("tstable: not found")
	// ErrCorrupted is returned when stored bytes cannot be decoded.
	ErrCorrupted = errors.New("tstable: corrupted data")
	// ErrInvalidArgument is returned by Write for spans or options it cannot store.
	ErrInvalidArgument = errors.New("tstable: invalid argument")
	// ErrInvalidOptions is returned by Open for invalid Options.
	ErrInvalidOptions = errors.New("tstable: invalid options")
	// ErrIncompatible is returned by Open for a directory written in a format
	// this version cannot read.
	ErrIncompatible = errors.New("tstable: incompatible format")
)

// formatVersion is stored under metaKeyFormat. Bump it for any change of the
// layout in docs/storage-layout.md that old readers cannot read. Format 2
// added the tag type tagStrEmpty; a format 1 table is upgraded when opened
// (its data reads as before; an older binary then refuses the table rather
// than misreading it).
const formatVersion = 2

// minFormatVersion is the oldest format this version reads.
const minFormatVersion = 1

// seqLease is how many record sequence numbers one persisted ceiling covers.
// See allocSeq.
const seqLease = 1 << 20

// Record cuts: one Write stores a trace's spans in as few records as these
// limits allow. maxRecordSpans keeps the span index in an index key within
// its uint16; maxRecordPayload keeps a record (which readers decompress
// whole) small.
const (
	maxRecordSpans   = 4096
	maxRecordPayload = 1 << 20
)

// Span is a span to write.
type Span struct {
	// TraceID is the trace the span belongs to: 1 to MaxTraceIDLen bytes.
	TraceID string
	// SpanID identifies the span in its trace. It is stored, not checked.
	SpanID string
	// Timestamp is the span's time in unix nanoseconds.
	Timestamp int64
	// Tags are the span's tag values in the trace schema's order at write
	// time. A nil entry is a null value.
	Tags []*modelv1.TagValue
	// Payload is the opaque span, returned verbatim.
	Payload []byte
}

// StoredSpan is a span read back from a table.
//
// Tags has the length it was written with: a span written under an older,
// shorter schema has fewer tags, and the caller reads missing positions as
// null. Every TagValue variant reads back as written, with two
// normalizations: a Str, StrArray, Int, IntArray or Timestamp case whose
// message pointer was nil reads back as the empty message, and an empty
// StrArray, IntArray or BinaryData reads back empty but not nil.
//
// The strings and the Payload of the spans of one record share one buffer:
// the payload may be modified, but not appended to beyond its length.
type StoredSpan struct {
	TraceID   string
	SpanID    string
	Timestamp int64
	Tags      []*modelv1.TagValue
	Payload   []byte
}

// IndexRule tells Write how to index spans under one index rule.
type IndexRule struct {
	// ID is the stable ID of the rule (the rule's metadata ID).
	ID uint32
	// SortTagPos is the position in Span.Tags of the rule's last tag, whose
	// value is the sort key: an Int's value or a Timestamp in unix
	// nanoseconds. A span whose value there is missing, null or of another
	// type is not indexed under the rule.
	SortTagPos int
	// Prefixed partitions the rule's entries by the value of the STRING tag
	// at PrefixTagPos: the entry of a span whose value there is v is stored
	// in v's partition of the rule (v is "" when the span has no string
	// there) instead of the rule's own entries, and v is recorded in the
	// rule's prefix list (Prefixes). A scan with IterOptions.Prefixed reads
	// one partition; a query with "tag = v" reads only v's, one without
	// merges the scans of every listed prefix. Values whose hashes collide
	// share a partition, so a scan of v may meet another value's entries:
	// the caller filters on the prefix tag, which it indexes.
	Prefixed     bool
	PrefixTagPos int
}

// WriteOptions are the per-Write indexing instructions.
type WriteOptions struct {
	// Rules are the index rules to index every span under.
	Rules []IndexRule
	// IndexedTags are tag positions whose values are copied into every index
	// entry, so that filters need no record read. Positions beyond a span's
	// tags are skipped for that span.
	IndexedTags []int
}

// SpanRef locates a span: its record and its index in the record.
type SpanRef struct {
	TraceID string
	Seq     uint64
	Span    uint16
}

// Table is the trace table of one (segment, shard): one Pebble store in one
// directory. All methods are safe for concurrent use.
type Table struct {
	db   *pebble.DB
	dir  string
	log  zerolog.Logger
	opts Options

	// seq hands out record sequence numbers. Numbers below ceiling may have
	// been used; ceiling is persisted before any number at or above the
	// persisted value is handed out.
	seq struct {
		sync.Mutex
		next, ceiling uint64
	}

	// dirtySince is the unix-nano time of the oldest write not yet covered
	// by a flush the flusher started, or 0.
	dirtySince atomic.Int64

	// refs counts running operations and open iterators. Close waits for
	// it to drop to zero before it closes Pebble: Pebble must not be used
	// after its Close, and the caller may delete the directory as soon as
	// Close returns.
	refs struct {
		sync.Mutex
		n       int
		closed  bool
		drained chan struct{}
	}

	flusherStop chan struct{}
	flusherDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Open opens the table in dir, creating it if needed. On error nothing stays
// open.
func Open(dir string, opts Options) (_ *Table, err error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	log := zerolog.Nop()
	if opts.Logger != nil {
		log = *opts.Logger
	}
	cache := opts.Cache
	if cache == nil {
		cache = pebble.NewCache(opts.CacheSize)
		// Pebble takes its own reference on Open; ours goes either way.
		defer cache.Unref()
	}
	db, err := pebble.Open(dir, opts.pebbleOptions(dir, cache, log))
	if err != nil {
		return nil, fmt.Errorf("tstable: open %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()
	t := &Table{db: db, dir: filepath.Clean(dir), log: log, opts: opts}
	t.refs.drained = make(chan struct{})
	if err := t.loadMeta(); err != nil {
		return nil, fmt.Errorf("tstable: open %s: %w", dir, err)
	}
	if opts.FlushTimeout > 0 {
		t.flusherStop = make(chan struct{})
		t.flusherDone = make(chan struct{})
		go t.runFlusher()
	}
	return t, nil
}

// loadMeta checks the format version, writing it into a new table, and
// loads the sequence ceiling.
func (t *Table) loadMeta() error {
	v, closer, err := t.db.Get(metaKeyFormat)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if err := t.db.Set(metaKeyFormat, []byte{formatVersion}, pebble.Sync); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		ok := len(v) == 1 && v[0] >= minFormatVersion && v[0] <= formatVersion
		got := append([]byte(nil), v...)
		_ = closer.Close()
		if !ok {
			return fmt.Errorf("%w: format %x, want %d to %d", ErrIncompatible, got, minFormatVersion, formatVersion)
		}
		if got[0] != formatVersion {
			if err := t.db.Set(metaKeyFormat, []byte{formatVersion}, pebble.Sync); err != nil {
				return err
			}
			t.log.Info().Str("dir", t.dir).Uint8("from", got[0]).Uint8("to", formatVersion).Msg("table format upgraded")
		}
	}
	v, closer, err = t.db.Get(metaKeySeq)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return err
	default:
		ok := len(v) == 8
		if ok {
			t.seq.ceiling = binary.BigEndian.Uint64(v)
		}
		_ = closer.Close()
		if !ok {
			return fmt.Errorf("%w: sequence ceiling of %d bytes", ErrCorrupted, len(v))
		}
	}
	t.seq.next = t.seq.ceiling
	return nil
}

// Close stops the flush timer, waits for running operations and for every
// open IndexIterator to be closed, and closes the store. Memtables are
// flushed on the way. Calling Close again returns the first call's result.
func (t *Table) Close() error {
	t.closeOnce.Do(func() {
		t.refs.Lock()
		t.refs.closed = true
		if t.refs.n == 0 {
			close(t.refs.drained)
		}
		t.refs.Unlock()
		if t.flusherStop != nil {
			close(t.flusherStop)
			<-t.flusherDone
		}
		<-t.refs.drained
		// Flush first so that reopening does not replay the WAL; a failure
		// loses nothing (the WAL has it) and Close reports it.
		t.closeErr = errors.Join(t.flushIfDirty(), t.db.Close())
	})
	return t.closeErr
}

func (t *Table) flushIfDirty() error {
	if t.dirtySince.Load() == 0 {
		return nil
	}
	return t.db.Flush()
}

// acquire registers a running operation; release ends it.
func (t *Table) acquire() error {
	t.refs.Lock()
	defer t.refs.Unlock()
	if t.refs.closed {
		return ErrClosed
	}
	t.refs.n++
	return nil
}

func (t *Table) release() {
	t.refs.Lock()
	defer t.refs.Unlock()
	t.refs.n--
	if t.refs.n < 0 {
		panic("BUG: tstable: negative reference count")
	}
	if t.refs.n == 0 && t.refs.closed {
		close(t.refs.drained)
	}
}

// runFlusher flushes memtables holding writes older than FlushTimeout. It
// ticks four times per timeout and flushes when the oldest write would be
// older than the timeout at the next tick, so no write waits much longer
// than FlushTimeout.
func (t *Table) runFlusher() {
	defer close(t.flusherDone)
	interval := t.opts.FlushTimeout / 4
	if interval < time.Millisecond {
		interval = time.Millisecond
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-t.flusherStop:
			return
		case now := <-ticker.C:
			since := t.dirtySince.Load()
			if since == 0 || now.UnixNano()-since+int64(interval) < int64(t.opts.FlushTimeout) {
				continue
			}
			// Clear before flushing: a write that lands during the flush
			// sets it again, and is flushed now or on a later tick.
			t.dirtySince.Store(0)
			if err := t.db.Flush(); err != nil {
				t.dirtySince.CompareAndSwap(0, since)
				t.log.Error().Err(err).Str("dir", t.dir).Msg("tstable: timed flush")
			}
		}
	}
}

// markDirty records that a write has been committed.
func (t *Table) markDirty() {
	if t.dirtySince.Load() == 0 {
		t.dirtySince.CompareAndSwap(0, time.Now().UnixNano())
	}
}

// allocSeq reserves n consecutive record sequence numbers and returns the
// first.
//
// Sequence numbers must never repeat, even across restarts, yet concurrent
// Writes commit in any order, so a counter written in each Write's batch
// could go backwards on disk. Instead a ceiling is persisted ahead of use:
// before handing out a number at or above the persisted ceiling, allocSeq
// commits a new ceiling seqLease numbers higher (under the lock, so nobody
// uses the new numbers before it is in the WAL). The WAL replays in commit
// order, so any record that survives a crash has its ceiling survive too,
// and a reopened table starts at the ceiling. A restart skips the unused
// rest of a lease: at most 2^20 numbers of 2^64.
func (t *Table) allocSeq(n uint64) (uint64, error) {
	t.seq.Lock()
	defer t.seq.Unlock()
	if t.seq.next+n > t.seq.ceiling {
		ceiling := t.seq.next + n + seqLease
		if err := t.db.Set(metaKeySeq, binary.BigEndian.AppendUint64(nil, ceiling), pebble.Sync); err != nil {
			return 0, fmt.Errorf("tstable: persist sequence: %w", err)
		}
		t.seq.ceiling = ceiling
	}
	first := t.seq.next
	t.seq.next += n
	return first, nil
}

// writeScratch holds the buffers of one Write, reused across Writes.
type writeScratch struct {
	order []int32 // span indexes grouped by trace ID, write order within a trace
	cuts  []int   // end offsets in order of the records
	body  []byte
	space []byte
	// recs holds the batch's record keys and values back to back; recEnds the end of each
	// record's key and of its value.
	recs    []byte
	recEnds [][2]int
	// ikeys and ivals hold the batch's index keys and values; ients locate each entry in them.
	ikeys []byte
	ivals []byte
	ients []indexEntryRef
	// prefixes are the (rule, prefix) pairs whose list key this batch already sets.
	prefixes map[prefixKey]struct{}
}

var writeScratchPool = sync.Pool{New: func() any { return &writeScratch{prefixes: make(map[prefixKey]struct{})} }}

// maxPooledScratch is the largest buffer a writeScratch may keep in the
// pool: a rare huge record should not pin its buffers forever.
const maxPooledScratch = 4 << 20

func putWriteScratch(s *writeScratch) {
	if cap(s.body) > maxPooledScratch || cap(s.order) > maxPooledScratch/4 ||
		cap(s.recs) > 4*maxPooledScratch || cap(s.ikeys) > 4*maxPooledScratch || cap(s.ivals) > 4*maxPooledScratch {
		return
	}
	writeScratchPool.Put(s)
}

// Write stores spans in one atomic batch: one record per trace (more for
// very large traces) holding that trace's spans of this call, and one index
// entry per span and rule under which the span has a sort key. When Write
// returns nil the batch is in the write-ahead log (see Options.Sync).
// Errors wrap ErrInvalidArgument for spans or options that cannot be
// stored (nothing is written then) and ErrClosed after Close.
func (t *Table) Write(spans []Span, wo WriteOptions) error {
	if len(spans) == 0 {
		return nil
	}
	if err := validateWrite(spans, wo); err != nil {
		return err
	}
	if err := t.acquire(); err != nil {
		return err
	}
	defer t.release()

	s := writeScratchPool.Get().(*writeScratch)
	defer putWriteScratch(s)
	s.order = s.order[:0]
	for i := range spans {
		s.order = append(s.order, int32(i))
	}
	// In record-key order (trace ID length, then bytes), so that the batch reaches the memtable
	// sorted (see below).
	slices.SortStableFunc(s.order, func(a, b int32) int {
		if la, lb := len(spans[a].TraceID), len(spans[b].TraceID); la != lb {
			return la - lb
		}
		return strings.Compare(spans[a].TraceID, spans[b].TraceID)
	})
	s.cuts = s.cuts[:0]
	for start := 0; start < len(s.order); {
		traceID := spans[s.order[start]].TraceID
		end, payload := start, 0
		for end < len(s.order) && end-start < maxRecordSpans && payload < maxRecordPayload {
			sp := &spans[s.order[end]]
			if sp.TraceID != traceID {
				break
			}
			payload += len(sp.Payload)
			end++
		}
		s.cuts = append(s.cuts, end)
		start = end
	}
	seq, err := t.allocSeq(uint64(len(s.cuts)))
	if err != nil {
		return err
	}

	// The batch is applied to the memtable in batch order, and Pebble's skiplist inserts sorted
	// keys far cheaper than scattered ones (each insert starts from the previous one's place):
	// so the batch holds the prefix-list keys, then the records (in key order), then the index
	// entries sorted by key. Measured: memtable inserts were ~15% of the server's write CPU.
	b := t.db.NewBatch()
	defer b.Close()
	clear(s.prefixes)
	s.ikeys, s.ivals, s.ients = s.ikeys[:0], s.ivals[:0], s.ients[:0]
	s.recs, s.recEnds = s.recs[:0], s.recEnds[:0]
	var listKeys [][]byte
	start := 0
	for _, end := range s.cuts {
		group := s.order[start:end]
		start = end
		traceID := spans[group[0]].TraceID
		s.body = appendRecordBody(s.body[:0], traceID, spans, group)
		s.recs = appendRecordKey(s.recs, traceID, seq)
		keyEnd := len(s.recs)
		s.recs = appendRecordValue(s.recs, s.body)
		s.recEnds = append(s.recEnds, [2]int{keyEnd, len(s.recs)})
		for j, i := range group {
			sp := &spans[i]
			for _, r := range wo.Rules {
				if r.SortTagPos >= len(sp.Tags) {
					continue
				}
				sk, ok := sortKeyOf(sp.Tags[r.SortTagPos])
				if !ok {
					continue
				}
				if r.Prefixed {
					var prefix string
					if r.PrefixTagPos < len(sp.Tags) {
						prefix = sp.Tags[r.PrefixTagPos].GetStr().GetValue()
					}
					s.space = appendPrefixedIndexSpace(s.space[:0], r.ID, prefix)
					if _, listed := s.prefixes[prefixKey{rule: r.ID, prefix: prefix}]; !listed {
						s.prefixes[prefixKey{rule: r.ID, prefix: prefix}] = struct{}{}
						listKeys = append(listKeys, appendPrefixListKey(nil, r.ID, prefix))
					}
				} else {
					s.space = appendIndexSpace(s.space[:0], r.ID)
				}
				e := indexEntryRef{kStart: len(s.ikeys), vStart: len(s.ivals)}
				s.ikeys = appendIndexKeyIn(s.ikeys, s.space, sk, traceID, seq, uint16(j))
				s.ivals = appendIndexValue(s.ivals, sp, sk, wo.IndexedTags)
				e.kEnd, e.vEnd = len(s.ikeys), len(s.ivals)
				s.ients = append(s.ients, e)
			}
		}
		seq++
	}
	slices.SortFunc(listKeys, bytes.Compare)
	for _, k := range listKeys {
		if err := b.Set(k, nil, nil); err != nil {
			return err
		}
	}
	recStart := 0
	for _, re := range s.recEnds {
		if err := b.Set(s.recs[recStart:re[0]], s.recs[re[0]:re[1]], nil); err != nil {
			return err
		}
		recStart = re[1]
	}
	slices.SortFunc(s.ients, func(x, y indexEntryRef) int {
		return bytes.Compare(s.ikeys[x.kStart:x.kEnd], s.ikeys[y.kStart:y.kEnd])
	})
	for _, e := range s.ients {
		if err := b.Set(s.ikeys[e.kStart:e.kEnd], s.ivals[e.vStart:e.vEnd], nil); err != nil {
			return err
		}
	}
	// Always a synced commit: with Options.Sync false the WAL's fsync is a
	// no-op (walNoSyncFS) and this waits only for the WAL write.
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("tstable: commit: %w", err)
	}
	t.markDirty()
	return nil
}

func validateWrite(spans []Span, wo WriteOptions) error {
	for i := range spans {
		if n := len(spans[i].TraceID); n == 0 || n > MaxTraceIDLen {
			return fmt.Errorf("%w: span %d: trace ID of %d bytes, want 1 to %d", ErrInvalidArgument, i, n, MaxTraceIDLen)
		}
	}
	for _, r := range wo.Rules {
		if r.SortTagPos < 0 {
			return fmt.Errorf("%w: rule %d: negative sort tag position %d", ErrInvalidArgument, r.ID, r.SortTagPos)
		}
		if r.Prefixed && r.PrefixTagPos < 0 {
			return fmt.Errorf("%w: rule %d: negative prefix tag position %d", ErrInvalidArgument, r.ID, r.PrefixTagPos)
		}
	}
	for _, p := range wo.IndexedTags {
		if p < 0 || p >= maxTagPos {
			return fmt.Errorf("%w: indexed tag position %d not in [0, %d)", ErrInvalidArgument, p, maxTagPos)
		}
	}
	return nil
}

// GetTraces returns every stored span of the given traces, by trace ID.
// A trace without spans in the table has no entry. The spans of a trace come
// in write order: by Write call (records in sequence order), then by their
// order in the call.
func (t *Table) GetTraces(traceIDs []string) (map[string][]StoredSpan, error) {
	out := make(map[string][]StoredSpan, len(traceIDs))
	err := t.EachTrace(traceIDs, func(id string, spans []StoredSpan) error {
		out[id] = spans
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EachTrace reads the given traces one at a time and calls fn with the spans
// of each trace that has spans in the table, in the order of GetTraces, so
// that a caller can account for (or refuse) each trace before the next one is
// read. An ID listed twice is read once. An error from fn stops the read and
// is returned as is.
func (t *Table) EachTrace(traceIDs []string, fn func(traceID string, spans []StoredSpan) error) error {
	if err := t.acquire(); err != nil {
		return err
	}
	defer t.release()
	iter, err := t.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte{kindRecord},
		UpperBound: []byte{kindRecord + 1},
	})
	if err != nil {
		return err
	}
	defer iter.Close()

	done := make(map[string]struct{}, len(traceIDs))
	var prefix []byte
	for _, id := range traceIDs {
		if len(id) == 0 || len(id) > MaxTraceIDLen {
			continue
		}
		if _, dup := done[id]; dup {
			continue
		}
		done[id] = struct{}{}
		prefix = appendRecordPrefix(prefix[:0], id)
		var spans []StoredSpan
		// SeekPrefixGE consults the sstables' bloom filters, and the
		// iterator stays within the prefix.
		for ok := iter.SeekPrefixGE(prefix); ok; ok = iter.Next() {
			k := iter.Key()
			if !bytes.HasPrefix(k, prefix) {
				break
			}
			if len(k) != len(prefix)+recordSuffixLen {
				return fmt.Errorf("%w: record key %x", ErrCorrupted, k)
			}
			v, err := iter.ValueAndErr()
			if err != nil {
				return err
			}
			if spans, err = appendRecordSpans(spans, id, v); err != nil {
				return fmt.Errorf("trace %q: %w", id, err)
			}
		}
		if err := iter.Error(); err != nil {
			return err
		}
		if len(spans) > 0 {
			if err := fn(id, dropRepeatedSpans(spans)); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropRepeatedSpans keeps the first of spans that are the same span stored twice: the same span
// id, timestamp, tags and payload. A client that retries a write whose answers it never got (its
// stream broke while the batch was committing) stores those spans again; reads answer each once.
// Spans that differ in anything, such as the two halves of a Zipkin span that share an id, stay.
func dropRepeatedSpans(spans []StoredSpan) []StoredSpan {
	if len(spans) < 2 {
		return spans
	}
	// Candidates for a repeat share the span id and timestamp: small traces compare those
	// directly, large ones through a map, so that a trace of many spans costs linear time.
	type idTime struct {
		id string
		ts int64
	}
	var byIDTime map[idTime]int
	if len(spans) > smallTraceSpans {
		byIDTime = make(map[idTime]int, len(spans))
	}
	out := spans[:0]
	for i := range spans {
		sp := &spans[i]
		repeated := false
		if byIDTime == nil {
			repeated = repeatsOneOf(sp, out)
		} else {
			k := idTime{sp.SpanID, sp.Timestamp}
			if j, seen := byIDTime[k]; !seen {
				byIDTime[k] = len(out)
			} else {
				// Usually the first span of the key is the repeat; spans that share an id and
				// a time but differ (rare) are all compared.
				repeated = sameSpan(&out[j], sp) || repeatsOneOf(sp, out[j+1:])
			}
		}
		if !repeated {
			out = append(out, *sp)
		}
	}
	return out
}

// repeatsOneOf reports whether sp is one of kept stored again.
func repeatsOneOf(sp *StoredSpan, kept []StoredSpan) bool {
	for j := range kept {
		if sameSpan(&kept[j], sp) {
			return true
		}
	}
	return false
}

// smallTraceSpans is the most spans dropRepeatedSpans compares pairwise.
const smallTraceSpans = 32

// sameSpan reports whether a and b are one span stored twice.
func sameSpan(a, b *StoredSpan) bool {
	if a.Timestamp != b.Timestamp || a.SpanID != b.SpanID || len(a.Tags) != len(b.Tags) || !bytes.Equal(a.Payload, b.Payload) {
		return false
	}
	for t := range a.Tags {
		if !proto.Equal(a.Tags[t], b.Tags[t]) {
			return false
		}
	}
	return true
}

// appendRecordSpans decodes a record value and appends its spans.
func appendRecordSpans(dst []StoredSpan, traceID string, v []byte) ([]StoredSpan, error) {
	body, err := recordBody(v)
	if err != nil {
		return dst, err
	}
	r := newRecordReader(body, traceID, true)
	dst = slices.Grow(dst, r.left)
	for {
		var sp StoredSpan
		if !r.next(&sp) {
			break
		}
		dst = append(dst, sp)
	}
	return dst, r.err()
}

// GetSpan reads the span that ref locates. It returns an error wrapping
// ErrNotFound if there is no such span.
func (t *Table) GetSpan(ref SpanRef) (StoredSpan, error) {
	if err := t.acquire(); err != nil {
		return StoredSpan{}, err
	}
	defer t.release()
	if len(ref.TraceID) == 0 || len(ref.TraceID) > MaxTraceIDLen {
		return StoredSpan{}, fmt.Errorf("%w: span %+v", ErrNotFound, ref)
	}
	v, closer, err := t.db.Get(appendRecordKey(nil, ref.TraceID, ref.Seq))
	if errors.Is(err, pebble.ErrNotFound) {
		return StoredSpan{}, fmt.Errorf("%w: span %+v", ErrNotFound, ref)
	}
	if err != nil {
		return StoredSpan{}, err
	}
	body, err := recordBody(v)
	_ = closer.Close()
	if err != nil {
		return StoredSpan{}, err
	}
	r := newRecordReader(body, ref.TraceID, true)
	for i := 0; i < int(ref.Span); i++ {
		if !r.next(nil) {
			break
		}
	}
	var sp StoredSpan
	if r.next(&sp) {
		return sp, nil
	}
	if err := r.err(); err != nil {
		return StoredSpan{}, err
	}
	return StoredSpan{}, fmt.Errorf("%w: span %+v", ErrNotFound, ref)
}

// Flush writes the memtables to sstables and waits for it.
func (t *Table) Flush() error {
	if err := t.acquire(); err != nil {
		return err
	}
	defer t.release()
	t.dirtySince.Store(0)
	return t.db.Flush()
}

// Checkpoint writes a consistent copy of the table into dir, which must not
// exist, while writes go on. The copy holds every write acknowledged before
// the call; it opens with Open. Sstables are hard-linked when dir is on the
// same file system.
func (t *Table) Checkpoint(dir string) error {
	if err := t.acquire(); err != nil {
		return err
	}
	defer t.release()
	if err := t.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("tstable: checkpoint to %s: %w", dir, err)
	}
	return nil
}

// DiskSize returns the bytes the table takes on disk: sstables, WAL and
// manifest, including files not yet deleted. It returns 0 after Close.
func (t *Table) DiskSize() int64 {
	if t.acquire() != nil {
		return 0
	}
	defer t.release()
	return int64(t.db.Metrics().DiskSpaceUsage())
}

// indexEntryRef locates one index entry of a batch in writeScratch.ikeys/ivals.
type indexEntryRef struct {
	kStart, kEnd, vStart, vEnd int
}

// prefixKey is one (rule, prefix) pair of a prefix list.
type prefixKey struct {
	prefix string
	rule   uint32
}

// Prefixes returns the prefixes under which entries of the Prefixed rule
// ruleID were stored in this table, in byte order.
func (t *Table) Prefixes(ruleID uint32) ([]string, error) {
	if err := t.acquire(); err != nil {
		return nil, err
	}
	defer t.release()
	lower := appendPrefixListKey(nil, ruleID, "")
	it, err := t.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixSuccessor(append([]byte(nil), lower...))})
	if err != nil {
		return nil, fmt.Errorf("tstable: prefixes of rule %d: %w", ruleID, err)
	}
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, string(it.Key()[len(lower):]))
	}
	if err := it.Error(); err != nil {
		_ = it.Close()
		return nil, fmt.Errorf("tstable: prefixes of rule %d: %w", ruleID, err)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("tstable: prefixes of rule %d: %w", ruleID, err)
	}
	return out, nil
}

// Stats is what a table holds, as Inspect reports it.
type Stats struct {
	// Spans is the number of spans stored.
	Spans int64
	// Records is the number of span records (a trace's spans of one Write share one record).
	Records int64
	// IndexEntries is the number of index entries of every rule.
	IndexEntries int64
	// DiskSize is DiskSize's answer.
	DiskSize int64
	// Files is the number of sstables.
	Files int64
}

// Stats counts what the table holds. It reads every record: an operator's call, not a hot path.
func (t *Table) Stats() (Stats, error) {
	if err := t.acquire(); err != nil {
		return Stats{}, err
	}
	defer t.release()
	var st Stats
	iter, err := t.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kindRecord}, UpperBound: []byte{kindPrefixedIndex + 1}})
	if err != nil {
		return Stats{}, err
	}
	defer iter.Close()
	for ok := iter.First(); ok; ok = iter.Next() {
		if iter.Key()[0] != kindRecord {
			st.IndexEntries++
			continue
		}
		v, err := iter.ValueAndErr()
		if err != nil {
			return Stats{}, err
		}
		body, err := recordBody(v)
		if err != nil {
			return Stats{}, err
		}
		n, w := binary.Uvarint(body)
		if w <= 0 {
			return Stats{}, fmt.Errorf("%w: record %x has no span count", ErrCorrupted, iter.Key())
		}
		st.Records++
		st.Spans += int64(n)
	}
	if err := iter.Error(); err != nil {
		return Stats{}, err
	}
	m := t.db.Metrics()
	st.DiskSize = int64(m.DiskSpaceUsage())
	st.Files = m.Total().NumFiles
	return st, nil
}
