// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var edgeInt64s = []int64{math.MinInt64, math.MinInt64 + 1, -1 << 32, -256, -1, 0, 1, 255, 256, 1 << 32, math.MaxInt64 - 1, math.MaxInt64}

func TestSortKeyBitsOrder(t *testing.T) {
	for _, a := range edgeInt64s {
		if got := sortKeyFromBits(sortKeyBits(a)); got != a {
			t.Fatalf("round trip of %d: %d", a, got)
		}
		for _, b := range edgeInt64s {
			ka := appendIndexHead(nil, 1, a)
			kb := appendIndexHead(nil, 1, b)
			if got, want := bytes.Compare(ka, kb), cmp.Compare(a, b); got != want {
				t.Fatalf("compare(%d, %d): keys say %d, values %d", a, b, got, want)
			}
		}
	}
}

// indexTuple is what an index key encodes, in key order: rule, sort key,
// trace ID (by length, then bytes), seq, span.
type indexTuple struct {
	rule    uint32
	sortKey int64
	traceID string
	seq     uint64
	span    uint16
}

func compareTuples(a, b indexTuple) int {
	return cmp.Or(
		cmp.Compare(a.rule, b.rule),
		cmp.Compare(a.sortKey, b.sortKey),
		cmp.Compare(len(a.traceID), len(b.traceID)),
		strings.Compare(a.traceID, b.traceID),
		cmp.Compare(a.seq, b.seq),
		cmp.Compare(a.span, b.span),
	)
}

func (x indexTuple) key() []byte {
	return appendIndexKey(nil, x.rule, x.sortKey, x.traceID, x.seq, x.span)
}

func checkIndexKeys(t *testing.T, a, b indexTuple) {
	t.Helper()
	ka, kb := a.key(), b.key()
	if got, want := bytes.Compare(ka, kb), compareTuples(a, b); got != want {
		t.Fatalf("%+v vs %+v: keys compare %d, tuples %d", a, b, got, want)
	}
	ik, ok := parseIndexKey(ka)
	if !ok {
		t.Fatalf("parse %x failed", ka)
	}
	got := indexTuple{ik.ruleID, ik.sortKey, string(ik.traceID), ik.seq, ik.span}
	if got != a {
		t.Fatalf("round trip: got %+v, want %+v", got, a)
	}
	if n := splitKey(ka); n != 5 {
		t.Fatalf("split of index key: %d", n)
	}
}

func TestIndexKeyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() indexTuple {
		ids := []string{"", "a", "ab", "b", "\xff", "\x00\x00", "trace-1", "trace-10", "trace-2"}
		return indexTuple{
			rule:    uint32(rng.IntN(3)),
			sortKey: edgeInt64s[rng.IntN(len(edgeInt64s))],
			traceID: ids[rng.IntN(len(ids))],
			seq:     []uint64{0, 1, 255, 256, math.MaxUint64}[rng.IntN(5)],
			span:    []uint16{0, 1, 255, 256, math.MaxUint16}[rng.IntN(5)],
		}
	}
	for range 20000 {
		checkIndexKeys(t, pick(), pick())
	}
}

func TestRecordKey(t *testing.T) {
	for _, id := range []string{"a", "trace", strings.Repeat("x", MaxTraceIDLen)} {
		for _, seq := range []uint64{0, 1, math.MaxUint64} {
			k := appendRecordKey(nil, id, seq)
			gotID, gotSeq, ok := parseRecordKey(k)
			if !ok || string(gotID) != id || gotSeq != seq {
				t.Fatalf("round trip of (%q, %d): (%q, %d, %v)", id[:min(len(id), 8)], seq, gotID[:min(len(gotID), 8)], gotSeq, ok)
			}
			prefix := appendRecordPrefix(nil, id)
			if !bytes.HasPrefix(k, prefix) {
				t.Fatal("record key does not start with its prefix")
			}
			if n := splitKey(k); n != len(prefix) {
				t.Fatalf("split: %d, want %d", n, len(prefix))
			}
			if n := splitKey(prefix); n != len(prefix) {
				t.Fatalf("split of the prefix itself: %d, want %d", n, len(prefix))
			}
		}
	}
	// A trace ID that is a byte prefix of another never shares its record
	// prefix: the length comes first.
	a, b := appendRecordKey(nil, "ab", 7), appendRecordPrefix(nil, "a")
	if bytes.HasPrefix(a, b) {
		t.Fatal("record of trace ab matches the prefix of trace a")
	}
	for _, bad := range [][]byte{nil, {kindRecord}, {kindRecord, 0, 5, 'a'}, appendRecordKey(nil, "a", 1)[:10]} {
		if _, _, ok := parseRecordKey(bad); ok {
			t.Fatalf("parsed malformed record key %x", bad)
		}
		_ = splitKey(bad) // must not panic
	}
}

// TestSplitOrdering checks Pebble's requirement on Split over a mixed,
// sorted set of keys: if a <= b then prefix(a) <= prefix(b).
func TestSplitOrdering(t *testing.T) {
	var keys [][]byte
	for _, id := range []string{"a", "ab", "b", "zz", "\xff\xff"} {
		for _, seq := range []uint64{0, 9, math.MaxUint64} {
			keys = append(keys, appendRecordKey(nil, id, seq))
		}
		for _, sk := range edgeInt64s {
			keys = append(keys, appendIndexKey(nil, 3, sk, id, 1, 2))
			keys = append(keys, appendIndexKey(nil, 4, sk, id, 1, 2))
		}
	}
	keys = append(keys, metaKeyFormat, metaKeySeq)
	slices.SortFunc(keys, bytes.Compare)
	for i := 1; i < len(keys); i++ {
		a, b := keys[i-1], keys[i]
		pa, pb := a[:splitKey(a)], b[:splitKey(b)]
		if bytes.Compare(pa, pb) > 0 {
			t.Fatalf("prefix order broken: %x (%x) before %x (%x)", a, pa, b, pb)
		}
		if succ := tableComparer.ImmediateSuccessor(nil, pa); bytes.Compare(succ, a) <= 0 {
			t.Fatalf("ImmediateSuccessor(%x) = %x is not after %x", pa, succ, a)
		}
	}
}

func TestIndexBounds(t *testing.T) {
	if _, _, ok := indexBounds(1, 5, 4); ok {
		t.Fatal("min > max must select nothing")
	}
	lo, hi, ok := indexBounds(1, math.MinInt64, math.MaxInt64)
	if !ok {
		t.Fatal("full range rejected")
	}
	for _, sk := range edgeInt64s {
		k := appendIndexKey(nil, 1, sk, "t", math.MaxUint64, math.MaxUint16)
		if bytes.Compare(k, lo) < 0 || bytes.Compare(k, hi) >= 0 {
			t.Fatalf("key of %d outside the full range", sk)
		}
		for _, other := range []uint32{0, 2} {
			k := appendIndexKey(nil, other, sk, "t", 0, 0)
			if bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) < 0 {
				t.Fatalf("rule %d key inside rule 1's range", other)
			}
		}
	}
	// The last rule's full range ends before the next key kind.
	_, hi, _ = indexBounds(math.MaxUint32, math.MinInt64, math.MaxInt64)
	if !bytes.Equal(hi, []byte{kindIndex + 1}) {
		t.Fatalf("upper bound of the last rule: %x", hi)
	}
}
