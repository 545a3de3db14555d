// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"fmt"
	"math"

	"github.com/cockroachdb/pebble"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// IterOptions select and order the entries of one index rule.
type IterOptions struct {
	// Desc iterates from the largest sort key down.
	Desc bool
	// Min and Max are inclusive sort-key bounds. Use math.MinInt64 and
	// math.MaxInt64 for open ends. Min > Max selects nothing.
	Min, Max int64
	// Prefixed scans the partition of Prefix of a Prefixed rule instead of
	// the rule's own entries.
	Prefixed bool
	Prefix   string
	// LazyTags leaves IndexEntry.Tags nil and keeps the encoded tags in the
	// entry instead: IndexEntry.Tag decodes one position on demand. A scan
	// that filters on one or two tags then allocates nothing for the others.
	LazyTags bool
}

// FullRange returns IterOptions that select every entry, ascending or
// descending.
func FullRange(desc bool) IterOptions {
	return IterOptions{Desc: desc, Min: math.MinInt64, Max: math.MaxInt64}
}

// IndexEntry is one entry of an index rule: one span under one rule.
type IndexEntry struct {
	// SortKey is the span's value of the rule's sort tag.
	SortKey int64
	// TraceID is the span's trace.
	TraceID string
	// Timestamp is the span's timestamp in unix nanoseconds.
	Timestamp int64
	// Tags holds the values of the WriteOptions.IndexedTags of the write, by
	// tag position: len(Tags) is one more than the largest stored position,
	// and positions that were not indexed (or beyond the span's tags) are nil.
	Tags []*modelv1.TagValue
	// Ref locates the span's record, for GetSpan.
	Ref SpanRef
	// encoded holds the indexed tags still encoded, for IterOptions.LazyTags.
	encoded []byte
}

// IndexIterator walks the entries of one index rule in sort-key order (ties:
// by trace ID length, trace ID, record sequence, span index, reversed when
// descending). It is not safe for concurrent use. It must be closed: the
// table's Close waits for it.
type IndexIterator struct {
	t       *Table
	iter    *pebble.Iterator // nil for an empty range or after Close
	desc    bool
	lazy    bool
	started bool
	entry   IndexEntry
	err     error
}

// Index returns an iterator over the entries of rule ruleID within o's
// bounds. Stopping early is the caller's business: Close the iterator when
// done.
func (t *Table) Index(ruleID uint32, o IterOptions) (*IndexIterator, error) {
	if err := t.acquire(); err != nil {
		return nil, err
	}
	it := &IndexIterator{t: t, desc: o.Desc, lazy: o.LazyTags}
	space := appendIndexSpace(nil, ruleID)
	if o.Prefixed {
		space = appendPrefixedIndexSpace(nil, ruleID, o.Prefix)
	}
	lower, upper, ok := indexBoundsIn(space, o.Min, o.Max)
	if !ok {
		return it, nil
	}
	iter, err := t.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		t.release()
		return nil, err
	}
	it.iter = iter
	return it, nil
}

// Next moves to the next entry. It returns false at the end or on error.
func (it *IndexIterator) Next() bool {
	if it.iter == nil || it.err != nil {
		return false
	}
	var ok bool
	switch {
	case !it.started && it.desc:
		ok = it.iter.Last()
	case !it.started:
		ok = it.iter.First()
	case it.desc:
		ok = it.iter.Prev()
	default:
		ok = it.iter.Next()
	}
	it.started = true
	if !ok {
		it.err = it.iter.Error()
		return false
	}
	k := it.iter.Key()
	ik, ok := parseIndexKey(k)
	if !ok {
		it.err = fmt.Errorf("%w: index key %x", ErrCorrupted, k)
		return false
	}
	v, err := it.iter.ValueAndErr()
	if err != nil {
		it.err = err
		return false
	}
	var (
		ts      int64
		tags    []*modelv1.TagValue
		encoded []byte
	)
	if it.lazy {
		var rest []byte
		ts, rest, err = splitIndexValue(v, ik.sortKey)
		encoded = append([]byte(nil), rest...)
	} else {
		ts, tags, err = decodeIndexValue(v, ik.sortKey)
	}
	if err != nil {
		it.err = fmt.Errorf("index key %x: %w", k, err)
		return false
	}
	traceID := string(ik.traceID)
	it.entry = IndexEntry{
		SortKey:   ik.sortKey,
		TraceID:   traceID,
		Timestamp: ts,
		Tags:      tags,
		Ref:       SpanRef{TraceID: traceID, Seq: ik.seq, Span: ik.span},
		encoded:   encoded,
	}
	return true
}

// Tag returns the value the entry indexed at tag position pos. ok is false
// when the write did not index that position (or the entry was read without
// IterOptions.LazyTags and Tags holds nil there).
func (e *IndexEntry) Tag(pos int) (v *modelv1.TagValue, ok bool) {
	if e.encoded == nil {
		if pos < len(e.Tags) && e.Tags[pos] != nil {
			return e.Tags[pos], true
		}
		return nil, false
	}
	v, ok, err := indexTagAt(e.encoded, pos)
	if err != nil {
		return nil, false
	}
	return v, ok
}

// Entry returns the current entry. The entry is the caller's: later moves do
// not change it.
func (it *IndexIterator) Entry() IndexEntry { return it.entry }

// Err returns the error that ended the iteration, if any.
func (it *IndexIterator) Err() error { return it.err }

// Close releases the iterator. It may be called more than once.
func (it *IndexIterator) Close() error {
	if it.t == nil {
		return nil
	}
	var err error
	if it.iter != nil {
		err = it.iter.Close()
		it.iter = nil
	}
	it.t.release()
	it.t = nil
	return err
}
