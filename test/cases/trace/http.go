// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	g "github.com/onsi/ginkgo/v2"
	gm "github.com/onsi/gomega"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"

	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// RegisterHTTPQueryCases declares the table again, each query sent to the HTTP gateway as
// upstream's clients send it (POST /api/v1/trace/data, the QueryRequest in protojson) and its
// answer decoded from protojson: the gateway must answer what gRPC answers. httpAddr returns the
// host:port of the server's HTTP listener.
func RegisterHTTPQueryCases(httpAddr func() string, base func() time.Time) {
	args := []any{func(c queryCase) { runHTTPCase(httpAddr(), base(), c) }}
	for _, e := range queryEntries() {
		args = append(args, e)
	}
	g.DescribeTable("trace queries over HTTP", args...)
}

func runHTTPCase(addr string, base time.Time, c queryCase) {
	body, err := protojson.Marshal(c.request(base))
	gm.Expect(err).NotTo(gm.HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/trace/data", bytes.NewReader(body))
	gm.Expect(err).NotTo(gm.HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	gm.Expect(err).NotTo(gm.HaveOccurred())
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	gm.Expect(err).NotTo(gm.HaveOccurred())

	if c.wantErr != codes.OK {
		gm.Expect(resp.StatusCode).To(gm.Equal(runtime.HTTPStatusFromCode(c.wantErr)), "body: %s", data)
		st := &status.Status{}
		gm.Expect(protojson.Unmarshal(data, st)).To(gm.Succeed(), "error body: %s", data)
		gm.Expect(codes.Code(st.GetCode())).To(gm.Equal(c.wantErr), "error: %s", data)
		return
	}
	gm.Expect(resp.StatusCode).To(gm.Equal(http.StatusOK), "body: %s", data)
	got := &tracev1.QueryResponse{}
	gm.Expect(protojson.Unmarshal(data, got)).To(gm.Succeed(), "body: %s", data)
	sortSpans(got)
	gm.Expect(cmp.Diff(c.response(base), got, protocmp.Transform())).To(gm.BeEmpty(), "-want +got")
}
