// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"container/heap"
	"context"
	"path/filepath"
	"sort"
	"time"

	"github.com/pkg/errors"
	"go.uber.org/multierr"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	"github.com/apache/skywalking-banyandb/banyand/internal/storage"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
)

func unixNanoTime(nanos int64) time.Time { return time.Unix(0, nanos).UTC() }

// entryIterator is an index iterator over one table, positioned on its current entry.
type entryIterator struct {
	it    *tstable.IndexIterator
	table *tstable.Table
	entry tstable.IndexEntry
}

// entryHeap orders iterators by their current entry's sort key in the query's direction.
type entryHeap struct {
	items []*entryIterator
	desc  bool
}

func (h *entryHeap) Len() int { return len(h.items) }

func (h *entryHeap) Less(i, j int) bool {
	if h.desc {
		return h.items[i].entry.SortKey > h.items[j].entry.SortKey
	}
	return h.items[i].entry.SortKey < h.items[j].entry.SortKey
}

func (h *entryHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }

func (h *entryHeap) Push(x any) { h.items = append(h.items, x.(*entryIterator)) }

func (h *entryHeap) Pop() any {
	n := len(h.items)
	it := h.items[n-1]
	h.items = h.items[:n-1]
	return it
}

// scanSpaces returns the index scans a ranked query runs in one table. A rule whose first tag is a
// STRING tag keeps its entries partitioned by that tag's value (tstable.IndexRule.Prefixed): a
// query that pins the tag to some values reads only their partitions; any other query merges the
// partitions of every value the table has seen.
func scanSpaces(table *tstable.Table, plan *queryPlan) ([]tstable.IterOptions, error) {
	base := tstable.IterOptions{Desc: plan.desc, Min: plan.minKey, Max: plan.maxKey, LazyTags: true}
	if plan.rule.prefixPos < 0 {
		return []tstable.IterOptions{base}, nil
	}
	prefixes := plan.prefixes
	if prefixes == nil {
		var err error
		if prefixes, err = table.Prefixes(plan.rule.rule.GetMetadata().GetId()); err != nil {
			return nil, err
		}
	}
	seen := make(map[string]bool, len(prefixes))
	out := make([]tstable.IterOptions, 0, len(prefixes))
	for _, v := range prefixes {
		if seen[v] {
			continue
		}
		seen[v] = true
		o := base
		o.Prefixed, o.Prefix = true, v
		out = append(out, o)
	}
	return out, nil
}

// open adds an iterator over one index scan of a table, positioned on its first entry.
func (h *entryHeap) open(table *tstable.Table, ruleID uint32, o tstable.IterOptions) error {
	it, err := table.Index(ruleID, o)
	if err != nil {
		return err
	}
	if !it.Next() {
		return multierr.Append(it.Err(), it.Close())
	}
	h.items = append(h.items, &entryIterator{it: it, table: table, entry: it.Entry()})
	return nil
}

// candidate is one index entry taken from the merge, with the table that holds its span.
type candidate struct {
	table   *tstable.Table
	traceID string
	entry   tstable.IndexEntry
}

