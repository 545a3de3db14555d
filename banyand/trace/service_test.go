// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/observability"
	"github.com/apache/skywalking-banyandb/pkg/run"
	"github.com/apache/skywalking-banyandb/test/testenv"
	"github.com/apache/skywalking-banyandb/test/testenv/metarepo"
)

func newStandaloneForFlags(t *testing.T) *standalone {
	t.Helper()
	svc, err := NewService(metarepo.NewMemory(), nil, observability.NewBypassRegistry(), newMemoryProtector(t))
	if err != nil {
		t.Fatal(err)
	}
	return svc.(*standalone)
}

func newLiaisonForFlags(t *testing.T) *liaison {
	t.Helper()
	svc, err := NewLiaison(metarepo.NewMemory(), observability.NewBypassRegistry(), newMemoryProtector(t))
	if err != nil {
		t.Fatal(err)
	}
	return svc.(*liaison)
}

func flagValue(t *testing.T, fs *run.FlagSet, name string) string {
	t.Helper()
	f := fs.Lookup(name)
	if f == nil {
		t.Fatalf("flag --%s is missing", name)
	}
	if f.DefValue != f.Value.String() {
		t.Fatalf("flag --%s: parsed %q but declares default %q", name, f.Value.String(), f.DefValue)
	}
	return f.Value.String()
}

// The plan's defaults (trace-package-plan.md §6).
var planDefaults = map[string]string{
	"trace-root-path":              "/tmp",
	"trace-data-path":              "",
	"trace-flush-timeout":          "1s",
	"trace-max-disk-usage-percent": "95",
	"trace-series-cache-max-size":  "32mb",
	"trace-max-file-snapshot-num":  "2",
}

