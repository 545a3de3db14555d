// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package helpers

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	tracetest "github.com/apache/skywalking-banyandb/pkg/test/trace"
)

// SpanInterval is the time between two consecutive spans of a fixture file (API.md §8.2).
const SpanInterval = 500 * time.Millisecond

// FixtureOffset is where a span fixture file is written: its group and trace, and its offset from
// the base time.
type FixtureOffset struct {
	File   string
	Group  string
	Trace  string
	Offset time.Duration
}

// SpanFixtures lists the span files and where they go (API.md §8.2).
var SpanFixtures = []FixtureOffset{
	{File: "sw.json", Group: "test-trace-group", Trace: "sw", Offset: 0},
	{File: "sw_mixed_traces.json", Group: "test-trace-group", Trace: "sw", Offset: time.Minute},
	{File: "sw_updated.json", Group: "test-trace-updated", Trace: "sw", Offset: time.Minute},
	{File: "zipkin.json", Group: "zipkinTrace", Trace: "zipkin", Offset: 0},
}

// SpanEntry is one span of a fixture file: its tag values in schema order without the trailing
// timestamp, and its span bytes as text.
type SpanEntry struct {
	Tags []*modelv1.TagValue
	Span string
}

// ReadSpanFile parses <testdata>/spans/<name>.
func ReadSpanFile(name string) ([]SpanEntry, error) {
	path := "spans/" + name
	b, err := tracetest.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "helpers")
	}
	var raw []struct {
		Tags []json.RawMessage `json:"tags"`
		Span string            `json:"span"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, errors.Wrapf(err, "helpers: parse %s", path)
	}
	out := make([]SpanEntry, len(raw))
	for i, r := range raw {
		out[i].Span = r.Span
		for j, t := range r.Tags {
			v := &modelv1.TagValue{}
			if err := protojson.Unmarshal(t, v); err != nil {
				return nil, errors.Wrapf(err, "helpers: parse tag %d of span %d in %s", j, i, path)
			}
			out[i].Tags = append(out[i].Tags, v)
		}
	}
	return out, nil
}

// FixtureBase returns the base time of the span fixtures for a run starting at now: now truncated
// to the millisecond minus 10 minutes (well inside every fixture group's TTL), moved earlier if
// the 70 s the fixtures span would cross a local midnight, so that all of them fall in one daily
// segment.
func FixtureBase(now time.Time) time.Time {
	base := now.Truncate(time.Millisecond).Add(-10 * time.Minute)
	end := base.Add(2 * time.Minute)
	y1, m1, d1 := base.Date()
	y2, m2, d2 := end.Date()
	if y1 != y2 || m1 != m2 || d1 != d2 {
		midnight := time.Date(y2, m2, d2, 0, 0, 0, 0, end.Location())
		base = midnight.Add(-5 * time.Minute)
	}
	return base
}

// SpanTime is the timestamp of entry i of a fixture file written at base.
func SpanTime(base time.Time, i int) time.Time {
	return base.Add(time.Duration(i) * SpanInterval)
}

// GetTraceMetadata returns the metadata of a trace schema as the registry returns it, with its
// revisions.
func GetTraceMetadata(ctx context.Context, conn *grpc.ClientConn, group, name string) (*commonv1.Metadata, error) {
	resp, err := databasev1.NewTraceRegistryServiceClient(conn).Get(ctx, &databasev1.TraceRegistryServiceGetRequest{
		Metadata: &commonv1.Metadata{Group: group, Name: name},
	})
	if err != nil {
		return nil, errors.Wrapf(err, "helpers: get trace %s/%s", group, name)
	}
	return resp.GetTrace().GetMetadata(), nil
}

// SpanRequest builds the write request of entry i of a fixture file (API.md §8.2): the entry's
// tags plus timestamp = base + i*500ms, version i+1, the span bytes.
func SpanRequest(md *commonv1.Metadata, e SpanEntry, base time.Time, i int) *tracev1.WriteRequest {
	tags := make([]*modelv1.TagValue, 0, len(e.Tags)+1)
	for _, t := range e.Tags {
		tags = append(tags, proto.Clone(t).(*modelv1.TagValue))
	}
	tags = append(tags, &modelv1.TagValue{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(SpanTime(base, i))}})
	return &tracev1.WriteRequest{
		Metadata: proto.Clone(md).(*commonv1.Metadata),
		Tags:     tags,
		Span:     []byte(e.Span),
		Version:  uint64(i + 1),
	}
}

// WriteStream sends reqs on one write stream while reading the responses, half-closes it and
// returns every response in the order received, once the server has ended the stream.
func WriteStream(ctx context.Context, conn *grpc.ClientConn, reqs []*tracev1.WriteRequest) ([]*tracev1.WriteResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := tracev1.NewTraceServiceClient(conn).Write(ctx)
	if err != nil {
		return nil, errors.Wrap(err, "helpers: open a write stream")
	}
	type result struct {
		resps []*tracev1.WriteResponse
		err   error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.err = errors.Wrap(err, "helpers: receive a write response")
				break
			}
			r.resps = append(r.resps, resp)
		}
		done <- r
	}()
	for _, req := range reqs {
		if err := stream.Send(req); err != nil {
			// The server ended the stream; Recv reports why.
			break
		}
	}
	if err := stream.CloseSend(); err != nil {
		cancel()
		<-done
		return nil, errors.Wrap(err, "helpers: close the write stream")
	}
	r := <-done
	return r.resps, r.err
}

// WriteRetryTimeout bounds how long the first write of WriteSpans retries while the server has not
// loaded the trace schema (or its latest revision) yet.
const WriteRetryTimeout = 30 * time.Second

// WriteSpans writes spans to group/name as API.md §8.2 describes: metadata from the registry
// (with its mod_revision), tags + timestamp base+i*500ms, version i+1. The first span is retried
// alone until it is STATUS_SUCCEED (the server may not have loaded the schema yet); the rest go on
// one stream and must all succeed.
func WriteSpans(ctx context.Context, conn *grpc.ClientConn, group, name string, entries []SpanEntry, base time.Time) error {
	if len(entries) == 0 {
		return nil
	}
	md, err := WriteFirstUntilAccepted(ctx, conn, group, name, func(md *commonv1.Metadata) *tracev1.WriteRequest {
		return SpanRequest(md, entries[0], base, 0)
	})
	if err != nil {
		return err
	}
	reqs := make([]*tracev1.WriteRequest, 0, len(entries)-1)
	for i := 1; i < len(entries); i++ {
		reqs = append(reqs, SpanRequest(md, entries[i], base, i))
	}
	return WriteAllSucceed(ctx, conn, reqs)
}

// WriteFirstUntilAccepted writes the request that build makes from the trace's current metadata,
// each time on a fresh stream, until the server answers STATUS_SUCCEED; it returns the metadata
// that was accepted. Statuses that mean "not loaded yet" (NOT_FOUND, SCHEMA_NOT_APPLIED,
// EXPIRED_SCHEMA while the registry is read again) are retried until WriteRetryTimeout; any
// other status is an error.
func WriteFirstUntilAccepted(ctx context.Context, conn *grpc.ClientConn, group, name string,
	build func(md *commonv1.Metadata) *tracev1.WriteRequest,
) (*commonv1.Metadata, error) {
	deadline := time.Now().Add(WriteRetryTimeout)
	for {
		md, err := GetTraceMetadata(ctx, conn, group, name)
		if err != nil {
			return nil, err
		}
		req := build(md)
		resps, err := WriteStream(ctx, conn, []*tracev1.WriteRequest{req})
		if err != nil {
			return nil, err
		}
		if len(resps) != 1 {
			return nil, errors.Errorf("helpers: %d responses to one write of %s/%s", len(resps), group, name)
		}
		st := resps[0].GetStatus()
		switch st {
		case modelv1.Status_STATUS_SUCCEED.String():
			return md, nil
		case modelv1.Status_STATUS_NOT_FOUND.String(), modelv1.Status_STATUS_SCHEMA_NOT_APPLIED.String(),
			modelv1.Status_STATUS_EXPIRED_SCHEMA.String():
		default:
			return nil, errors.Errorf("helpers: write to %s/%s answered %s", group, name, st)
		}
		if time.Now().After(deadline) {
			return nil, errors.Errorf("helpers: write to %s/%s still answers %s after %s", group, name, st, WriteRetryTimeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WriteAllSucceed writes reqs on one stream and checks that each got exactly one
// STATUS_SUCCEED response echoing its version.
func WriteAllSucceed(ctx context.Context, conn *grpc.ClientConn, reqs []*tracev1.WriteRequest) error {
	if len(reqs) == 0 {
		return nil
	}
	resps, err := WriteStream(ctx, conn, reqs)
	if err != nil {
		return err
	}
	if len(resps) != len(reqs) {
		return errors.Errorf("helpers: %d responses to %d writes", len(resps), len(reqs))
	}
	want := make(map[uint64]int, len(reqs))
	for _, r := range reqs {
		want[r.GetVersion()]++
	}
	for _, r := range resps {
		if r.GetStatus() != modelv1.Status_STATUS_SUCCEED.String() {
			return errors.Errorf("helpers: write version %d answered %s", r.GetVersion(), r.GetStatus())
		}
		if want[r.GetVersion()] == 0 {
			return errors.Errorf("helpers: unexpected response for version %d", r.GetVersion())
		}
		want[r.GetVersion()]--
	}
	return nil
}

// WriteFixtureSpans writes every span fixture file to its group at base + its offset.
func WriteFixtureSpans(ctx context.Context, conn *grpc.ClientConn, base time.Time) error {
	for _, f := range SpanFixtures {
		entries, err := ReadSpanFile(f.File)
		if err != nil {
			return err
		}
		if err := WriteSpans(ctx, conn, f.Group, f.Trace, entries, base.Add(f.Offset)); err != nil {
			return errors.Wrapf(err, "helpers: write %s", f.File)
		}
	}
	return nil
}