// rankByIndex walks the order rule's index of every table of the segments as one k-way merge in
// sort-key order. A trace is ranked by the first entry of it that matches the time range and the
// filter: its best matching span. Entries with equal keys are taken as one run, ordered by trace id,
// so ties break by trace id ascending whatever table they come from. It stops as soon as it has
// maxTraces traces, which makes the top-N exact without reading spans it will not return. Every
// ranked trace is charged to the budget.
func (t *trace) rankByIndex(ctx context.Context, segs []storage.Segment[*tstable.Table], is *indexSchema, plan *queryPlan,
	lo, hi int64, maxTraces int, budget *queryBudget,
) (ranked []rankedTrace, err error) {
	h := &entryHeap{desc: plan.desc}
	defer func() {
		for _, it := range h.items {
			err = multierr.Append(err, it.it.Close())
		}
	}()
	if plan.minKey > plan.maxKey {
		return nil, nil
	}
	for _, seg := range segs {
		tables, err := seg.Tables()
		if err != nil {
			return nil, errors.Wrapf(err, "open the tables of segment %s", filepath.Base(seg.Dir()))
		}
		for _, table := range tables {
			scans, err := scanSpaces(table, plan)
			if err != nil {
				return nil, errors.Wrapf(err, "read index of segment %s", filepath.Base(seg.Dir()))
			}
			for _, o := range scans {
				if err := h.open(table, plan.rule.rule.GetMetadata().GetId(), o); err != nil {
					return nil, errors.Wrapf(err, "read index of segment %s", filepath.Base(seg.Dir()))
				}
			}
		}
	}
	heap.Init(h)
	seen := make(map[string]struct{})
	view := newEntryView(is.tags)
	var run []candidate
	for h.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return nil, errors.Wrap(err, "query cancelled")
		}
		key := h.items[0].entry.SortKey
		run = run[:0]
		for h.Len() > 0 && h.items[0].entry.SortKey == key {
			top := h.items[0]
			if id, ok := userTraceID(t.name, top.entry.TraceID); ok {
				if _, dup := seen[id]; !dup {
					run = append(run, candidate{entry: top.entry, table: top.table, traceID: id})
				}
			}
			if top.it.Next() {
				top.entry = top.it.Entry()
				heap.Fix(h, 0)
				continue
			}
			if err := top.it.Err(); err != nil {
				return nil, errors.Wrap(err, "read index")
			}
			heap.Pop(h)
			if err := top.it.Close(); err != nil {
				return nil, errors.Wrap(err, "close index iterator")
			}
		}
		if len(run) > 1 {
			sort.SliceStable(run, func(i, j int) bool { return run[i].traceID < run[j].traceID })
		}
		for i := range run {
			c := &run[i]
			if _, dup := seen[c.traceID]; dup {
				continue
			}
			if c.entry.Timestamp < lo || c.entry.Timestamp > hi {
				continue
			}
			matched, err := t.matchEntry(c, view, is, plan)
			if err != nil {
				return nil, err
			}
			if !matched {
				continue
			}
			// Each ranked trace costs its place in seen and in ranked: a match-all query with a
			// huge limit grows here first, before any span is read.
			if err := budget.charge(ctx, rankedTraceCost+2*uint64(len(c.traceID))); err != nil {
				return nil, errors.Wrap(err, "rank traces")
			}
			seen[c.traceID] = struct{}{}
			ranked = append(ranked, rankedTrace{traceID: c.traceID, key: c.entry.SortKey})
			if len(ranked) >= maxTraces {
				return ranked, nil
			}
		}
	}
	return ranked, nil
}

// matchEntry evaluates the filter on an index entry, reading the whole span only when the filter
// needs a tag the entry does not carry. view is the scan's one entry view, pointed at c here.
func (t *trace) matchEntry(c *candidate, view *entryView, is *indexSchema, plan *queryPlan) (bool, error) {
	view.reset(&c.entry, c.traceID)
	m, ok := plan.filter.match(view)
	if ok {
		return m, nil
	}
	span, err := c.table.GetSpan(c.entry.Ref)
	if err != nil {
		return false, errors.Wrapf(err, "read span of trace %s", c.traceID)
	}
	m, _ = plan.filter.match(storedSpanView{span: &span, tags: is.tags, traceID: c.traceID})
	return m, nil
}

// Lookup states of a tag position in an entryView.
const (
	tagNotLooked uint8 = iota
	tagKnown
	tagUnknown
)

// entryView shows an index entry to a filter: the ids, the timestamp and the indexed tags are
// known. It decodes each tag at most once per entry: a filter of many conditions on one tag
// (an OR of 64 services) asks for it once per condition, and decoding it again for each was
// ~85% of such a query's time. One view serves a whole scan; reset points it at the next entry.
type entryView struct {
	entry   *tstable.IndexEntry
	traceID string
	tags    tagLocator
	// vals and state are by tag position: the decoded value and whether it was looked up for
	// the current entry.
	vals  []*modelv1.TagValue
	state []uint8
}

func newEntryView(tl tagLocator) *entryView {
	n := len(tl.types)
	return &entryView{tags: tl, vals: make([]*modelv1.TagValue, n), state: make([]uint8, n)}
}

// reset points the view at an entry and forgets the tags decoded for the previous one.
func (v *entryView) reset(entry *tstable.IndexEntry, traceID string) {
	v.entry, v.traceID = entry, traceID
	clear(v.state)
}

func (v *entryView) tagAt(pos int) (*modelv1.TagValue, bool) {
	if pos < 0 || pos >= len(v.state) {
		return v.decode(pos)
	}
	switch v.state[pos] {
	case tagKnown:
		return v.vals[pos], true
	case tagUnknown:
		return nil, false
	}
	val, ok := v.decode(pos)
	v.vals[pos] = val
	v.state[pos] = tagUnknown
	if ok {
		v.state[pos] = tagKnown
	}
	return val, ok
}

func (v *entryView) decode(pos int) (*modelv1.TagValue, bool) {
	switch pos {
	case v.tags.traceIDPos:
		return strValue(v.traceID), true
	case v.tags.tsPos:
		return timestampValue(v.entry.Timestamp), true
	}
	// A tag the write did not index is unknown here: the caller reads the span.
	return v.entry.Tag(pos)
}