func TestStandaloneFlagDefaultsMatchThePlan(t *testing.T) {
	s := newStandaloneForFlags(t)
	fs := s.FlagSet()
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	for name, want := range planDefaults {
		if got := flagValue(t, fs, name); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
	if fs.Lookup("trace-max-fan-out-size") == nil {
		t.Error("--trace-max-fan-out-size (the merge policy) is missing")
	}
	// The flags land in the fields the engine reads.
	if s.root != "/tmp" || s.dataPath != "" || s.option.flushTimeout != time.Second || s.maxDiskUsagePercent != 95 ||
		int64(s.option.seriesCacheMaxSize) != 32<<20 || s.maxFileSnapshotNum != 2 {
		t.Fatalf("fields after parsing no flags: root=%q data=%q flush=%s disk=%d cache=%d snapshots=%d",
			s.root, s.dataPath, s.option.flushTimeout, s.maxDiskUsagePercent, s.option.seriesCacheMaxSize, s.maxFileSnapshotNum)
	}
	if s.FlagSet() != fs {
		t.Fatal("FlagSet builds a new flag set on every call")
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
}

func TestLiaisonFlagDefaultsMatchThePlan(t *testing.T) {
	l := newLiaisonForFlags(t)
	fs := l.FlagSet()
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"trace-root-path", "trace-data-path", "trace-flush-timeout", "trace-max-disk-usage-percent"} {
		if got := flagValue(t, fs, name); got != planDefaults[name] {
			t.Errorf("--%s = %q, want %q", name, got, planDefaults[name])
		}
	}
	// A liaison stores nothing: the storage flags are not its own.
	for _, name := range []string{"trace-series-cache-max-size", "trace-max-file-snapshot-num", "trace-max-fan-out-size"} {
		if fs.Lookup(name) != nil {
			t.Errorf("the liaison has the storage flag --%s", name)
		}
	}
	if l.root != "/tmp" || l.option.flushTimeout != time.Second || l.maxDiskUsagePercent != 95 {
		t.Fatalf("fields after parsing no flags: root=%q flush=%s disk=%d", l.root, l.option.flushTimeout, l.maxDiskUsagePercent)
	}
	if err := l.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantRoot  bool     // errors.Is(err, errEmptyRootPath)
		wantTexts []string // each must be in the error; none means valid
	}{
		{name: "defaults", args: nil},
		{name: "a root path", args: []string{"--trace-root-path=/var/lib/banyand"}},
		{name: "0 percent", args: []string{"--trace-max-disk-usage-percent=0"}},
		{name: "100 percent", args: []string{"--trace-max-disk-usage-percent=100"}},
		{name: "empty root path", args: []string{"--trace-root-path="}, wantRoot: true, wantTexts: []string{"root path is empty"}},
		{name: "101 percent", args: []string{"--trace-max-disk-usage-percent=101"},
			wantTexts: []string{"--trace-max-disk-usage-percent", "[0, 100]", "101"}},
		{name: "negative percent", args: []string{"--trace-max-disk-usage-percent=-1"},
			wantTexts: []string{"--trace-max-disk-usage-percent", "-1"}},
		{name: "negative flush timeout", args: []string{"--trace-flush-timeout=-1s"}, wantTexts: []string{"--trace-flush-timeout"}},
		{name: "every problem at once", args: []string{"--trace-root-path=", "--trace-max-disk-usage-percent=200"},
			wantRoot: true, wantTexts: []string{"root path is empty", "--trace-max-disk-usage-percent"}},
	}
	services := map[string]func(t *testing.T) run.Config{
		"standalone": func(t *testing.T) run.Config { return newStandaloneForFlags(t) },
		"liaison":    func(t *testing.T) run.Config { return newLiaisonForFlags(t) },
	}
	for svcName, build := range services {
		for _, tt := range tests {
			t.Run(svcName+"/"+tt.name, func(t *testing.T) {
				svc := build(t)
				if err := svc.FlagSet().Parse(tt.args); err != nil {
					t.Fatal(err)
				}
				err := svc.Validate()
				if len(tt.wantTexts) == 0 {
					if err != nil {
						t.Fatalf("Validate: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatalf("Validate accepted %v", tt.args)
				}
				if errors.Is(err, errEmptyRootPath) != tt.wantRoot {
					t.Fatalf("errors.Is(%v, errEmptyRootPath) = %v, want %v", err, !tt.wantRoot, tt.wantRoot)
				}
				for _, text := range tt.wantTexts {
					if !strings.Contains(err.Error(), text) {
						t.Fatalf("error %q does not say %q", err, text)
					}
				}
			})
		}
	}
	// Standalone-only flags.
	for _, args := range [][]string{{"--trace-max-file-snapshot-num=-1"}, {"--trace-series-cache-max-size=-1"}} {
		s := newStandaloneForFlags(t)
		if err := s.FlagSet().Parse(args); err != nil {
			continue // a size flag may refuse a negative value while parsing: also fine
		}
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), strings.SplitN(args[0], "=", 2)[0]) {
			t.Fatalf("Validate(%v) = %v, want an error naming the flag", args, err)
		}
	}
}

func TestPreRunRefusesAnEmptyRootPath(t *testing.T) {
	s := newStandaloneForFlags(t)
	if err := s.FlagSet().Parse([]string{"--trace-root-path="}); err != nil {
		t.Fatal(err)
	}
	if err := s.PreRun(context.Background()); !errors.Is(err, errEmptyRootPath) {
		t.Fatalf("PreRun with an empty root: %v, want errEmptyRootPath", err)
	}
}

func TestNameAndRole(t *testing.T) {
	s, l := newStandaloneForFlags(t), newLiaisonForFlags(t)
	if s.Name() != "trace" || l.Name() != "trace" {
		t.Fatalf("Name() = %q / %q, want trace", s.Name(), l.Name())
	}
	if s.Role() != databasev1.Role_ROLE_DATA {
		t.Fatalf("standalone Role() = %s, want ROLE_DATA", s.Role())
	}
	if l.Role() != databasev1.Role_ROLE_LIAISON {
		t.Fatalf("liaison Role() = %s, want ROLE_LIAISON", l.Role())
	}
}

