// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"bytes"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/encoding/protojson"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	"github.com/apache/skywalking-banyandb/pkg/bydbql/shell"
)

// The bydbql client against the server holding the fixtures: a script of statements over several
// lines, params, output formats and an error, the way `bydbql < file.ql` runs it.
var _ = Describe("The bydbql client", func() {
	run := func(stdin string, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := shell.Main(append([]string{"--addr", shared.Addr, "--history", ""}, args...), strings.NewReader(stdin), &out, &errOut)
		return out.String(), errOut.String(), code
	}

	It("runs a script of statements", func() {
		out, errOut, code := run(strings.Join([]string{
			"-- the two slowest traces",
			"SELECT trace_id, duration FROM TRACE sw IN test-trace-group",
			"  TIME > '-1h'   -- the fixtures are 10 minutes old",
			"  ORDER BY duration DESC LIMIT 2;",
			`\p auth_service`,
			"SELECT () FROM TRACE sw IN test-trace-group TIME > '-1h' WHERE service_id = ? ORDER BY duration DESC;",
			`\o waterfall`,
			"SELECT * FROM TRACE zipkin IN zipkinTrace TIME > '-1h' WHERE trace_id = 'zipkin_trace_001';",
			"select oops;",
			"SELECT () FROM TRACE sw IN test-trace-group TIME > '-1h' WHERE trace_id = 'trace_004'",
		}, "\n"))
		Expect(code).To(Equal(1), "a statement failed: %s", errOut)
		errs := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		Expect(errs).To(HaveLen(2), errOut)
		Expect(errs[0]).To(Equal("ERROR: InvalidArgument: bydbql: line 1, column 12: expected FROM, found ;"))
		// The last statement, without its ;, still runs when the input ends; its spans carry no
		// tags (SELECT ()), so the waterfall says what it needs.
		Expect(errs[1]).To(Equal("ERROR: trace trace_004: span span_004_1 lacks the tag timestamp (start) or duration (duration): select both (or *) to draw traces"))
		tables := strings.Split(out, "traces, ")
		Expect(tables).To(HaveLen(3), out)
		// trace_008 (2100) and trace_003 (1200) are the slowest, with all their spans.
		Expect(tables[0]).To(ContainSubstring("│ trace_008 │ span_008_1 │ 890      │ trace_008 │ trace_008_span_1 │"))
		Expect(tables[0]).To(ContainSubstring("│ trace_003 │ span_003_1 │ 1200     │ trace_003 │ trace_003_span_1 │"))
		Expect(tables[0]).NotTo(ContainSubstring("trace_006"))
		Expect(tables[1]).To(HavePrefix("6 spans\n"))
		Expect(tables[1]).To(ContainSubstring("│ trace_002 │ span_002_1 │ trace_002_span_1 │"))
		Expect(tables[1]).NotTo(ContainSubstring("trace_001"))
		// The waterfall nests span_002 under its parent span_001.
		Expect(tables[2]).To(ContainSubstring("trace zipkin_trace_001  2 spans  1.5s"))
		Expect(tables[2]).To(MatchRegexp(`\nspan_001    user-service +0s +1.5s  \|█{48}\|\n`))
		Expect(tables[2]).To(MatchRegexp(`\n  span_002  user-service +500ms +800ms  \|\s+█+\s+\|\n`))
	})

	It("runs one statement with params and prints JSON", func() {
		out, errOut, code := run("", "-o", "json", "-p", "1000", "-p", `["webapp_service","payment_service"]`,
			"-e", "SELECT duration FROM TRACE sw IN test-trace-group TIME > '-1h' WHERE duration >= ? AND service_id IN (?) ORDER BY duration ASC")
		Expect(code).To(Equal(0), errOut)
		resp := &bydbqlv1.QueryResponse{}
		Expect(protojson.Unmarshal([]byte(out), resp)).To(Succeed())
		var ids []string
		for _, t := range resp.GetTraceResult().GetTraces() {
			ids = append(ids, t.GetTraceId())
		}
		// Spans of >= 1000 in those services: 001:1000, 006:1190, 003:1200; shortest first.
		Expect(ids).To(Equal([]string{"trace_001", "trace_006", "trace_003"}))
	})

	It("reports a refused statement with its code and exit status 1", func() {
		_, errOut, code := run("", "-e", "SELECT * FROM MEASURE m IN g TIME > '-1h'")
		Expect(code).To(Equal(1))
		Expect(errOut).To(ContainSubstring("ERROR: InvalidArgument: bydbql: line 1, column 15: MEASURE queries are not supported: this server stores traces only"))
	})
})
