// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"time"

	"github.com/pkg/errors"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	"github.com/apache/skywalking-banyandb/banyand/internal/storage"
	"github.com/apache/skywalking-banyandb/banyand/queue"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
	"github.com/apache/skywalking-banyandb/pkg/fs"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// writeData is the data side of the write path: it stores batches of routed spans, one atomic
// table write per (segment, shard), and answers a status per span. It trusts the validation and
// the shard the front door handed it when its own schema has the revision the span was validated
// against (always in standalone, unless the schema changed in between); else it validates the
// span itself.
type writeData struct {
	schemaRepo          *schemaRepo
	lfs                 fs.FileSystem
	metrics             *metrics
	l                   *logger.Logger
	dataPath            string
	maxDiskUsagePercent int
	schemaWait          time.Duration
	// maxFutureSkew is --trace-max-future-skew: how far ahead of now a span's timestamp may be.
	maxFutureSkew time.Duration
}

func newWriteData(repo *schemaRepo, lfs fs.FileSystem, dataPath string, maxDiskUsagePercent int, schemaWait time.Duration,
	maxFutureSkew time.Duration, m *metrics, l *logger.Logger,
) *writeData {
	return &writeData{
		schemaRepo: repo, lfs: lfs, dataPath: dataPath, maxDiskUsagePercent: maxDiskUsagePercent,
		schemaWait: schemaWait, maxFutureSkew: maxFutureSkew, metrics: m, l: l,
	}
}

// tableBatch is the spans of one batch that go to one table.
type tableBatch struct {
	table *tstable.Table
	wo    tstable.WriteOptions
	group string
	spans []tstable.Span
	index []int // positions of the spans' requests in the batch
}

type tableKey struct {
	table *tstable.Table
	is    *indexSchema
}

// WriteSpans stores a batch of routed spans and returns the status of each, once the batch is in
// the tables' write-ahead logs.
func (s *standalone) WriteSpans(ctx context.Context, batch []queue.Span) ([]modelv1.Status, error) {
	if s.write == nil {
		return nil, errors.New("trace: the service is not running")
	}
	return s.write.store(ctx, batch), nil
}

// traceKey names a trace schema within a batch: a map key that costs no allocation per span.
type traceKey struct{ group, name string }

// store writes a batch and returns the status of each span.
func (w *writeData) store(ctx context.Context, reqs []queue.Span) []modelv1.Status {
	start := time.Now()
	statuses := make([]modelv1.Status, len(reqs))
	if w.diskFull() {
		for i := range statuses {
			statuses[i] = modelv1.Status_STATUS_DISK_FULL
		}
		return statuses
	}
	batches := make(map[tableKey]*tableBatch)
	var order []*tableBatch
	var segs []storage.Segment[*tstable.Table]
	defer func() {
		for _, s := range segs {
			s.DecRef()
		}
	}()
	type segKey struct {
		h     *tsdbHolder
		start int64
	}
	segCache := make(map[segKey]storage.Segment[*tstable.Table])
	waited := make(map[string]bool)
	traces := make(map[traceKey]*trace)
	for i := range reqs {
		span := &reqs[i]
		req := span.Request
		md := req.GetMetadata()
		name := traceKey{group: md.GetGroup(), name: md.GetName()}
		t, ok := traces[name]
		if !ok {
			if t, ok = w.schemaRepo.traceForWrite(ctx, md, w.schemaWait, waited); !ok {
				t = nil
			}
			traces[name] = t
		}
		if t == nil {
			statuses[i] = modelv1.Status_STATUS_NOT_FOUND
			continue
		}
		is := t.loadIndexSchema()
		ps, trusted, st, reason := acceptSpan(t, &is.tags, span)
		if st == modelv1.Status_STATUS_SUCCEED {
			// The data side owns its segments: it bounds how far ahead a span may create one,
			// by its own clock, whether or not it trusts the front door's validation.
			st, reason = checkTimeWindow(ps.ts, start, w.maxFutureSkew)
		}
		if st != modelv1.Status_STATUS_SUCCEED {
			w.l.Debug().Str("group", t.group).Str("trace", t.name).Str("reason", reason).Msg("span refused")
			statuses[i] = st
			continue
		}
		h, ok := t.loadTSDB()
		if !ok {
			statuses[i] = modelv1.Status_STATUS_INTERNAL_ERROR
			continue
		}
		// Spans of one day (or hour) mostly share a segment: look it up once per batch.
		var seg storage.Segment[*tstable.Table]
		for k, s := range segCache {
			if k.h == h && s.TimeRange().Contains(ps.ts.UnixNano()) {
				seg = s
				break
			}
		}
		if seg == nil {
			s, err := h.db.CreateSegmentIfNotExist(ps.ts)
			if err != nil {
				if errors.Is(err, storage.ErrSegmentExpired) {
					statuses[i] = modelv1.Status_STATUS_INVALID_TIMESTAMP
				} else {
					w.l.Error().Err(err).Str("group", t.group).Msg("failed to create a segment")
					statuses[i] = modelv1.Status_STATUS_INTERNAL_ERROR
				}
				continue
			}
			segs = append(segs, s)
			segCache[segKey{h: h, start: s.TimeRange().Start.UnixNano()}] = s
			seg = s
		}
		shard := storage.ShardID(span.Shard)
		if !trusted || span.Shard >= seg.ShardNum() {
			shard = storage.ShardID(shardOf(ps.traceID, seg.ShardNum()))
		}
		table, err := seg.Table(shard)
		if err != nil {
			w.l.Error().Err(err).Str("group", t.group).Msg("failed to open a table")
			statuses[i] = modelv1.Status_STATUS_INTERNAL_ERROR
			continue
		}
		key := tableKey{table: table, is: is}
		b, ok := batches[key]
		if !ok {
			b = &tableBatch{table: table, wo: is.write, group: t.group}
			batches[key] = b
			order = append(order, b)
		}
		b.spans = append(b.spans, tstable.Span{
			TraceID:   storedTraceID(t.name, ps.traceID),
			SpanID:    ps.spanID,
			Timestamp: ps.ts.UnixNano(),
			Tags:      storedTags(&is.tags, req.GetTags()),
			Payload:   req.GetSpan(),
		})
		b.index = append(b.index, i)
	}
	for _, b := range order {
		st := modelv1.Status_STATUS_SUCCEED
		if err := b.table.Write(b.spans, b.wo); err != nil {
			w.l.Error().Err(err).Str("group", b.group).Int("spans", len(b.spans)).Msg("failed to write spans")
			st = modelv1.Status_STATUS_INTERNAL_ERROR
			w.metrics.writeErrors.WithLabelValues(b.group, st.String()).Add(float64(len(b.spans)))
		} else {
			w.metrics.writtenSpans.WithLabelValues(b.group).Add(float64(len(b.spans)))
			w.metrics.writeLatency.WithLabelValues(b.group).Observe(time.Since(start).Seconds())
		}
		for _, i := range b.index {
			statuses[i] = st
		}
	}
	return statuses
}

