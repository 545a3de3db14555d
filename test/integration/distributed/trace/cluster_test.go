// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"bytes"
	"context"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/pkg/errors"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	clusterv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/cluster/v1"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// The fixture groups and trace the suite looks at directly (the case table has its own).
const (
	groupSW      = "test-trace-group"
	groupUpdated = "test-trace-updated"
	groupZipkin  = "zipkinTrace"
	traceSW      = "sw"
	traceZipkin  = "zipkin"
	shardNum     = 2
	queryTimeout = 10 * time.Second
	// promptly bounds how long a write stream of a few spans may take, whatever its outcome.
	promptly = 3 * time.Second
)

// shardOf is the shard of a trace id: FNV-1a 32 of the id modulo the group's shard count (API.md
// §7.1). Every group of the fixtures has two shards.
func shardOf(traceID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(traceID))
	return int(h.Sum32() % shardNum)
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// allTime is a time range that holds every span the suite writes.
func allTime() *modelv1.TimeRange {
	return &modelv1.TimeRange{
		Begin: timestamppb.New(time.Unix(0, 0)),
		End:   timestamppb.New(time.Now().Add(48 * time.Hour).Truncate(time.Millisecond)),
	}
}

func idsCriteria(ids []string) *modelv1.Criteria {
	return &modelv1.Criteria{Exp: &modelv1.Criteria_Condition{Condition: &modelv1.Condition{
		Name: "trace_id", Op: modelv1.Condition_BINARY_OP_IN,
		Value: &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: ids}}},
	}}}
}

// byIDsRequest asks for every span of the traces ids of group/name.
func byIDsRequest(group, name string, ids []string, projection ...string) *tracev1.QueryRequest {
	return &tracev1.QueryRequest{
		Groups:        []string{group},
		Name:          name,
		TimeRange:     allTime(),
		Criteria:      idsCriteria(ids),
		Limit:         uint32(len(ids)),
		TagProjection: projection,
	}
}

// query runs a query through a liaison and returns the response with the spans of each trace
// sorted by their bytes.
func query(conn *grpc.ClientConn, req *tracev1.QueryRequest) (*tracev1.QueryResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	resp, err := tracev1.NewTraceServiceClient(conn).Query(ctx, req)
	if err != nil {
		return nil, err
	}
	sortSpans(resp.GetTraces())
	return resp, nil
}

func sortSpans(traces []*tracev1.Trace) {
	for _, t := range traces {
		sort.SliceStable(t.Spans, func(i, j int) bool { return bytes.Compare(t.Spans[i].GetSpan(), t.Spans[j].GetSpan()) < 0 })
	}
}

// spanIDs is what a set of traces holds: trace id -> its span ids, sorted (duplicates kept, so
// that a span stored twice shows).
type spanIDs map[string][]string

func spanIDsOf(traces []*tracev1.Trace) spanIDs {
	out := make(spanIDs)
	for _, t := range traces {
		for _, s := range t.GetSpans() {
			out[t.GetTraceId()] = append(out[t.GetTraceId()], s.GetSpanId())
		}
	}
	for _, ids := range out {
		sort.Strings(ids)
	}
	return out
}

// queryIDs returns the spans of the traces ids of group/name that a liaison finds.
func queryIDs(conn *grpc.ClientConn, group, name string, ids []string) (spanIDs, error) {
	resp, err := query(conn, byIDsRequest(group, name, ids))
	if err != nil {
		return nil, err
	}
	return spanIDsOf(resp.GetTraces()), nil
}

// queryNode runs a query by trace ids directly on a data node's internal endpoint: the spans of
// those traces that this node holds.
func queryNode(n *helpers.ClusterNode, group, name string, ids []string) (spanIDs, error) {
	conn, err := helpers.Dial(n.Addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	resp, err := clusterv1.NewTraceQueueServiceClient(conn).Query(ctx, byIDsRequest(group, name, ids))
	if err != nil {
		return nil, err
	}
	out := make(spanIDs)
	for _, t := range resp.GetInternalTraces() {
		for _, s := range t.GetSpans() {
			out[t.GetTraceId()] = append(out[t.GetTraceId()], s.GetSpanId())
		}
	}
	for _, ids := range out {
		sort.Strings(ids)
	}
	return out, nil
}

// liaisonNodes returns how many data nodes a liaison sends queries to, as its execution trace
// reports it (tag "nodes"); it fails while a data node has not loaded the sw schema yet.
func liaisonNodes(conn *grpc.ClientConn) (int, error) {
	req := byIDsRequest(groupSW, traceSW, []string{"cluster-suite-probe"})
	req.Trace = true
	resp, err := query(conn, req)
	if err != nil {
		return 0, err
	}
	for _, s := range resp.GetTraceQueryResult().GetSpans() {
		for _, t := range s.GetTags() {
			if t.GetKey() == "nodes" {
				return strconv.Atoi(t.GetValue())
			}
		}
	}
	return 0, errors.New("the execution trace has no \"nodes\" tag")
}

// waitLiaisonNodes waits until a liaison routes to n data nodes that all have the schemas.
func waitLiaisonNodes(conn *grpc.ClientConn, n int) {
	GinkgoHelper()
	Eventually(func() (int, error) { return liaisonNodes(conn) }).WithTimeout(settleTimeout).Should(Equal(n),
		"the liaison should route to %d data nodes", n)
}

// shardFiles returns, per shard of a group on a data node, the bytes of its files
// (<data dir>/<group>/seg-*/shard-<n>).
func shardFiles(n *helpers.ClusterNode, group string) (map[int]int64, error) {
	dirs, err := filepath.Glob(filepath.Join(n.DataDir(), group, "seg-*", "shard-*"))
	if err != nil {
		return nil, err
	}
	out := make(map[int]int64)
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() {
			continue
		}
		shard, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "shard-"))
		if err != nil {
			continue
		}
		size, err := helpers.DirSize(d)
		if err != nil {
			return nil, err
		}
		out[shard] += size
	}
	return out, nil
}

