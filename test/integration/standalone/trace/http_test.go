// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// The HTTP gateway of the shared server answers what its gRPC API answers (the query table runs
// over HTTP too, see query_test.go).
var _ = Describe("The HTTP gateway", func() {
	var ctx context.Context
	BeforeEach(func() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), setupTimeout)
		DeferCleanup(cancel)
	})

	call := func(method, path string) (int, []byte) {
		GinkgoHelper()
		req, err := http.NewRequestWithContext(ctx, method, "http://"+shared.HTTPAddr+path, nil)
		Expect(err).NotTo(HaveOccurred())
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Header.Get("Content-Type")).To(Equal("application/json"))
		return resp.StatusCode, body
	}

	It("reports health", func() {
		code, body := call(http.MethodGet, "/api/healthz")
		Expect(code).To(Equal(http.StatusOK))
		Expect(strings.TrimSpace(string(body))).To(Equal(`{"status":"SERVING"}`))
	})

	It("serves the registry as gRPC does", func() {
		code, body := call(http.MethodGet, "/api/v1/group/schema/lists")
		Expect(code).To(Equal(http.StatusOK), string(body))
		overHTTP := &databasev1.GroupRegistryServiceListResponse{}
		Expect(protojson.Unmarshal(body, overHTTP)).To(Succeed())
		overGRPC, err := databasev1.NewGroupRegistryServiceClient(sharedConn).List(ctx, &databasev1.GroupRegistryServiceListRequest{})
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(overGRPC, overHTTP, protocmp.Transform())).To(BeEmpty())

		code, body = call(http.MethodGet, "/api/v1/trace/schema/test-trace-group/sw")
		Expect(code).To(Equal(http.StatusOK), string(body))
		trace := &databasev1.TraceRegistryServiceGetResponse{}
		Expect(protojson.Unmarshal(body, trace)).To(Succeed())
		want, err := databasev1.NewTraceRegistryServiceClient(sharedConn).Get(ctx,
			&databasev1.TraceRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: "test-trace-group", Name: "sw"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(want, trace, protocmp.Transform())).To(BeEmpty())

		code, body = call(http.MethodGet, "/api/v1/trace/schema/test-trace-group/nope")
		Expect(code).To(Equal(http.StatusNotFound), string(body))
	})

	It("takes a snapshot of the trace data", func() {
		code, body := call(http.MethodPost, "/api/v1/trace/snapshot")
		Expect(code).To(Equal(http.StatusOK), string(body))
		var got struct{ Dir string }
		Expect(json.Unmarshal(body, &got)).To(Succeed())
		Expect(strings.HasPrefix(got.Dir, shared.Dir+string(filepath.Separator))).To(BeTrue(), "snapshot %s outside %s", got.Dir, shared.Dir)
		st, err := os.Stat(got.Dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.IsDir()).To(BeTrue())
	})
})