// acceptSpan returns what the data side needs of a span. A span validated against the schema
// revision this node has is trusted: its parsed values are read, not checked again (trusted is
// then true, and so is its shard). Any other span is validated here, against this node's schema.
func acceptSpan(t *trace, tl *tagLocator, span *queue.Span) (parsedSpan, bool, modelv1.Status, string) {
	tags := span.Request.GetTags()
	inRange := tl.traceIDPos >= 0 && tl.traceIDPos < len(tags) && tl.spanIDPos >= 0 && tl.spanIDPos < len(tags) &&
		tl.tsPos >= 0 && tl.tsPos < len(tags)
	if span.Revision != 0 && span.Revision == t.revision() && inRange {
		if span.TraceID != "" {
			return parsedSpan{traceID: span.TraceID, spanID: span.SpanID, ts: span.Timestamp}, true, modelv1.Status_STATUS_SUCCEED, ""
		}
		// Validated by a liaison with the same schema: the values sit where the schema says.
		return parsedSpan{
			traceID: tags[tl.traceIDPos].GetStr().GetValue(),
			spanID:  tags[tl.spanIDPos].GetStr().GetValue(),
			ts:      tags[tl.tsPos].GetTimestamp().AsTime(),
		}, true, modelv1.Status_STATUS_SUCCEED, ""
	}
	if st := checkRevision(span.Request, t.schema); st != modelv1.Status_STATUS_SUCCEED {
		return parsedSpan{}, false, st, "the schema revision differs"
	}
	ps, st, reason := parseStoredSpan(t.name, tl, span.Request)
	return ps, false, st, reason
}

// storedTags drops the trace id and span id values, which the table keeps in their own fields.
func storedTags(tl *tagLocator, tags []*modelv1.TagValue) []*modelv1.TagValue {
	out := make([]*modelv1.TagValue, len(tags))
	copy(out, tags)
	if tl.traceIDPos < len(out) {
		out[tl.traceIDPos] = nil
	}
	if tl.spanIDPos < len(out) {
		out[tl.spanIDPos] = nil
	}
	return out
}

// diskFull reports whether the data disk is above the configured usage.
func (w *writeData) diskFull() bool {
	return diskAbove(w.lfs, w.dataPath, w.maxDiskUsagePercent, w.l)
}

// diskAbove reports whether the disk of path is used at percent or more; a percent of 0 or 100
// (or no file system) never refuses, and a disk whose usage cannot be read is logged and not
// refused. Liaisons and nodes with data check --trace-max-disk-usage-percent with it.
func diskAbove(lfs fs.FileSystem, path string, percent int, l *logger.Logger) bool {
	if percent <= 0 || percent >= 100 || lfs == nil {
		return false
	}
	used, err := lfs.DiskUsagePercent(path)
	if err != nil {
		l.Warn().Err(err).Str("path", path).Msg("failed to read the disk usage")
		return false
	}
	return used >= percent
}
