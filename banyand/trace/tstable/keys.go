// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"encoding/binary"
	"hash/fnv"
	"math"

	"github.com/cockroachdb/pebble"
)

// The keyspace. docs/storage-layout.md is the reference; keep both in sync.
//
//	meta   : 0x00 | name                                                  -> meta value
//	record : 0x01 | u16 len(traceID) | traceID | u64 seq                  -> record value
//	index  : 0x02 | u32 ruleID | u64 sortKey^(1<<63) | u16 len(traceID) | traceID | u64 seq | u16 span
//	                                                                      -> index value
//
// Every integer in a key is big-endian, so byte order equals numeric order.
const (
	kindMeta   byte = 0x00
	kindRecord byte = 0x01
	kindIndex  byte = 0x02
	// kindPrefixedIndex keys hold the entries of Prefixed rules, one space per prefix value.
	kindPrefixedIndex byte = 0x03
)

const (
	// MaxTraceIDLen is the longest trace ID a table accepts (its length is a
	// uint16 in keys).
	MaxTraceIDLen = math.MaxUint16

	recordPrefixFixed = 1 + 2     // kind + trace ID length
	recordSuffixLen   = 8         // seq
	indexHeadLen      = 1 + 4 + 8 // kind + rule + sort key
	indexTailLen      = 8 + 2     // seq + span
)

var (
	// metaKeyFormat holds the table's format version (one byte).
	metaKeyFormat = []byte{kindMeta, 'f', 'o', 'r', 'm', 'a', 't'}
	// metaKeySeq holds the record sequence ceiling (u64 BE): every seq handed
	// out so far is below it.
	metaKeySeq = []byte{kindMeta, 's', 'e', 'q'}
)

// sortKeyBits maps an int64 to a uint64 whose unsigned order is the signed
// order of the input: flipping the sign bit moves negatives below positives.
// metaPrefixList starts the keys of the prefix lists: kindMeta | 'p' | u32
// rule | prefix bytes -> empty value, one key per prefix a Prefixed rule has
// stored entries under.
const metaPrefixList = 'p'

func appendPrefixListKey(dst []byte, ruleID uint32, prefix string) []byte {
	dst = append(dst, kindMeta, metaPrefixList)
	dst = binary.BigEndian.AppendUint32(dst, ruleID)
	return append(dst, prefix...)
}

func sortKeyBits(v int64) uint64 { return uint64(v) ^ (1 << 63) }

// sortKeyFromBits inverts sortKeyBits.
func sortKeyFromBits(u uint64) int64 { return int64(u ^ (1 << 63)) }

// appendRecordPrefix appends the record key prefix of a trace: all records of
// the trace, and nothing else, start with it.
func appendRecordPrefix(dst []byte, traceID string) []byte {
	dst = append(dst, kindRecord)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(traceID)))
	return append(dst, traceID...)
}

func appendRecordKey(dst []byte, traceID string, seq uint64) []byte {
	dst = appendRecordPrefix(dst, traceID)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// parseRecordKey splits a record key. The returned trace ID aliases k.
func parseRecordKey(k []byte) (traceID []byte, seq uint64, ok bool) {
	if len(k) < recordPrefixFixed || k[0] != kindRecord {
		return nil, 0, false
	}
	n := int(binary.BigEndian.Uint16(k[1:3]))
	if len(k) != recordPrefixFixed+n+recordSuffixLen {
		return nil, 0, false
	}
	return k[3 : 3+n], binary.BigEndian.Uint64(k[3+n:]), true
}

// An index space is the key prefix that holds the entries of one scan: a
// rule's own (kindIndex | u32 rule) or, for a Prefixed rule, the entries of
// one value of its prefix tag (kindPrefixedIndex | u32 rule | u32 FNV-1a of
// the value). Values that share a hash share a space; the rule ID in the key
// keeps every other rule out of it.

// appendIndexSpace appends the space of a rule's own entries.
func appendIndexSpace(dst []byte, ruleID uint32) []byte {
	dst = append(dst, kindIndex)
	return binary.BigEndian.AppendUint32(dst, ruleID)
}

// appendPrefixedIndexSpace appends the space of a Prefixed rule's entries for one prefix value.
func appendPrefixedIndexSpace(dst []byte, ruleID uint32, prefix string) []byte {
	dst = append(dst, kindPrefixedIndex)
	dst = binary.BigEndian.AppendUint32(dst, ruleID)
	h := fnv.New32a()
	_, _ = h.Write([]byte(prefix))
	return binary.BigEndian.AppendUint32(dst, h.Sum32())
}

// indexSpaceLen is the length of the space of an index key of kind k (0 for other kinds).
func indexSpaceLen(k byte) int {
	switch k {
	case kindIndex:
		return 1 + 4
	case kindPrefixedIndex:
		return 1 + 4 + 4
	}
	return 0
}

// appendIndexHead appends the part of an index key that orders it: rule and
// sort key.
func appendIndexHead(dst []byte, ruleID uint32, sortKey int64) []byte {
	return binary.BigEndian.AppendUint64(appendIndexSpace(dst, ruleID), sortKeyBits(sortKey))
}

func appendIndexKey(dst []byte, ruleID uint32, sortKey int64, traceID string, seq uint64, span uint16) []byte {
	return appendIndexKeyIn(dst, appendIndexSpace(nil, ruleID), sortKey, traceID, seq, span)
}

// appendIndexKeyIn appends the key of an entry in the given index space.
func appendIndexKeyIn(dst, space []byte, sortKey int64, traceID string, seq uint64, span uint16) []byte {
	dst = append(dst, space...)
	dst = binary.BigEndian.AppendUint64(dst, sortKeyBits(sortKey))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(traceID)))
	dst = append(dst, traceID...)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	return binary.BigEndian.AppendUint16(dst, span)
}

