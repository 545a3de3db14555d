// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"sort"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
	"github.com/apache/skywalking-banyandb/pkg/tagspec"
)

// tagLocator is the parsed shape of a trace schema: where each tag sits in a write request.
type tagLocator struct {
	positions  map[string]int
	spec       *tagspec.Schema // what a write's tag spec places tags into
	types      []databasev1.TagType
	names      []string
	traceIDPos int
	spanIDPos  int
	tsPos      int
}

func newTagLocator(s *databasev1.Trace) tagLocator {
	tl := tagLocator{positions: make(map[string]int, len(s.GetTags())), traceIDPos: -1, spanIDPos: -1, tsPos: -1}
	for i, t := range s.GetTags() {
		tl.positions[t.GetName()] = i
		tl.types = append(tl.types, t.GetType())
		tl.names = append(tl.names, t.GetName())
	}
	tl.spec = tagspec.NewSchema(tl.names, s.GetTraceIdTagName(), s.GetTimestampTagName())
	if p, ok := tl.positions[s.GetTraceIdTagName()]; ok {
		tl.traceIDPos = p
	}
	if p, ok := tl.positions[s.GetSpanIdTagName()]; ok {
		tl.spanIDPos = p
	}
	if p, ok := tl.positions[s.GetTimestampTagName()]; ok {
		tl.tsPos = p
	}
	return tl
}

// indexRule is an index rule resolved against the trace schema.
type indexRule struct {
	rule    *databasev1.IndexRule
	tagPos  []int
	sortPos int
	// prefixPos is the rule's first tag when it is a STRING tag other than the sort tag: the rule's
	// entries are also kept per value of that tag (tstable.IndexRule.Prefixed); -1 otherwise.
	prefixPos  int
	sortIsTime bool
	usable     bool // every tag exists and the sort tag is INT or TIMESTAMP
}

// indexSchema is the trace's schema and index rules, swapped as one value when either changes.
type indexSchema struct {
	rules   []*databasev1.IndexRule
	byName  map[string]*indexRule
	write   tstable.WriteOptions
	tags    tagLocator
	indexed map[int]bool
}

func newIndexSchema(s *databasev1.Trace, rules []*databasev1.IndexRule) *indexSchema {
	is := &indexSchema{rules: rules, byName: make(map[string]*indexRule, len(rules)), tags: newTagLocator(s), indexed: make(map[int]bool)}
	for _, r := range rules {
		ir := &indexRule{rule: r, sortPos: -1, prefixPos: -1, usable: len(r.GetTags()) > 0}
		for _, name := range r.GetTags() {
			p, ok := is.tags.positions[name]
			if !ok {
				ir.usable = false
				p = -1
			}
			ir.tagPos = append(ir.tagPos, p)
		}
		if ir.usable {
			ir.sortPos = ir.tagPos[len(ir.tagPos)-1]
			switch is.tags.types[ir.sortPos] {
			case databasev1.TagType_TAG_TYPE_INT:
			case databasev1.TagType_TAG_TYPE_TIMESTAMP:
				ir.sortIsTime = true
			default:
				ir.usable = false
			}
		}
		is.byName[r.GetMetadata().GetName()] = ir
		if !ir.usable {
			continue
		}
		wr := tstable.IndexRule{ID: r.GetMetadata().GetId(), SortTagPos: ir.sortPos}
		if len(ir.tagPos) > 1 && is.tags.types[ir.tagPos[0]] == databasev1.TagType_TAG_TYPE_STRING {
			ir.prefixPos = ir.tagPos[0]
			wr.Prefixed, wr.PrefixTagPos = true, ir.prefixPos
		}
		is.write.Rules = append(is.write.Rules, wr)
		for _, p := range ir.tagPos {
			// Every entry carries the span's timestamp anyway: indexing the timestamp tag again
			// would only cost bytes.
			if p != is.tags.tsPos {
				is.indexed[p] = true
			}
		}
	}
	for p := range is.indexed {
		is.write.IndexedTags = append(is.write.IndexedTags, p)
	}
	sort.Ints(is.write.IndexedTags)
	return is
}
