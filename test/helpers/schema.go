// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package helpers

import (
	"context"
	"strings"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	tracetest "github.com/apache/skywalking-banyandb/pkg/test/trace"
)

// Schemas is a set of schema resources, in the order they must be created.
type Schemas struct {
	Groups     []*commonv1.Group
	Traces     []*databasev1.Trace
	IndexRules []*databasev1.IndexRule
	Bindings   []*databasev1.IndexRuleBinding
}

// ReadSchemas reads every schema fixture under <testdata>/schema/{groups,traces,index_rules,
// index_rule_bindings}/*.json (protojson), each folder in file name order.
func ReadSchemas() (*Schemas, error) {
	const dir = "schema"
	s := &Schemas{}
	if err := readAll(dir+"/groups", func() proto.Message {
		g := &commonv1.Group{}
		s.Groups = append(s.Groups, g)
		return g
	}); err != nil {
		return nil, err
	}
	if err := readAll(dir+"/traces", func() proto.Message {
		t := &databasev1.Trace{}
		s.Traces = append(s.Traces, t)
		return t
	}); err != nil {
		return nil, err
	}
	if err := readAll(dir+"/index_rules", func() proto.Message {
		r := &databasev1.IndexRule{}
		s.IndexRules = append(s.IndexRules, r)
		return r
	}); err != nil {
		return nil, err
	}
	if err := readAll(dir+"/index_rule_bindings", func() proto.Message {
		b := &databasev1.IndexRuleBinding{}
		s.Bindings = append(s.Bindings, b)
		return b
	}); err != nil {
		return nil, err
	}
	return s, nil
}

func readAll(dir string, next func() proto.Message) error {
	files, err := tracetest.Glob(dir + "/*.json")
	if err != nil {
		return errors.Wrap(err, "helpers")
	}
	for _, f := range files {
		b, err := tracetest.ReadFile(f)
		if err != nil {
			return errors.Wrap(err, "helpers")
		}
		if err := protojson.Unmarshal(b, next()); err != nil {
			return errors.Wrapf(err, "helpers: parse %s", f)
		}
	}
	return nil
}

// ForGroup returns a copy of the resources of group `from`, moved to group `to`: a fresh group
// with the same options, traces, rules and bindings. Tests use it to get a private copy of a
// fixture group that they may write to or change.
func (s *Schemas) ForGroup(from, to string) *Schemas {
	out := &Schemas{}
	for _, g := range s.Groups {
		if g.GetMetadata().GetName() == from {
			c := proto.Clone(g).(*commonv1.Group)
			c.Metadata.Name = to
			out.Groups = append(out.Groups, c)
		}
	}
	for _, t := range s.Traces {
		if t.GetMetadata().GetGroup() == from {
			c := proto.Clone(t).(*databasev1.Trace)
			c.Metadata.Group = to
			out.Traces = append(out.Traces, c)
		}
	}
	for _, r := range s.IndexRules {
		if r.GetMetadata().GetGroup() == from {
			c := proto.Clone(r).(*databasev1.IndexRule)
			c.Metadata.Group = to
			out.IndexRules = append(out.IndexRules, c)
		}
	}
	for _, b := range s.Bindings {
		if b.GetMetadata().GetGroup() == from {
			c := proto.Clone(b).(*databasev1.IndexRuleBinding)
			c.Metadata.Group = to
			out.Bindings = append(out.Bindings, c)
		}
	}
	return out
}

// LoadSchemas creates every schema fixture through the registry services, in the order groups,
// traces, index rules, bindings; resources that already exist are left as they are.
func LoadSchemas(ctx context.Context, conn *grpc.ClientConn) error {
	s, err := ReadSchemas()
	if err != nil {
		return err
	}
	return CreateSchemas(ctx, conn, s, true)
}