// indexKey is a parsed index key. traceID aliases the parsed bytes.
type indexKey struct {
	ruleID  uint32
	sortKey int64
	traceID []byte
	seq     uint64
	span    uint16
}

func parseIndexKey(k []byte) (ik indexKey, ok bool) {
	if len(k) == 0 {
		return ik, false
	}
	head := indexSpaceLen(k[0]) + 8
	if head == 8 || len(k) < head+2+indexTailLen {
		return ik, false
	}
	n := int(binary.BigEndian.Uint16(k[head:]))
	if len(k) != head+2+n+indexTailLen {
		return ik, false
	}
	ik.ruleID = binary.BigEndian.Uint32(k[1:5])
	ik.sortKey = sortKeyFromBits(binary.BigEndian.Uint64(k[head-8 : head]))
	p := head + 2
	ik.traceID = k[p : p+n]
	p += n
	ik.seq = binary.BigEndian.Uint64(k[p:])
	ik.span = binary.BigEndian.Uint16(k[p+8:])
	return ik, true
}

// indexBounds returns the iterator bounds [lower, upper) that hold exactly the
// entries of ruleID whose sort key is in [minKey, maxKey]. ok is false when the
// range is empty.
func indexBounds(ruleID uint32, minKey, maxKey int64) (lower, upper []byte, ok bool) {
	return indexBoundsIn(appendIndexSpace(nil, ruleID), minKey, maxKey)
}

// indexBoundsIn is indexBounds for any index space.
func indexBoundsIn(space []byte, minKey, maxKey int64) (lower, upper []byte, ok bool) {
	if minKey > maxKey {
		return nil, nil, false
	}
	lower = binary.BigEndian.AppendUint64(append([]byte(nil), space...), sortKeyBits(minKey))
	upper = prefixSuccessor(binary.BigEndian.AppendUint64(append([]byte(nil), space...), sortKeyBits(maxKey)))
	return lower, upper, true
}

// prefixSuccessor returns the smallest key greater than every key that has p
// as a prefix, modifying p in place. For a p of only 0xff bytes (which no key
// of this table is) it returns nil, that is, no upper bound.
func prefixSuccessor(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xff {
			p[i]++
			return p[:i+1]
		}
	}
	return nil
}

// splitKey is the Comparer's Split. Pebble builds its bloom filters over
// key[:splitKey(key)] and consults them in SeekPrefixGE, so:
//   - a record key splits after the trace ID: a trace lookup checks the bloom
//     filter of every sstable and skips those without the trace;
//   - an index key splits after the rule ID: all entries of a rule share one
//     filter entry (consecutive equal prefixes are added once), so the
//     index costs the filters nothing; index keys are never looked up by
//     prefix;
//   - anything else (meta keys, and malformed keys) is its own prefix.
//
// The ordering stays bytewise: a prefix is a byte prefix of its key, and two
// keys with different prefixes differ inside the shorter prefix (the lengths
// are encoded in front of the variable parts), which is what Pebble requires
// of Split.
func splitKey(k []byte) int {
	switch {
	case len(k) >= recordPrefixFixed && k[0] == kindRecord:
		if n := recordPrefixFixed + int(binary.BigEndian.Uint16(k[1:3])); n <= len(k) {
			return n
		}
	case len(k) >= 5 && k[0] == kindIndex:
		return 5
	case len(k) >= 9 && k[0] == kindPrefixedIndex:
		return 9
	}
	return len(k)
}

// comparerName is persisted in Pebble's manifest: a store written with one
// comparer cannot be opened with another, so never change it for an existing
// format.
const comparerName = "banyandb.trace.tstable.v1"

var tableComparer = newComparer()

func newComparer() *pebble.Comparer {
	c := *pebble.DefaultComparer
	c.Name = comparerName
	c.Split = splitKey
	// ImmediateSuccessor is given a prefix and must return a key after every
	// key with that prefix. Our prefixes are byte prefixes of their keys, so
	// the byte-prefix successor is exactly that.
	c.ImmediateSuccessor = func(dst, a []byte) []byte {
		dst = append(dst, a...)
		if s := prefixSuccessor(dst[len(dst)-len(a):]); s != nil {
			return dst[:len(dst)-len(a)+len(s)]
		}
		return append(dst, 0)
	}
	return &c
}