func TestConstructorsNeedTheirDependencies(t *testing.T) {
	md, omr, pm := metarepo.NewMemory(), observability.NewBypassRegistry(), newMemoryProtector(t)
	if _, err := NewService(nil, nil, omr, pm); err == nil {
		t.Error("NewService without metadata")
	}
	if _, err := NewService(md, nil, nil, pm); err == nil {
		t.Error("NewService without metrics")
	}
	if _, err := NewService(md, nil, omr, nil); err == nil {
		t.Error("NewService without a memory protector")
	}
	if _, err := NewLiaison(nil, omr, pm); err == nil {
		t.Error("NewLiaison without metadata")
	}
	if _, err := NewLiaison(md, nil, pm); err == nil {
		t.Error("NewLiaison without metrics")
	}
	if _, err := NewLiaison(md, omr, nil); err == nil {
		t.Error("NewLiaison without a memory protector")
	}
}

func TestServiceBeforePreRun(t *testing.T) {
	s := newStandaloneForFlags(t)
	if _, err := s.Trace(&commonv1.Metadata{Group: "g", Name: "sw"}); !errors.Is(err, ErrTraceNotExist) {
		t.Fatalf("Trace before PreRun: %v", err)
	}
	if _, ok := s.LoadGroup("g"); ok {
		t.Fatal("LoadGroup before PreRun found a group")
	}
	if r := s.GetRemovalSegmentsTimeRange("g"); r != nil {
		t.Fatalf("GetRemovalSegmentsTimeRange before PreRun = %v", r)
	}
}

func TestPreRunLaysOutTheRootAndWatchesTheSchemas(t *testing.T) {
	e := newEnv(t)
	for _, dir := range []string{filepath.Join(e.root, "trace", "data"), filepath.Join(e.root, "trace", "snapshots")} {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			t.Fatalf("PreRun did not create %s: %v", dir, err)
		}
	}
	if e.md.HandlerCount() != 1 {
		t.Fatalf("the service registered %d schema handlers, want 1", e.md.HandlerCount())
	}
	select {
	case <-e.svc.Serve():
		t.Fatal("Serve's channel is closed before GracefulStop")
	default:
	}
	e.svc.GracefulStop()
	select {
	case <-e.svc.Serve():
	default:
		t.Fatal("Serve's channel is open after GracefulStop")
	}
	e.svc.GracefulStop() // twice is fine
}

func TestTraceFollowsTheSchemaEvents(t *testing.T) {
	e := newEnv(t)
	md := &commonv1.Metadata{Group: "test-trace-group", Name: "sw"}
	if _, err := e.svc.Trace(md); !errors.Is(err, ErrTraceNotExist) {
		t.Fatalf("Trace before any schema: %v, want ErrTraceNotExist", err)
	}
	e.withSW()
	tr, err := e.svc.Trace(md)
	if err != nil {
		t.Fatalf("Trace after the schema event: %v", err)
	}
	if got := tr.GetSchema(); got.GetMetadata().GetName() != "sw" || len(got.GetTags()) != len(e.fx.SW.GetTags()) {
		t.Fatalf("GetSchema() = %v", got)
	}
	if got := ruleNamesOf(tr.GetIndexRules()); !reflect.DeepEqual(got, []string{"duration", "timestamp"}) {
		t.Fatalf("GetIndexRules() = %v", got)
	}
	g, ok := e.svc.LoadGroup("test-trace-group")
	if !ok {
		t.Fatal("LoadGroup did not find the group")
	}
	if !proto.Equal(g.GetSchema().GetResourceOpts(), e.fx.SWGroup.GetResourceOpts()) {
		t.Fatalf("LoadGroup schema = %v", g.GetSchema())
	}
	if _, ok := g.SupplyTSDB().(*tsdbHolder); !ok {
		t.Fatalf("the group's storage is %T, want a TSDB", g.SupplyTSDB())
	}
	if _, ok := e.svc.LoadGroup("zipkinTrace"); ok {
		t.Fatal("LoadGroup found a group that was never created")
	}
	if _, err := e.svc.Trace(&commonv1.Metadata{Group: "test-trace-group", Name: "zipkin"}); !errors.Is(err, ErrTraceNotExist) {
		t.Fatalf("Trace of an unknown name: %v", err)
	}

	// A schema update gives a new live trace with the new tags.
	updated := testenv.Clone(e.fx.SW)
	updated.Tags = append(updated.Tags, &databasev1.TraceTagSpec{Name: "error_message", Type: databasev1.TagType_TAG_TYPE_STRING})
	e.md.Put(updated)
	tr, err = e.svc.Trace(md)
	if err != nil || len(tr.GetSchema().GetTags()) != len(updated.GetTags()) {
		t.Fatalf("Trace after an update: %v, %v", tr, err)
	}

	// Deleting the trace unloads it.
	e.md.Remove(e.fx.SW)
	_, err = e.svc.Trace(md)
	if !errors.Is(err, ErrTraceNotExist) {
		t.Fatalf("Trace after deletion: %v, want ErrTraceNotExist", err)
	}
	if !strings.Contains(err.Error(), "test-trace-group/sw") {
		t.Fatalf("error %q does not name the trace", err)
	}
	if _, ok := e.svc.LoadGroup("test-trace-group"); !ok {
		t.Fatal("deleting a trace unloaded its group")
	}
}

