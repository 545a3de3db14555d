// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	tracetest "github.com/apache/skywalking-banyandb/pkg/test/trace"
)

// benchSchema is the schema the workload writes to.
type benchSchema struct {
	group    *commonv1.Group
	trace    *databasev1.Trace
	rules    []*databasev1.IndexRule
	binding  *databasev1.IndexRuleBinding
	metadata *commonv1.Metadata // group + trace name, as written in every request
}

// loadSchema reads the sw schema from <testdata>/schema, or from the fixtures of pkg/test/trace
// when testdata is empty; a non-empty group renames its group.
func loadSchema(testdata, group string) (*benchSchema, error) {
	read := tracetest.ReadFile
	if testdata != "" {
		read = func(rel string) ([]byte, error) { return os.ReadFile(filepath.Join(testdata, filepath.FromSlash(rel))) }
	}
	loadJSON := func(rel string, m proto.Message) error {
		b, err := read(rel)
		if err != nil {
			return err
		}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, m); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		return nil
	}
	const dir = "schema"
	s := &benchSchema{
		group:   &commonv1.Group{},
		trace:   &databasev1.Trace{},
		binding: &databasev1.IndexRuleBinding{},
	}
	if err := loadJSON(dir+"/groups/test-trace-group.json", s.group); err != nil {
		return nil, err
	}
	if err := loadJSON(dir+"/traces/sw.json", s.trace); err != nil {
		return nil, err
	}
	for _, name := range []string{"duration.json", "timestamp.json"} {
		r := &databasev1.IndexRule{}
		if err := loadJSON(dir+"/index_rules/"+name, r); err != nil {
			return nil, err
		}
		s.rules = append(s.rules, r)
	}
	if err := loadJSON(dir+"/index_rule_bindings/sw.json", s.binding); err != nil {
		return nil, err
	}
	if group != "" {
		s.group.GetMetadata().Name = group
		s.trace.GetMetadata().Group = group
		for _, r := range s.rules {
			r.GetMetadata().Group = group
		}
		s.binding.GetMetadata().Group = group
	}
	want := []string{"trace_id", "state", "service_id", "service_instance_id", "endpoint_id", "duration", "span_id", "timestamp"}
	var got []string
	for _, t := range s.trace.GetTags() {
		got = append(got, t.GetName())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		return nil, fmt.Errorf("trace schema %s has tags %v; the workload writes %v", s.trace.GetMetadata().GetName(), got, want)
	}
	s.metadata = &commonv1.Metadata{Group: s.trace.GetMetadata().GetGroup(), Name: s.trace.GetMetadata().GetName()}
	return s, nil
}

// tagNames are the tag names of the trace schema, in schema order.
func (s *benchSchema) tagNames() []string {
	out := make([]string, 0, len(s.trace.GetTags()))
	for _, t := range s.trace.GetTags() {
		out = append(out, t.GetName())
	}
	return out
}

// create registers the schema; AlreadyExists is fine. Unavailable is retried until ctx ends, so
// that a server still starting is waited for.
func (s *benchSchema) create(ctx context.Context, conn *grpc.ClientConn) error {
	groups := databasev1.NewGroupRegistryServiceClient(conn)
	traces := databasev1.NewTraceRegistryServiceClient(conn)
	rules := databasev1.NewIndexRuleRegistryServiceClient(conn)
	bindings := databasev1.NewIndexRuleBindingRegistryServiceClient(conn)
	steps := []struct {
		what string
		call func(context.Context) error
	}{
		{"group " + s.group.GetMetadata().GetName(), func(ctx context.Context) error {
			_, err := groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: s.group})
			return err
		}},
		{"trace " + s.trace.GetMetadata().GetName(), func(ctx context.Context) error {
			_, err := traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: s.trace})
			return err
		}},
	}
	for _, r := range s.rules {
		steps = append(steps, struct {
			what string
			call func(context.Context) error
		}{"index rule " + r.GetMetadata().GetName(), func(ctx context.Context) error {
			_, err := rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r})
			return err
		}})
	}
	steps = append(steps, struct {
		what string
		call func(context.Context) error
	}{"index rule binding " + s.binding.GetMetadata().GetName(), func(ctx context.Context) error {
		_, err := bindings.Create(ctx, &databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: s.binding})
		return err
	}})
	for _, st := range steps {
		for {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := st.call(cctx)
			cancel()
			if err == nil || status.Code(err) == codes.AlreadyExists {
				break
			}
			if status.Code(err) == codes.Unavailable && ctx.Err() == nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			return fmt.Errorf("create %s: %w", st.what, err)
		}
	}
	return nil
}

// waitWritable writes one probe span until the server acknowledges it: the server loads schemas
// asynchronously. The probe has its own trace id and service, so it matches no workload query.
func (s *benchSchema) waitWritable(ctx context.Context, client tracev1.TraceServiceClient, seed uint64, at time.Time) error {
	probe := genSpan{
		spanID:   "probe",
		service:  "bench-probe",
		instance: "bench-probe-instance",
		endpoint: "/bench-probe",
		ts:       at.Truncate(time.Millisecond),
	}
	req := &tracev1.WriteRequest{
		Metadata: s.metadata,
		Tags:     tagValues(fmt.Sprintf("bench-probe-%d-%d", seed, at.UnixNano()), &probe),
		Span:     []byte("bench probe"),
		Version:  1,
	}
	var last string
	for {
		st, err := writeOne(ctx, client, req)
		if err == nil && st == modelv1.Status_STATUS_SUCCEED.String() {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = "status " + st
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the server accepted no write (last: %s): %w", last, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// writeOne writes a single request on its own stream and returns the acknowledged status.
func writeOne(ctx context.Context, client tracev1.TraceServiceClient, req *tracev1.WriteRequest) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := client.Write(ctx)
	if err != nil {
		return "", err
	}
	if err := stream.Send(req); err != nil {
		return "", err
	}
	if err := stream.CloseSend(); err != nil {
		return "", err
	}
	resp, err := stream.Recv()
	if err != nil {
		return "", err
	}
	// Drain to the end of the stream.
	for {
		if _, err := stream.Recv(); err != nil {
			break
		}
	}
	return resp.GetStatus(), nil
}