// CreateSchemas creates the resources of s in order and waits until the server has bound the
// rules of every binding (AwaitBindings), so that the spans written next get their index entries.
// With ignoreExisting, AlreadyExists is not an error.
func CreateSchemas(ctx context.Context, conn *grpc.ClientConn, s *Schemas, ignoreExisting bool) error {
	check := func(what string, err error) error {
		if err == nil || (ignoreExisting && status.Code(err) == codes.AlreadyExists) {
			return nil
		}
		return errors.Wrapf(err, "helpers: create %s", what)
	}
	groups := databasev1.NewGroupRegistryServiceClient(conn)
	for _, g := range s.Groups {
		_, err := groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g})
		if err := check("group "+g.GetMetadata().GetName(), err); err != nil {
			return err
		}
	}
	traces := databasev1.NewTraceRegistryServiceClient(conn)
	for _, t := range s.Traces {
		_, err := traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: t})
		if err := check("trace "+t.GetMetadata().GetGroup()+"/"+t.GetMetadata().GetName(), err); err != nil {
			return err
		}
	}
	rules := databasev1.NewIndexRuleRegistryServiceClient(conn)
	for _, r := range s.IndexRules {
		_, err := rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r})
		if err := check("index rule "+r.GetMetadata().GetGroup()+"/"+r.GetMetadata().GetName(), err); err != nil {
			return err
		}
	}
	bindings := databasev1.NewIndexRuleBindingRegistryServiceClient(conn)
	for _, b := range s.Bindings {
		_, err := bindings.Create(ctx, &databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: b})
		if err := check("index rule binding "+b.GetMetadata().GetGroup()+"/"+b.GetMetadata().GetName(), err); err != nil {
			return err
		}
	}
	return AwaitBindings(ctx, conn, s.Bindings)
}

// AwaitBindings waits until the server has applied the bindings: until a query of each binding's
// trace ordered by each of its rules no longer answers that the trace or the rule is unknown.
// Schema events reach the server's trace service after the registry call returns, in the
// registry's order; a span written while its trace is loaded but its binding is not yet applied
// gets no entries in that binding's indexes, and ordered queries would miss it. Any other answer
// (the query succeeds, the rule cannot order, the server serves no traces) ends the wait for that
// rule. It gives up after WriteRetryTimeout.
func AwaitBindings(ctx context.Context, conn *grpc.ClientConn, bindings []*databasev1.IndexRuleBinding) error {
	traces := tracev1.NewTraceServiceClient(conn)
	for _, b := range bindings {
		if b.GetSubject().GetCatalog() != commonv1.Catalog_CATALOG_TRACE {
			continue
		}
		for _, rule := range b.GetRules() {
			if err := awaitRuleBound(ctx, traces, b.GetMetadata().GetGroup(), b.GetSubject().GetName(), rule); err != nil {
				return err
			}
		}
	}
	return nil
}

// awaitRuleBound queries group/trace ordered by rule until the answer shows the rule bound.
func awaitRuleBound(ctx context.Context, traces tracev1.TraceServiceClient, group, trace, rule string) error {
	deadline := time.Now().Add(WriteRetryTimeout)
	notBound := "index rule " + rule + " not found"
	for {
		now := time.Now()
		_, err := traces.Query(ctx, &tracev1.QueryRequest{
			Groups:    []string{group},
			Name:      trace,
			TimeRange: &modelv1.TimeRange{Begin: timestamppb.New(now.Add(-time.Minute)), End: timestamppb.New(now)},
			OrderBy:   &modelv1.QueryOrder{IndexRuleName: rule, Sort: modelv1.Sort_SORT_DESC},
			Limit:     1,
		})
		code := status.Code(err)
		pending := code == codes.NotFound || (code == codes.InvalidArgument && strings.Contains(status.Convert(err).Message(), notBound))
		if !pending {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.Errorf("helpers: %s/%s still has no index rule %s after %s: %v", group, trace, rule, WriteRetryTimeout, err)
		}
		select {
		case <-ctx.Done():
			return errors.Wrapf(ctx.Err(), "helpers: wait for index rule %s of %s/%s", rule, group, trace)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// CreateGroupCopy creates a private copy of fixture group `from` named `to` (see ForGroup).
func CreateGroupCopy(ctx context.Context, conn *grpc.ClientConn, from, to string) error {
	s, err := ReadSchemas()
	if err != nil {
		return err
	}
	c := s.ForGroup(from, to)
	if len(c.Groups) == 0 {
		return errors.Errorf("helpers: no fixture group %s", from)
	}
	return CreateSchemas(ctx, conn, c, false)
}