func TestDeletingAGroupDropsItsData(t *testing.T) {
	e := newEnv(t).withSW()
	yesterday, _ := days()
	e.mustWrite(swSpan{traceID: "t1", spanID: "s1", at: yesterday.Add(time.Hour), service: "svc", duration: 5}.request())
	groupDir := filepath.Join(e.root, "trace", "data", "test-trace-group")
	if _, err := os.Stat(groupDir); err != nil {
		t.Fatalf("the group has no directory after a write: %v", err)
	}
	e.md.Remove(e.fx.SWGroup)
	if _, ok := e.svc.LoadGroup("test-trace-group"); ok {
		t.Fatal("a deleted group is still loaded")
	}
	if _, err := e.svc.Trace(e.fx.SW.GetMetadata()); !errors.Is(err, ErrTraceNotExist) {
		t.Fatalf("Trace of a deleted group: %v", err)
	}
	if _, err := os.Stat(groupDir); !os.IsNotExist(err) {
		t.Fatalf("the deleted group's data is still on disk: %v", err)
	}
	// Re-created, it starts empty.
	e.withSW()
	res, err := e.trace("test-trace-group", "sw").Query(context.Background(), QueryOptions{
		Name: "sw", TimeRange: timeRange(yesterday, yesterday.Add(48*time.Hour)),
		OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC), MaxTraces: 10,
	})
	if err != nil || len(res) != 0 {
		t.Fatalf("query of a re-created group = %v, %v; want no traces", ids(res), err)
	}
}

func ruleNamesOf(rules []*databasev1.IndexRule) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, r.GetMetadata().GetName())
	}
	return out
}

