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
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/embeddedetcd"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

var etcdURL string

func TestMain(m *testing.M) {
	os.Exit(runWithEtcd(m))
}

func runWithEtcd(m *testing.M) int {
	if err := logger.Init(logger.Logging{Level: "warn"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "liaison-http-etcd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	clientURL, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	peerURL, err := embeddedetcd.RandomLoopbackURL()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	etcd, err := embeddedetcd.Start(embeddedetcd.Options{Dir: dir, ListenClientURL: clientURL, ListenPeerURL: peerURL})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded etcd:", err)
		return 1
	}
	defer etcd.Close()
	etcdURL = etcd.ClientURL()
	return m.Run()
}

// testRepo is a metadata.Repo over one registry.
type testRepo struct {
	schema.Registry
}

func (r testRepo) GroupRegistry() schema.Group                       { return r.Registry }
func (r testRepo) TraceRegistry() schema.Trace                       { return r.Registry }
func (r testRepo) IndexRuleRegistry() schema.IndexRule               { return r.Registry }
func (r testRepo) IndexRuleBindingRegistry() schema.IndexRuleBinding { return r.Registry }
func (r testRepo) NodeRegistry() schema.Node                         { return r.Registry }

var namespaceSeq atomic.Int64

// startHTTP serves over a fresh etcd namespace on 127.0.0.1:0 and returns the base URL.
func startHTTP(t *testing.T, healthy func() bool) (Server, string) {
	t.Helper()
	reg, err := schema.NewEtcdRegistry(schema.EtcdOptions{
		Endpoints: []string{etcdURL},
		Namespace: fmt.Sprintf("liaison-http-test-%d-%d", time.Now().UnixNano(), namespaceSeq.Add(1)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	srv := NewServer(testRepo{reg}, healthy)
	if err = srv.FlagSet().Parse([]string{"--http-host=127.0.0.1", "--http-port=0"}); err != nil {
		t.Fatal(err)
	}
	if err = srv.Validate(); err != nil {
		t.Fatal(err)
	}
	if err = srv.PreRun(context.Background()); err != nil {
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
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err = os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("go.mod not found")
		}
		dir = filepath.Dir(dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, "..", "shared", "testdata", "schema", kind, file))
	if err != nil {
		t.Skipf("fixture not available: %v", err)
	}
	return string(data)
}

func TestHealthz(t *testing.T) {
	var healthy atomic.Bool
	_, base := startHTTP(t, healthy.Load)
	code, body := do(t, http.MethodGet, base+"/api/healthz", "")
	if code != http.StatusServiceUnavailable || string(body) != `{"status":"NOT_SERVING"}` {
		t.Fatalf("not serving: %d %s", code, body)
	}
	healthy.Store(true)
	code, body = do(t, http.MethodGet, base+"/api/healthz", "")
	if code != http.StatusOK || string(body) != `{"status":"SERVING"}` {
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
	wantError(t, code, body, http.StatusBadRequest, 3, "decode body")

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
	srv := NewServer(testRepo{}, nil)
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
	srv = NewServer(testRepo{}, nil)
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
