// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package hostile_test

import (
	"net/http"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// badNames are names the registry must refuse: each could escape or break the group's directory.
var badNames = map[string]string{
	"dot":              ".",
	"dot dot":          "..",
	"parent path":      "../x",
	"slash":            "a/b",
	"backslash":        `a\b`,
	"NUL":              "a\x00b",
	"newline":          "a\nb",
	"256 bytes":        strings.Repeat("n", 256),
	"only a separator": "/",
}

func expectInvalidArgument(err error, what string) {
	GinkgoHelper()
	Expect(status.Code(err)).To(Equal(codes.InvalidArgument), "%s: %v", what, err)
}

var _ = Describe("Names", Ordered, func() {
	var s *server
	BeforeAll(func() { s = startServer(helpers.ServerOptions{}) })
	dumpOnFailure(func() *server { return s })

	It("refuses a bad group, trace, index rule or binding name on every registry call", func(ctx SpecContext) {
		sc := fixtureSchemas()
		var group *commonv1.Group
		for _, g := range sc.Groups {
			if g.GetMetadata().GetName() == "test-trace-group" {
				group = g
			}
		}
		Expect(group).NotTo(BeNil())
		for label, bad := range badNames {
			g := proto.Clone(group).(*commonv1.Group)
			g.Metadata.Name = bad
			_, err := s.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g})
			expectInvalidArgument(err, "group Create "+label)
			_, err = s.groups.Update(ctx, &databasev1.GroupRegistryServiceUpdateRequest{Group: g})
			expectInvalidArgument(err, "group Update "+label)
			_, err = s.groups.Get(ctx, &databasev1.GroupRegistryServiceGetRequest{Group: bad})
			expectInvalidArgument(err, "group Get "+label)
			_, err = s.groups.Exist(ctx, &databasev1.GroupRegistryServiceExistRequest{Group: bad})
			expectInvalidArgument(err, "group Exist "+label)
			_, err = s.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: bad})
			expectInvalidArgument(err, "group Delete "+label)

			for _, md := range []*commonv1.Metadata{{Group: bad, Name: "sw"}, {Group: "test-trace-group", Name: bad}} {
				t := proto.Clone(sc.Traces[0]).(*databasev1.Trace)
				t.Metadata = md
				_, err = s.traces.Create(ctx, &databasev1.TraceRegistryServiceCreateRequest{Trace: t})
				expectInvalidArgument(err, "trace Create "+label)
				_, err = s.traces.Update(ctx, &databasev1.TraceRegistryServiceUpdateRequest{Trace: t})
				expectInvalidArgument(err, "trace Update "+label)
				_, err = s.traces.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: md})
				expectInvalidArgument(err, "trace Get "+label)
				_, err = s.traces.Exist(ctx, &databasev1.TraceRegistryServiceExistRequest{Metadata: md})
				expectInvalidArgument(err, "trace Exist "+label)
				_, err = s.traces.Delete(ctx, &databasev1.TraceRegistryServiceDeleteRequest{Metadata: md})
				expectInvalidArgument(err, "trace Delete "+label)

				r := proto.Clone(sc.IndexRules[0]).(*databasev1.IndexRule)
				r.Metadata = md
				_, err = s.rules.Create(ctx, &databasev1.IndexRuleRegistryServiceCreateRequest{IndexRule: r})
				expectInvalidArgument(err, "index rule Create "+label)
				_, err = s.rules.Update(ctx, &databasev1.IndexRuleRegistryServiceUpdateRequest{IndexRule: r})
				expectInvalidArgument(err, "index rule Update "+label)
				_, err = s.rules.Get(ctx, &databasev1.IndexRuleRegistryServiceGetRequest{Metadata: md})
				expectInvalidArgument(err, "index rule Get "+label)
				_, err = s.rules.Exist(ctx, &databasev1.IndexRuleRegistryServiceExistRequest{Metadata: md})
				expectInvalidArgument(err, "index rule Exist "+label)
				_, err = s.rules.Delete(ctx, &databasev1.IndexRuleRegistryServiceDeleteRequest{Metadata: md})
				expectInvalidArgument(err, "index rule Delete "+label)

				b := proto.Clone(sc.Bindings[0]).(*databasev1.IndexRuleBinding)
				b.Metadata = md
				_, err = s.bindings.Create(ctx, &databasev1.IndexRuleBindingRegistryServiceCreateRequest{IndexRuleBinding: b})
				expectInvalidArgument(err, "binding Create "+label)
				_, err = s.bindings.Update(ctx, &databasev1.IndexRuleBindingRegistryServiceUpdateRequest{IndexRuleBinding: b})
				expectInvalidArgument(err, "binding Update "+label)
				_, err = s.bindings.Get(ctx, &databasev1.IndexRuleBindingRegistryServiceGetRequest{Metadata: md})
				expectInvalidArgument(err, "binding Get "+label)
				_, err = s.bindings.Exist(ctx, &databasev1.IndexRuleBindingRegistryServiceExistRequest{Metadata: md})
				expectInvalidArgument(err, "binding Exist "+label)
				_, err = s.bindings.Delete(ctx, &databasev1.IndexRuleBindingRegistryServiceDeleteRequest{Metadata: md})
				expectInvalidArgument(err, "binding Delete "+label)
			}
			_, err = s.traces.List(ctx, &databasev1.TraceRegistryServiceListRequest{Group: bad})
			expectInvalidArgument(err, "trace List "+label)
			_, err = s.rules.List(ctx, &databasev1.IndexRuleRegistryServiceListRequest{Group: bad})
			expectInvalidArgument(err, "index rule List "+label)
			_, err = s.bindings.List(ctx, &databasev1.IndexRuleBindingRegistryServiceListRequest{Group: bad})
			expectInvalidArgument(err, "binding List "+label)
		}
		list, err := s.groups.List(ctx, &databasev1.GroupRegistryServiceListRequest{})
		Expect(err).NotTo(HaveOccurred())
		Expect(list.GetGroup()).To(BeEmpty(), "no bad group was stored")
	})

	It("keeps every other group's data whatever group is created and deleted", func(ctx SpecContext) {
		s.createGroup(ctx, "test-trace-group", "victim")
		now := time.Now().Add(-time.Minute)
		md := s.writeFirst(ctx, "victim", "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return swSpan(md, "v_001", "a", "svc", 10, now)
		})
		Expect(s.queryByID(ctx, "victim", "sw", "v_001")).To(HaveLen(1))

		sc := fixtureSchemas()
		for _, bad := range []string{".", ".."} {
			g := proto.Clone(sc.Groups[0]).(*commonv1.Group)
			g.Metadata.Name = bad
			_, err := s.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g})
			expectInvalidArgument(err, "Create "+bad)
			_, err = s.groups.Delete(ctx, &databasev1.GroupRegistryServiceDeleteRequest{Group: bad})
			expectInvalidArgument(err, "Delete "+bad)
		}
		if s.HTTPAddr != "" {
			for _, path := range []string{"%2e", "%2e%2e", "%2E%2E"} {
				req, err := http.NewRequestWithContext(ctx, http.MethodDelete, "http://"+s.HTTPAddr+"/api/v1/group/schema/"+path, nil)
				Expect(err).NotTo(HaveOccurred())
				resp, err := http.DefaultClient.Do(req)
				Expect(err).NotTo(HaveOccurred())
				Expect(resp.Body.Close()).To(Succeed())
				Expect(resp.StatusCode).To(Equal(http.StatusBadRequest), "HTTP DELETE %s", path)
			}
		}
		_, err := os.Stat(s.dataRoot() + "/victim")
		Expect(err).NotTo(HaveOccurred(), "the victim group's directory is still there")

		// The group keeps taking writes, and everything survives a restart.
		Expect(s.writeStatuses(ctx, swSpan(md, "v_002", "a", "svc", 20, now.Add(time.Second)))).
			To(Equal([]string{modelv1.Status_STATUS_SUCCEED.String()}))
		s.restart()
		Expect(s.queryByID(ctx, "victim", "sw", "v_001")).To(HaveLen(1))
		Expect(s.queryByID(ctx, "victim", "sw", "v_002")).To(HaveLen(1))
	})

	It("refuses a group of more shards than a node can hold tables for", func(ctx SpecContext) {
		// A million shards were accepted, and writes of a few thousand traces to such a group
		// opened a Pebble database per trace until the node ran out of descriptors and crashed.
		g := proto.Clone(fixtureSchemas().Groups[0]).(*commonv1.Group)
		g.Metadata.Name = "million-shards"
		g.ResourceOpts.ShardNum = 1_000_000
		_, err := s.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g})
		expectInvalidArgument(err, "Create with a million shards")
		Expect(err.Error()).To(ContainSubstring("at most 256"))
		g.ResourceOpts.ShardNum = 256
		_, err = s.groups.Create(ctx, &databasev1.GroupRegistryServiceCreateRequest{Group: g})
		Expect(err).NotTo(HaveOccurred(), "256 shards is allowed")
		g.ResourceOpts.ShardNum = 257
		_, err = s.groups.Update(ctx, &databasev1.GroupRegistryServiceUpdateRequest{Group: g})
		expectInvalidArgument(err, "Update to 257 shards")
	})
})