func TestIndexRuleChangesReachTheTrace(t *testing.T) {
	e := newEnv(t)
	e.md.Put(e.fx.SWGroup)
	e.md.Put(e.fx.SW)
	tr := e.trace("test-trace-group", "sw")
	steps := []struct {
		name  string
		apply func()
		want  []string
	}{
		{name: "no rules yet", apply: func() {}, want: []string{}},
		{name: "the rules without a binding", apply: func() {
			e.md.Put(e.fx.Duration)
			e.md.Put(e.fx.Timestamp)
		}, want: []string{}},
		{name: "the binding", apply: func() { e.md.Put(e.fx.SWBinding) }, want: []string{"duration", "timestamp"}},
		{name: "a binding of only timestamp", apply: func() {
			b := testenv.Clone(e.fx.SWBinding)
			b.Rules = []string{"timestamp"}
			e.md.Put(b)
		}, want: []string{"timestamp"}},
		{name: "a rule deleted", apply: func() { e.md.Remove(e.fx.Timestamp) }, want: []string{}},
		{name: "the rule back and the binding restored", apply: func() {
			e.md.Put(e.fx.Timestamp)
			e.md.Put(e.fx.SWBinding)
		}, want: []string{"duration", "timestamp"}},
		{name: "the binding deleted", apply: func() { e.md.Remove(e.fx.SWBinding) }, want: []string{}},
	}
	for _, s := range steps {
		s.apply()
		// The same trace object sees the change: OnIndexUpdate swaps its index schema.
		if got := ruleNamesOf(tr.GetIndexRules()); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("after %s: GetIndexRules() = %v, want %v", s.name, got, s.want)
		}
		if live := e.trace("test-trace-group", "sw"); live != tr {
			t.Fatalf("after %s: the rule change replaced the trace object", s.name)
		}
	}
	// An order by a rule that is no longer bound is refused.
	_, err := tr.Query(context.Background(), QueryOptions{
		Name: "sw", TimeRange: timeRange(time.Unix(0, 0), time.Now()), OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC), MaxTraces: 1,
	})
	if !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("query ordered by an unbound rule: %v, want ErrInvalidQuery", err)
	}
}

func TestGetRemovalSegmentsTimeRange(t *testing.T) {
	e := newEnv(t).withSW()
	if r := e.svc.GetRemovalSegmentsTimeRange("no-such-group"); r != nil {
		t.Fatalf("unknown group: %v, want nil", r)
	}
	if r := e.svc.GetRemovalSegmentsTimeRange("test-trace-group"); r != nil {
		t.Fatalf("a group without segments: %v, want nil", r)
	}
	_, today := days()
	old := today.Add(-2*24*time.Hour + time.Hour) // within the 3-day TTL
	e.mustWrite(
		swSpan{traceID: "old", spanID: "s", at: old, service: "svc", duration: 1}.request(),
		swSpan{traceID: "new", spanID: "s", at: today.Add(time.Minute), service: "svc", duration: 1}.request(),
	)
	if r := e.svc.GetRemovalSegmentsTimeRange("test-trace-group"); r != nil {
		t.Fatalf("nothing has expired yet, got %v", r)
	}
	// Shortening the TTL to one day expires the two-day-old segment and only that one.
	shorter := testenv.Clone(e.fx.SWGroup)
	shorter.ResourceOpts.Ttl.Num = 1
	e.md.Put(shorter)
	r := e.svc.GetRemovalSegmentsTimeRange("test-trace-group")
	if r == nil {
		t.Fatal("no removal range after the TTL was shortened")
	}
	oldDay := old.Truncate(24 * time.Hour)
	if !r.Start.Equal(oldDay) || !r.End.Equal(oldDay.Add(24*time.Hour)) {
		t.Fatalf("removal range = %v, want the segment [%s, %s)", r, oldDay, oldDay.Add(24*time.Hour))
	}
	if r.Contains(today.Add(time.Minute).UnixNano()) {
		t.Fatalf("removal range %v holds today's data", r)
	}
}

func TestWritesToATraceBeforeItsStorageAreRefused(t *testing.T) {
	// A trace whose group failed to open its storage is not loaded: writes get NOT_FOUND.
	e := newEnv(t, "--trace-metadata-cache-wait-duration=0")
	bad := testenv.Clone(e.fx.SWGroup)
	bad.ResourceOpts.SegmentInterval.Unit = commonv1.IntervalRule_UNIT_UNSPECIFIED
	e.md.Put(bad)
	e.md.Put(e.fx.SW)
	if _, ok := e.svc.LoadGroup("test-trace-group"); ok {
		t.Fatal("a group with an invalid segment interval was opened")
	}
	_, today := days()
	st := e.write(swSpan{traceID: "t", spanID: "s", at: today, service: "svc"}.request())
	if st[0] != modelv1.Status_STATUS_NOT_FOUND {
		t.Fatalf("write to a trace of an unopened group: %s, want NOT_FOUND", st[0])
	}
}