// owners returns, for each shard of a group, the index in cl.data of the data node that has
// files of it.
func owners(group string) map[int][]int {
	GinkgoHelper()
	out := make(map[int][]int)
	for i, n := range cl.data {
		files, err := shardFiles(n, group)
		Expect(err).NotTo(HaveOccurred())
		for shard := range files {
			out[shard] = append(out[shard], i)
		}
	}
	return out
}

// spanWriter writes spans of the copy of test-trace-group/sw that the fault specs use, and
// remembers every span that was acknowledged with STATUS_SUCCEED.
type spanWriter struct {
	md    *commonv1.Metadata
	acked spanIDs
	// durations is the duration tag of every acknowledged span, by span id.
	durations map[string]int64
	// conn is the liaison written to; nil means the first liaison.
	conn    *grpc.ClientConn
	version uint64
}

// spanReq is a span to write: its trace and span id.
type spanReq struct {
	traceID string
	spanID  string
}

func (w *spanWriter) request(s spanReq) *tracev1.WriteRequest {
	w.version++
	str := func(v string) *modelv1.TagValue {
		return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: v}}}
	}
	i64 := func(v int64) *modelv1.TagValue {
		return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: v}}}
	}
	// Tags in the schema order of sw: trace_id, state, service_id, service_instance_id,
	// endpoint_id, duration, span_id, timestamp.
	return &tracev1.WriteRequest{
		Metadata: proto.Clone(w.md).(*commonv1.Metadata),
		Tags: []*modelv1.TagValue{
			str(s.traceID), i64(0), str("cluster_service"), str("cluster_instance"), str("/cluster"),
			i64(durationOf(w.version)), str(s.spanID),
			{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(time.Now().Truncate(time.Millisecond))}},
		},
		Span:    []byte(s.traceID + "/" + s.spanID),
		Version: w.version,
	}
}

// durationOf is the duration tag of the span written with a version: later spans last longer.
func durationOf(version uint64) int64 { return 100 + int64(version) }

// ranked returns what a query of the acknowledged spans ordered by duration answers: the traces
// ranked by their longest (DESC) or shortest (ASC) span, ties by trace id, cut to limit, each with
// all its spans.
func (w *spanWriter) ranked(asc bool, limit int) spanIDs {
	type ranked struct {
		id  string
		key int64
	}
	var all []ranked
	for id, spans := range w.acked {
		r := ranked{id: id, key: w.durations[spans[0]]}
		for _, s := range spans {
			if d := w.durations[s]; (asc && d < r.key) || (!asc && d > r.key) {
				r.key = d
			}
		}
		all = append(all, r)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].key != all[j].key {
			return (asc && all[i].key < all[j].key) || (!asc && all[i].key > all[j].key)
		}
		return all[i].id < all[j].id
	})
	out := make(spanIDs)
	for i := 0; i < len(all) && i < limit; i++ {
		out[all[i].id] = append([]string(nil), w.acked[all[i].id]...)
	}
	return out
}

// writeResult is the outcome of one write stream.
type writeResult struct {
	// status is the status of each span, by span id.
	status map[string]string
	took   time.Duration
}

// write sends spans on one stream and waits for all the answers, at most timeout. Every span
// answered STATUS_SUCCEED is remembered as acknowledged.
func (w *spanWriter) write(spans []spanReq, timeout time.Duration) (writeResult, error) {
	reqs := make([]*tracev1.WriteRequest, len(spans))
	byVersion := make(map[uint64]spanReq, len(spans))
	for i, s := range spans {
		reqs[i] = w.request(s)
		byVersion[reqs[i].GetVersion()] = s
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	conn := w.conn
	if conn == nil {
		conn = cl.conn
	}
	resps, err := helpers.WriteStream(ctx, conn, reqs)
	res := writeResult{status: make(map[string]string, len(spans)), took: time.Since(start)}
	if err != nil {
		return res, errors.Wrapf(err, "write stream of %d spans (after %s)", len(spans), res.took)
	}
	for _, r := range resps {
		s, ok := byVersion[r.GetVersion()]
		if !ok {
			return res, errors.Errorf("a response for unknown version %d", r.GetVersion())
		}
		res.status[s.spanID] = r.GetStatus()
		if r.GetStatus() == modelv1.Status_STATUS_SUCCEED.String() {
			w.acked[s.traceID] = append(w.acked[s.traceID], s.spanID)
			sort.Strings(w.acked[s.traceID])
			if w.durations == nil {
				w.durations = make(map[string]int64)
			}
			w.durations[s.spanID] = durationOf(r.GetVersion())
		}
	}
	if len(resps) != len(spans) {
		return res, errors.Errorf("%d responses to %d spans", len(resps), len(spans))
	}
	return res, nil
}

// spansFor returns one span per trace, with span id <trace>_<phase>.
func spansFor(traceIDs []string, phase string) []spanReq {
	out := make([]spanReq, len(traceIDs))
	for i, id := range traceIDs {
		out[i] = spanReq{traceID: id, spanID: id + "_" + phase}
	}
	return out
}

// only returns the entries of s for the given traces.
func (s spanIDs) only(traceIDs []string) spanIDs {
	out := make(spanIDs)
	for _, id := range traceIDs {
		if v, ok := s[id]; ok {
			out[id] = append([]string(nil), v...)
		}
	}
	return out
}
