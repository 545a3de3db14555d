// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/test/testenv"
	"github.com/apache/skywalking-banyandb/test/testenv/metarepo"
)

// etcdURL is the client URL of the embedded etcd that the package's tests share.
var etcdURL string

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWithEtcd(m, func(srv *embeddedetcd.Server) { etcdURL = srv.ClientURL() }))
}

// startHTTP serves over a fresh etcd namespace on 127.0.0.1:0 and returns the base URL.
func startHTTP(t *testing.T, healthy func() bool, opts ...Option) (Server, string) {
	t.Helper()
	srv := NewServer(metarepo.Open(t, etcdURL), healthy, nil, opts...)
	if err := srv.FlagSet().Parse([]string{"--http-host=127.0.0.1", "--http-port=0"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := srv.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	t.Cleanup(srv.GracefulStop)
	return srv, "http://" + srv.Addr()
}

func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q", method, url, ct)
	}
	return resp.StatusCode, data
}

func fixture(t *testing.T, kind, file string) string {
	t.Helper()
	return string(testenv.ReadFixture(t, "schema/"+kind+"/"+file))
}

func TestHealthz(t *testing.T) {
	var healthy atomic.Bool
	_, base := startHTTP(t, healthy.Load)
	// As the gateway's health endpoint answers for a gRPC health check that is not SERVING.
	code, body := do(t, http.MethodGet, base+"/api/healthz", "")
	wantError(t, code, body, http.StatusServiceUnavailable, 14, "status:NOT_SERVING")
	healthy.Store(true)
	code, body = do(t, http.MethodGet, base+"/api/healthz", "")
	if code != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"SERVING"}` {
		t.Fatalf("serving: %d %s", code, body)
	}
}

func TestAPIVersion(t *testing.T) {
	_, base := startHTTP(t, nil)
	code, body := do(t, http.MethodGet, base+"/api/v1/common/api/version", "")
	var got struct {
		Version struct{ Version, Revision string }
	}
	if err := json.Unmarshal(body, &got); err != nil || code != http.StatusOK || got.Version.Version != "0.10" {
		t.Fatalf("version: %d %s (%v)", code, body, err)
	}
}

// apiError is the error body: a google.rpc.Status in JSON.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func wantError(t *testing.T, code int, body []byte, wantHTTP, wantGRPC int, msg string) {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if code != wantHTTP || e.Code != wantGRPC || !strings.Contains(e.Message, msg) {
		t.Fatalf("want HTTP %d / code %d containing %q, got HTTP %d: %s", wantHTTP, wantGRPC, msg, code, body)
	}
}

func TestRegistryMapping(t *testing.T) {
	_, base := startHTTP(t, nil)
	group := fixture(t, "groups", "test-trace-group.json")
	trace := fixture(t, "traces", "sw.json")
	duration := fixture(t, "index_rules", "duration.json")
	timestamp := fixture(t, "index_rules", "timestamp.json")
	binding := fixture(t, "index_rule_bindings", "sw.json")

	for _, c := range []struct{ path, field, body string }{
		{"/api/v1/group/schema", "group", group},
		{"/api/v1/trace/schema", "trace", trace},
		{"/api/v1/index-rule/schema", "index_rule", duration},
		{"/api/v1/index-rule/schema", "index_rule", timestamp},
		{"/api/v1/index-rule-binding/schema", "index_rule_binding", binding},
	} {
		code, body := do(t, http.MethodPost, base+c.path, fmt.Sprintf(`{%q: %s}`, c.field, c.body))
		if code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", c.path, code, body)
		}
	}

	code, body := do(t, http.MethodGet, base+"/api/v1/trace/schema/test-trace-group/sw", "")
	var got databasev1.TraceRegistryServiceGetResponse
	if code != http.StatusOK {
		t.Fatalf("GET trace: %d %s", code, body)
	}
	if err := protojson.Unmarshal(body, &got); err != nil || got.GetTrace().GetTraceIdTagName() != "trace_id" ||
		got.GetTrace().GetMetadata().GetModRevision() == 0 {
		t.Fatalf("GET trace: %s (%v)", body, err)
	}

	lists := map[string]int{
		"/api/v1/group/schema/lists":                               1,
		"/api/v1/trace/schema/lists/test-trace-group":              1,
		"/api/v1/index-rule/schema/lists/test-trace-group":         2,
		"/api/v1/index-rule-binding/schema/lists/test-trace-group": 1,
	}
	for path, want := range lists {
		code, body = do(t, http.MethodGet, base+path, "")
		var raw map[string][]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil || code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		for _, items := range raw {
			if len(items) != want {
				t.Fatalf("GET %s: %d items, want %d: %s", path, len(items), want, body)
			}
		}
	}
	for _, path := range []string{
		"/api/v1/group/schema/test-trace-group",
		"/api/v1/index-rule/schema/test-trace-group/duration",
		"/api/v1/index-rule-binding/schema/test-trace-group/sw-index-rule-binding",
	} {
		if code, body = do(t, http.MethodGet, base+path, ""); code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
	}

	// Errors carry the gRPC status: NotFound -> 404, InvalidArgument -> 400, AlreadyExists -> 409.
	code, body = do(t, http.MethodGet, base+"/api/v1/trace/schema/test-trace-group/nope", "")
	wantError(t, code, body, http.StatusNotFound, 5, "nope")
	code, body = do(t, http.MethodPost, base+"/api/v1/group/schema", fmt.Sprintf(`{"group": %s}`, group))
	wantError(t, code, body, http.StatusConflict, 6, "already exists")
	code, body = do(t, http.MethodPost, base+"/api/v1/trace/schema", `{"trace": {"metadata": {"group": "test-trace-group", "name": "x"}}}`)
	wantError(t, code, body, http.StatusBadRequest, 3, "trace.tags: must not be empty")
	code, body = do(t, http.MethodPost, base+"/api/v1/trace/schema", `{"trace": `)
	wantError(t, code, body, http.StatusBadRequest, 3, "unexpected EOF")

	// PUT takes group and name from the path.
	updated := strings.Replace(duration, `"TYPE_TREE"`, `"TYPE_INVERTED"`, 1)
	updated = strings.Replace(updated, `"group": "test-trace-group"`, `"group": "ignored"`, 1)
	code, body = do(t, http.MethodPut, base+"/api/v1/index-rule/schema/test-trace-group/duration", fmt.Sprintf(`{"index_rule": %s}`, updated))
	if code != http.StatusOK {
		t.Fatalf("PUT rule: %d %s", code, body)
	}
	code, body = do(t, http.MethodGet, base+"/api/v1/index-rule/schema/test-trace-group/duration", "")
	if code != http.StatusOK || !strings.Contains(string(body), "TYPE_INVERTED") {
		t.Fatalf("after PUT: %d %s", code, body)
	}

	code, body = do(t, http.MethodDelete, base+"/api/v1/trace/schema/test-trace-group/sw", "")
	if code != http.StatusOK || !strings.Contains(string(body), `"deleted":true`) {
		t.Fatalf("DELETE trace: %d %s", code, body)
	}
	code, body = do(t, http.MethodDelete, base+"/api/v1/trace/schema/test-trace-group/sw", "")
	if code != http.StatusOK || !strings.Contains(string(body), `"deleted":false`) {
		t.Fatalf("DELETE missing trace: %d %s", code, body)
	}
	code, body = do(t, http.MethodDelete, base+"/api/v1/group/schema/test-trace-group", "")
	if code != http.StatusOK || !strings.Contains(string(body), `"indexRuleBindings":["sw-index-rule-binding"]`) {
		t.Fatalf("DELETE group: %d %s", code, body)
	}
}

func TestFlags(t *testing.T) {
	srv := NewServer(metarepo.New(nil), nil, nil)
	fs := srv.FlagSet()
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := srv.(*server).opts; got != (options{port: DefaultPort}) {
		t.Fatalf("defaults %+v", got)
	}
	if fs.Lookup("http-host").DefValue != "" || fs.Lookup("http-port").DefValue != "17913" || srv.Name() != "http" {
		t.Fatal("unexpected flag defaults or name")
	}
	srv = NewServer(metarepo.New(nil), nil, nil)
	if err := srv.FlagSet().Parse([]string{"--http-port=65536"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Validate(); !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), "--http-port") {
		t.Fatalf("want an --http-port error, got %v", err)
	}
}

func TestGracefulStop(t *testing.T) {
	srv, base := startHTTP(t, nil)
	stopped := srv.Serve()
	srv.GracefulStop()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("not stopped")
	}
	if _, err := http.Get(base + "/api/healthz"); err == nil { //nolint:noctx // a plain probe
		t.Fatal("still answering after GracefulStop")
	}
	srv.GracefulStop()
}

// TestEveryUpstreamPath walks every path of upstream's gateway for the services we implement,
// with the method and body upstream takes, over real fixtures, and checks each answer.
func TestEveryUpstreamPath(t *testing.T) {
	_, base := startHTTP(t, nil)
	group := fixture(t, "groups", "test-trace-group.json")
	trace := fixture(t, "traces", "sw.json")
	rule := fixture(t, "index_rules", "duration.json")
	timestamp := fixture(t, "index_rules", "timestamp.json")
	binding := fixture(t, "index_rule_bindings", "sw.json")
	const g = "test-trace-group"
	steps := []struct {
		method, path, body string
		want               int
		contains           string
	}{
		{http.MethodGet, "/api/v1/common/api/version", "", http.StatusOK, `"version":"0.10"`},
		{http.MethodPost, "/api/v1/group/schema", fmt.Sprintf(`{"group": %s}`, group), http.StatusOK, "modRevision"},
		{http.MethodGet, "/api/v1/group/schema/" + g, "", http.StatusOK, `"name":"test-trace-group"`},
		{http.MethodGet, "/api/v1/group/schema/lists", "", http.StatusOK, `"name":"test-trace-group"`},
		{http.MethodPut, "/api/v1/group/schema/" + g, fmt.Sprintf(`{"group": %s}`, group), http.StatusOK, "modRevision"},
		{http.MethodPost, "/api/v1/trace/schema", fmt.Sprintf(`{"trace": %s}`, trace), http.StatusOK, "modRevision"},
		{http.MethodGet, "/api/v1/trace/schema/" + g + "/sw", "", http.StatusOK, `"traceIdTagName":"trace_id"`},
		{http.MethodGet, "/api/v1/trace/schema/lists/" + g, "", http.StatusOK, `"name":"sw"`},
		{http.MethodPut, "/api/v1/trace/schema/" + g + "/sw", fmt.Sprintf(`{"trace": %s}`, trace), http.StatusOK, `"modRevision":"0"`},
		{http.MethodPost, "/api/v1/index-rule/schema", fmt.Sprintf(`{"index_rule": %s}`, rule), http.StatusOK, "modRevision"},
		{http.MethodPost, "/api/v1/index-rule/schema", fmt.Sprintf(`{"index_rule": %s}`, timestamp), http.StatusOK, "modRevision"},
		{http.MethodGet, "/api/v1/index-rule/schema/" + g + "/duration", "", http.StatusOK, `"name":"duration"`},
		{http.MethodGet, "/api/v1/index-rule/schema/lists/" + g, "", http.StatusOK, `"name":"duration"`},
		{http.MethodPut, "/api/v1/index-rule/schema/" + g + "/duration", fmt.Sprintf(`{"indexRule": %s}`, rule), http.StatusOK, "modRevision"},
		{http.MethodPost, "/api/v1/index-rule-binding/schema", fmt.Sprintf(`{"index_rule_binding": %s}`, binding), http.StatusOK, "modRevision"},
		{http.MethodGet, "/api/v1/index-rule-binding/schema/" + g + "/sw-index-rule-binding", "", http.StatusOK, `"name":"sw-index-rule-binding"`},
		{http.MethodGet, "/api/v1/index-rule-binding/schema/lists/" + g, "", http.StatusOK, `"name":"sw-index-rule-binding"`},
		{http.MethodPut, "/api/v1/index-rule-binding/schema/" + g + "/sw-index-rule-binding",
			fmt.Sprintf(`{"indexRuleBinding": %s}`, binding), http.StatusOK, "modRevision"},
		{http.MethodDelete, "/api/v1/index-rule-binding/schema/" + g + "/sw-index-rule-binding", "", http.StatusOK, `"deleted":true`},
		{http.MethodDelete, "/api/v1/index-rule/schema/" + g + "/duration", "", http.StatusOK, `"deleted":true`},
		{http.MethodDelete, "/api/v1/trace/schema/" + g + "/sw", "", http.StatusOK, `"deleted":true`},
		{http.MethodDelete, "/api/v1/group/schema/" + g, "", http.StatusOK, `"schemaInfo":`},
		{http.MethodGet, "/api/v1/group/schema/" + g, "", http.StatusNotFound, `"code":5`},
		// No route: the gateway's own answers.
		{http.MethodGet, "/api/v1/nope", "", http.StatusNotFound, `"code":5`},
		{http.MethodPatch, "/api/v1/group/schema/" + g, "", http.StatusNotImplemented, `"code":12`},
		// Without a TraceService the trace data path has no handler.
		{http.MethodPost, "/api/v1/trace/data", "{}", http.StatusNotFound, `"code":5`},
	}
	for _, st := range steps {
		code, body := do(t, st.method, base+st.path, st.body)
		if code != st.want || !strings.Contains(string(body), st.contains) {
			t.Fatalf("%s %s: HTTP %d %s; want HTTP %d containing %s", st.method, st.path, code, body, st.want, st.contains)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	_, base := startHTTP(t, nil)
	big := fmt.Sprintf(`{"group": {"metadata": {"name": "g"}}, "x": %q}`, strings.Repeat("a", maxBodyBytes))
	code, body := do(t, http.MethodPost, base+"/api/v1/group/schema", big)
	wantError(t, code, body, http.StatusBadRequest, 3, "too large")
	// The server goes on answering.
	if code, body = do(t, http.MethodGet, base+"/api/v1/group/schema/lists", ""); code != http.StatusOK {
		t.Fatalf("after a refused body: %d %s", code, body)
	}
}

// queryRecorder is a TraceService that answers one trace and keeps the request it got, so that a
// test sees what the gateway decoded.
type queryRecorder struct {
	tracev1.UnimplementedTraceServiceServer
	got   chan *tracev1.QueryRequest
	panic bool
}

func (q *queryRecorder) Query(_ context.Context, req *tracev1.QueryRequest) (*tracev1.QueryResponse, error) {
	if q.panic {
		panic("query exploded")
	}
	q.got <- req
	return &tracev1.QueryResponse{Traces: []*tracev1.Trace{{TraceId: "t1", Spans: []*tracev1.Span{{Span: []byte("span")}}}}}, nil
}

func TestTraceQuery(t *testing.T) {
	rec := &queryRecorder{got: make(chan *tracev1.QueryRequest, 1)}
	_, base := startHTTP(t, nil, WithTraceQuery(rec))
	code, body := do(t, http.MethodPost, base+"/api/v1/trace/data",
		`{"groups": ["test-trace-group"], "name": "sw", "limit": 5, "tagProjection": ["trace_id"], "unknown": 1}`)
	if code != http.StatusOK {
		t.Fatalf("POST /api/v1/trace/data: %d %s", code, body)
	}
	req := <-rec.got
	if req.GetName() != "sw" || len(req.GetGroups()) != 1 || req.GetGroups()[0] != "test-trace-group" || req.GetLimit() != 5 ||
		len(req.GetTagProjection()) != 1 {
		t.Fatalf("the service got %v", req)
	}
	var resp tracev1.QueryResponse
	if err := protojson.Unmarshal(body, &resp); err != nil || len(resp.GetTraces()) != 1 || resp.GetTraces()[0].GetTraceId() != "t1" ||
		string(resp.GetTraces()[0].GetSpans()[0].GetSpan()) != "span" {
		t.Fatalf("response %s (%v)", body, err)
	}
	// The write stream has no HTTP mapping, as upstream.
	code, body = do(t, http.MethodPost, base+"/api/v1/trace/write", "{}")
	wantError(t, code, body, http.StatusNotFound, 5, "Not Found")
}

func TestPanicsAnswerInternal(t *testing.T) {
	_, base := startHTTP(t, nil, WithTraceQuery(&queryRecorder{panic: true}))
	code, body := do(t, http.MethodPost, base+"/api/v1/trace/data", `{"name": "sw"}`)
	wantError(t, code, body, http.StatusInternalServerError, 13, "internal error")
	if code, body = do(t, http.MethodGet, base+"/api/v1/common/api/version", ""); code != http.StatusOK {
		t.Fatalf("after a panic: %d %s", code, body)
	}
}

// snapshotter answers a fixed directory or error.
type snapshotter struct {
	dir string
	err error
}

func (s snapshotter) Snapshot(context.Context) (string, error) { return s.dir, s.err }

func TestSnapshot(t *testing.T) {
	_, base := startHTTP(t, nil, WithSnapshot(snapshotter{dir: "/data/snapshots/1"}))
	code, body := do(t, http.MethodPost, base+"/api/v1/trace/snapshot", "")
	if code != http.StatusOK || string(body) != `{"dir":"/data/snapshots/1"}` {
		t.Fatalf("snapshot: %d %s", code, body)
	}
	_, base = startHTTP(t, nil, WithSnapshot(snapshotter{err: errors.New("disk full")}))
	code, body = do(t, http.MethodPost, base+"/api/v1/trace/snapshot", "")
	wantError(t, code, body, http.StatusInternalServerError, 13, "disk full")
	// Without a Snapshotter the path is not served.
	_, base = startHTTP(t, nil)
	code, body = do(t, http.MethodPost, base+"/api/v1/trace/snapshot", "")
	wantError(t, code, body, http.StatusNotFound, 5, "Not Found")
}