func TestLiaisonFollowsSchemasWithoutStorage(t *testing.T) {
	md := metarepo.NewMemory()
	fx := testenv.LoadSchemas(t)
	// Schemas that exist before the liaison starts are replayed to it.
	md.Put(fx.SWGroup)
	md.Put(fx.Duration)
	svc, err := NewLiaison(md, observability.NewBypassRegistry(), newMemoryProtector(t))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := svc.FlagSet().Parse([]string{"--trace-root-path=" + root}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := svc.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.GracefulStop()
	md.Put(fx.Timestamp)
	md.Put(fx.SWBinding)
	md.Put(fx.SW)

	g, ok := svc.LoadGroup("test-trace-group")
	if !ok {
		t.Fatal("the liaison did not load the group")
	}
	if g.SupplyTSDB() != nil {
		t.Fatalf("a liaison opened storage: %T", g.SupplyTSDB())
	}
	tr, err := svc.Trace(fx.SW.GetMetadata())
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	if got := ruleNamesOf(tr.GetIndexRules()); !reflect.DeepEqual(got, []string{"duration", "timestamp"}) {
		t.Fatalf("the liaison's trace has rules %v", got)
	}
	if r := svc.GetRemovalSegmentsTimeRange("test-trace-group"); r != nil {
		t.Fatalf("a liaison reports segments to remove: %v", r)
	}
	if _, err := tr.Query(context.Background(), QueryOptions{
		Name: "sw", TimeRange: timeRange(time.Unix(0, 0), time.Now()), OrderBy: orderBy("duration", modelv1.Sort_SORT_DESC), MaxTraces: 1,
	}); err == nil || !strings.Contains(err.Error(), "no storage") {
		t.Fatalf("a query on the liaison's trace: %v, want a no-storage error", err)
	}
	// The liaison runs no plan itself: its front door's check compiles it and refuses a bad order.
	bad := &tracev1.QueryRequest{Groups: []string{"test-trace-group"}, Name: "sw", OrderBy: orderBy("no-such-rule", modelv1.Sort_SORT_DESC)}
	if _, err := svc.CheckQuery(bad); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("CheckQuery of an unknown order rule on a liaison: %v, want InvalidArgument", err)
	}
	// A write is parsed once, with its shard and the schema revision it was checked against.
	ws, ok := svc.ResolveWrite(context.Background(), fx.SW.GetMetadata(), map[string]bool{})
	if !ok {
		t.Fatal("ResolveWrite did not find sw")
	}
	_, today := days()
	span, st, reason := ws.Parse(swSpan{traceID: "t1", spanID: "s1", at: today, service: "svc"}.request().GetRequest())
	if st != modelv1.Status_STATUS_SUCCEED {
		t.Fatalf("Parse: %s (%s)", st, reason)
	}
	if span.TraceID != "t1" || span.SpanID != "s1" || !span.Timestamp.Equal(today) || span.Shard != shardOf("t1", ws.ShardNum()) ||
		span.Revision != fx.SW.GetMetadata().GetModRevision() && span.Revision != tr.GetSchema().GetMetadata().GetModRevision() {
		t.Fatalf("parsed span %+v", span)
	}
	if _, st, _ := ws.Parse(&tracev1.WriteRequest{Metadata: fx.SW.GetMetadata(), Tags: []*modelv1.TagValue{i64(1)}}); st != modelv1.Status_STATUS_INVALID_TIMESTAMP {
		t.Fatalf("Parse of a malformed span: %s", st)
	}
	// Nothing but the data directory is created under the root.
	entries, err := os.ReadDir(filepath.Join(root, "trace", "data"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("the liaison wrote %d entries to its data directory", len(entries))
	}
	md.Remove(fx.SW)
	if _, err := svc.Trace(fx.SW.GetMetadata()); !errors.Is(err, ErrTraceNotExist) {
		t.Fatalf("Trace after deletion: %v", err)
	}
}
