// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"math"
	"time"

	g "github.com/onsi/ginkgo/v2"
	"google.golang.org/grpc/codes"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// The fixture spans per trace, the data every derivation below reads from, written as
// duration@offset-from-base-in-seconds, state, service (data.go has every tag):
//
// test-trace-group/sw
//
//	trace_001: 1000@0 s1 webapp | 500@0.5 s0 webapp | 300@1 s0 webapp | 750@60 s1 api | 320@60.5 s0 api
//	trace_002: 800@1.5 s1 webapp | 200@2 s0 webapp | 450@61 s1 auth | 180@61.5 s0 auth
//	trace_003: 1200@2.5 s1 webapp | 150@3 s0 webapp | 400@3.5 s0 webapp
//	trace_004: 600@4 s1 webapp
//	trace_005: 900@4.5 s1 webapp | 250@5 s0 webapp | 350@5.5 s0 webapp | 180@6 s0 webapp
//	trace_006: 1190@62 s1 payment | 280@62.5 s0 payment | 150@63 s0 payment
//	trace_007: 650@63.5 s1 notification | 420@64 s0 notification
//	trace_008: 890@64.5 s1 database | 340@65 s0 database | 2100@65.5 s0 database (endpoint /db/backup)
//
// test-trace-updated/sw (state is a STRING, error_message exists)
//
//	trace_009: 1234@60 "success" api, error_message "" | 500@60.5 "success" api, error_message ""
//	trace_010: 91011@61 "error" api, error_message "Connection timeout"
//
// zipkinTrace/zipkin (ordered by zipkin-timestamp only)
//
//	zipkin_trace_001: span_001 @0 SERVER user-service query[user_id=123 limit=10 offset=0], parent "", remote "" port 0
//	                  span_002 @0.5 CLIENT user-service query[SELECT * FROM users, WHERE id=123], parent span_001, remote database-service:3306
//	zipkin_trace_002: span_003 @1 SERVER order-service query[order_id=456 status=pending customer_id=789]
//	                  span_004 @1.5 CLIENT order-service query[GET order:456, ttl=3600], remote redis-service:6379
//	zipkin_trace_003: span_005 @2 SERVER health-service query[health_check=true], debug 1
//
// Rankings used below. Best span per trace over all spans:
//
//	max duration: 008:2100 003:1200 006:1190 001:1000 005:900 002:800 007:650 004:600
//	min duration: 003:150 006:150 002:180 005:180 001:300 008:340 007:420 004:600
//	max time:     008:65.5 007:64 006:63 002:61.5 001:60.5 005:6 004:4 003:3.5
//	min time:     001:0 002:1.5 003:2.5 004:4 005:4.5 006:62 007:63.5 008:64.5
//
// A trace ranks by its best *matching* span, ties break by trace id ascending.

const (
	ruleDuration  = "duration"
	ruleTimestamp = "timestamp"
	ruleZipkin    = "zipkin-timestamp"
)

var (
	swBoth     = []string{groupSW, groupUpdated}
	zipkinOnly = []string{groupZipkin}
	zt         = func(n string) string { return "zipkin_trace_00" + n }
)

func queryEntries() []g.TableEntry {
	return []g.TableEntry{
		// ---- by trace id: the listed traces that exist, sorted by id; order_by is not needed.
		g.Entry("trace id EQ", queryCase{
			ql:         "SELECT trace_id, span_id, duration FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id = 'trace_003'",
			criteria:   cond("trace_id", eq, str("trace_003")),
			projection: []string{"trace_id", "span_id", "duration"},
			want:       trs("03"),
		}),
		// 005, 001, 004 -> sorted by id.
		g.Entry("trace id IN returns traces sorted by id", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id IN ('trace_005', ?)",
			qlParams: []*modelv1.TagValue{strs("trace_001", "trace_004")},
			criteria: cond("trace_id", in, strs("trace_005", "trace_001", "trace_004")),
			want:     trs("01", "04", "05"),
		}),
		g.Entry("trace id IN skips unknown ids", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id IN ('trace_999', 'trace_002')",
			criteria: cond("trace_id", in, strs("trace_999", "trace_002")),
			want:     trs("02"),
		}),
		g.Entry("trace id IN with limit", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id IN ('trace_005', 'trace_001', 'trace_004') LIMIT 2",
			criteria: cond("trace_id", in, strs("trace_005", "trace_001", "trace_004")),
			limit:    2,
			want:     trs("01", "04"),
		}),
		g.Entry("trace id IN with offset", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id IN ('trace_005', 'trace_001', 'trace_004') OFFSET 1",
			criteria: cond("trace_id", in, strs("trace_005", "trace_001", "trace_004")),
			offset:   1,
			want:     trs("04", "05"),
		}),
		// Of 001..003 only 002 has auth_service spans.
		g.Entry("trace id IN AND a tag condition", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id IN ('trace_001', 'trace_002', 'trace_003') AND service_id = 'auth_service'",
			criteria: and(cond("trace_id", in, strs("trace_001", "trace_002", "trace_003")), cond("service_id", eq, str("auth_service"))),
			want:     trs("02"),
		}),
		g.Entry("two trace id conditions in an AND intersect", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id IN ('trace_001', 'trace_002') AND trace_id = 'trace_002'",
			criteria: and(cond("trace_id", in, strs("trace_001", "trace_002")), cond("trace_id", eq, str("trace_002"))),
			want:     trs("02"),
		}),
		g.Entry("trace id EQ an unknown id is empty", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id = 'trace_404'",
			criteria: cond("trace_id", eq, str("trace_404")),
			want:     none,
		}),
		// trace_004's only span is at base+4s, outside [base+60s, base+1h].
		g.Entry("trace id outside the time range is empty", queryCase{
			ql:        "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id = 'trace_004'",
			criteria:  cond("trace_id", eq, str("trace_004")),
			timeRange: func(b time.Time) *modelTimeRange { return timeRange(b, time.Minute, time.Hour) },
			want:      none,
		}),
		// trace_001 has spans at 60 and 60.5s, so it matches, and all 5 of its spans come back
		// (also those at 0..1s, outside the range); trace_004 has none in range.
		g.Entry("trace id with one span in the time range returns all its spans", queryCase{
			ql:         "SELECT duration FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id IN ('trace_004', 'trace_001')",
			criteria:   cond("trace_id", in, strs("trace_004", "trace_001")),
			timeRange:  func(b time.Time) *modelTimeRange { return timeRange(b, time.Minute, time.Hour) },
			projection: []string{"duration"},
			want:       trs("01"),
		}),
		// trace_004 (600) or the auth spans of trace_002 (450, 180); best: 004:600, 002:450.
		g.Entry("trace id in an OR ranks by the order rule", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id = 'trace_004' OR service_id = 'auth_service' ORDER BY duration DESC",
			criteria: or(cond("trace_id", eq, str("trace_004")), cond("service_id", eq, str("auth_service"))),
			orderBy:  order(ruleDuration, desc),
			want:     trs("04", "02"),
		}),

		// ---- order by each rule, both ways (rankings in the header).
		g.Entry("order by duration DESC", queryCase{
			ql:         "SELECT duration FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC",
			orderBy:    order(ruleDuration, desc),
			projection: []string{"duration"},
			want:       trs("08", "03", "06", "01", "05", "02", "07", "04"),
		}),
		// 150: 003, 006 and 180: 002, 005 are ties, broken by trace id.
		g.Entry("order by duration ASC breaks ties by trace id", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration ASC",
			orderBy: order(ruleDuration, asc),
			want:    trs("03", "06", "02", "05", "01", "08", "07", "04"),
		}),
		g.Entry("order by timestamp DESC", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY timestamp DESC",
			orderBy: order(ruleTimestamp, desc),
			want:    trs("08", "07", "06", "02", "01", "05", "04", "03"),
		}),
		g.Entry("order by timestamp ASC", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY timestamp ASC",
			orderBy: order(ruleTimestamp, asc),
			want:    trs("01", "02", "03", "04", "05", "06", "07", "08"),
		}),
		g.Entry("order by zipkin-timestamp DESC", queryCase{
			ql:     "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? ORDER BY zipkin-timestamp DESC",
			groups: zipkinOnly, name: traceZipkin,
			orderBy: order(ruleZipkin, desc),
			want:    ids(zt("3"), zt("2"), zt("1")),
		}),

		// ---- limit and offset count traces (duration DESC: 008 003 006 | 001 005 002 | 007 004).
		g.Entry("limit", queryCase{
			ql:       "select () from trace sw in test-trace-group time between ? and ? order by duration desc limit ?",
			qlParams: []*modelv1.TagValue{i64(3)},
			orderBy:  order(ruleDuration, desc), limit: 3,
			want: trs("08", "03", "06"),
		}),
		g.Entry("offset and limit", queryCase{
			ql:       "SELECT ()\nFROM TRACE sw IN (test-trace-group) -- the slowest first\nTIME BETWEEN ? AND ?\nORDER BY duration DESC OFFSET ? LIMIT ?;",
			qlParams: []*modelv1.TagValue{i64(3), i64(3)},
			orderBy:  order(ruleDuration, desc), offset: 3, limit: 3,
			want: trs("01", "05", "02"),
		}),
		g.Entry("offset with the default limit", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC OFFSET 6",
			orderBy: order(ruleDuration, desc), offset: 6,
			want: trs("07", "04"),
		}),
		g.Entry("offset past the end is empty", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC OFFSET 8",
			orderBy: order(ruleDuration, desc), offset: 8,
			want: none,
		}),
		g.Entry("a limit above the count returns every trace", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY timestamp ASC LIMIT 100",
			orderBy: order(ruleTimestamp, asc), limit: 100,
			want: trs("01", "02", "03", "04", "05", "06", "07", "08"),
		}),
		// duration ASC: 003:150 006:150 | 002:180 005:180 | ...; the limit cuts after a tie's first.
		g.Entry("limit inside a run of ties", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration ASC LIMIT 3",
			orderBy: order(ruleDuration, asc), limit: 3,
			want: trs("03", "06", "02"),
		}),
		g.Entry("offset inside a run of ties", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration ASC LIMIT 2 OFFSET 1",
			orderBy: order(ruleDuration, asc), offset: 1, limit: 2,
			want: trs("06", "02"),
		}),
		// A client asking for "everything" with the largest limit still gets every trace after
		// the offset: offset+limit must not wrap around.
		g.Entry("the largest limit with an offset", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC LIMIT 4294967295 OFFSET 1",
			orderBy: order(ruleDuration, desc), offset: 1, limit: math.MaxUint32,
			want: trs("03", "06", "01", "05", "02", "07", "04"),
		}),
		g.Entry("limit 1 ascending", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY timestamp ASC LIMIT 1",
			orderBy: order(ruleTimestamp, asc), limit: 1,
			want: trs("01"),
		}),

		// ---- time range: a trace matches with a span inside it and ranks by that span.
		// In [60s, 1h]: 001@60 002@61 006@62 007@63.5 008@64.5 (earliest span in range).
		g.Entry("time range keeps traces with a span inside", queryCase{
			ql:        "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY timestamp ASC",
			orderBy:   order(ruleTimestamp, asc),
			timeRange: func(b time.Time) *modelTimeRange { return timeRange(b, time.Minute, time.Hour) },
			want:      trs("01", "02", "06", "07", "08"),
		}),
		// In [2s, 4s] (both ends inclusive): 002:200@2, 003:1200@2.5, 150@3, 400@3.5, 004:600@4.
		// Best in range: 003:1200, 004:600, 002:200 (002's 800 lies outside).
		g.Entry("time range bounds are inclusive and rank by the best span inside", queryCase{
			ql:        "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC",
			orderBy:   order(ruleDuration, desc),
			timeRange: func(b time.Time) *modelTimeRange { return timeRange(b, 2*time.Second, 4*time.Second) },
			want:      trs("03", "04", "02"),
		}),

		// ---- conditions on string tags.
		g.Entry("string EQ", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE service_id = ? ORDER BY duration DESC",
			qlParams: []*modelv1.TagValue{str("auth_service")},
			criteria: cond("service_id", eq, str("auth_service")),
			orderBy:  order(ruleDuration, desc),
			want:     trs("02"),
		}),
		// Non-webapp spans, earliest: 001@60 002@61 006@62 007@63.5 008@64.5.
		g.Entry("string NE", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE service_id != 'webapp_service' ORDER BY timestamp ASC",
			criteria: cond("service_id", ne, str(web)),
			orderBy:  order(ruleTimestamp, asc),
			want:     trs("01", "02", "06", "07", "08"),
		}),
		// /auth/login is 002:450, /db/backup is 008:2100.
		g.Entry("string IN", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE endpoint_id IN ('/db/backup', '/auth/login') ORDER BY duration ASC",
			criteria: cond("endpoint_id", in, strs("/db/backup", "/auth/login")),
			orderBy:  order(ruleDuration, asc),
			want:     trs("02", "08"),
		}),
		// Spans off the webapp endpoints, longest: 008:2100 006:1190 001:750 007:650 002:450.
		g.Entry("string NOT_IN", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE endpoint_id NOT IN ('/home_endpoint', '/product_endpoint', '/item_endpoint', '/price_endpoint') ORDER BY duration DESC",
			criteria: cond("endpoint_id", notIn, strs("/home_endpoint", "/product_endpoint", "/item_endpoint", "/price_endpoint")),
			orderBy:  order(ruleDuration, desc),
			want:     trs("08", "06", "01", "07", "02"),
		}),
		g.Entry("a value matching nothing is empty", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE service_id = ? ORDER BY duration DESC",
			qlParams: []*modelv1.TagValue{str("no_such_service")},
			criteria: cond("service_id", eq, str("no_such_service")),
			orderBy:  order(ruleDuration, desc),
			want:     none,
		}),
		// A param is a value, never text of the statement: this one matches no service.
		g.Entry("an injection attempt through a param stays a value", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE service_id = ? OR service_id IN (?) ORDER BY duration DESC",
			qlParams: []*modelv1.TagValue{str("' OR 1=1 --"), strs("x') OR (service_id = 'webapp_service", "OR")},
			criteria: or(cond("service_id", eq, str("' OR 1=1 --")), cond("service_id", in, strs("x') OR (service_id = 'webapp_service", "OR"))),
			orderBy:  order(ruleDuration, desc),
			want:     none,
		}),

		// ---- conditions on int tags.
		g.Entry("int EQ", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration = 600 ORDER BY timestamp DESC",
			criteria: cond("duration", eq, i64(600)),
			orderBy:  order(ruleTimestamp, desc),
			want:     trs("04"),
		}),
		// duration is the sort tag of the duration rule: the condition bounds the index scan.
		g.Entry("int EQ on the sort tag", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration = 1190 ORDER BY duration ASC",
			criteria: cond("duration", eq, i64(1190)),
			orderBy:  order(ruleDuration, asc),
			want:     trs("06"),
		}),
		// 600 is 004@4, 1190 is 006@62.
		g.Entry("int IN", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration IN (?, 1190) ORDER BY timestamp ASC",
			qlParams: []*modelv1.TagValue{ints(600)},
			criteria: cond("duration", in, ints(600, 1190)),
			orderBy:  order(ruleTimestamp, asc),
			want:     trs("04", "06"),
		}),
		// < 200: 003:150@3, 005:180@6, 002:180@61.5, 006:150@63; latest first.
		g.Entry("int LT", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration < 200 ORDER BY timestamp DESC",
			criteria: cond("duration", lt, i64(200)),
			orderBy:  order(ruleTimestamp, desc),
			want:     trs("06", "02", "05", "03"),
		}),
		// <= 200 adds 002:200@2, which moves 002 first when ascending.
		g.Entry("int LE includes the bound", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration <= 200 ORDER BY timestamp ASC",
			criteria: cond("duration", le, i64(200)),
			orderBy:  order(ruleTimestamp, asc),
			want:     trs("02", "03", "05", "06"),
		}),
		// > 1000: 003:1200@2.5, 006:1190@62, 008:2100@65.5 (001's 1000 is not > 1000).
		g.Entry("int GT excludes the bound", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration > 1000 ORDER BY timestamp ASC",
			criteria: cond("duration", gt, i64(1000)),
			orderBy:  order(ruleTimestamp, asc),
			want:     trs("03", "06", "08"),
		}),
		g.Entry("int GE includes the bound", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration >= 1000 ORDER BY timestamp ASC",
			criteria: cond("duration", ge, i64(1000)),
			orderBy:  order(ruleTimestamp, asc),
			want:     trs("01", "03", "06", "08"),
		}),
		// In [400, 900], longest per trace: 005:900 008:890 002:800 001:750 007:650 004:600
		// 003:400; 006 has none (1190, 280, 150).
		g.Entry("int range on the sort tag DESC", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration >= 400 AND duration <= 900 ORDER BY duration DESC",
			criteria: and(cond("duration", ge, i64(400)), cond("duration", le, i64(900))),
			orderBy:  order(ruleDuration, desc),
			want:     trs("05", "08", "02", "01", "07", "04", "03"),
		}),
		// In (400, 900), shortest per trace: 007:420 002:450 001:500 004:600 008:890; 003 (400)
		// and 005 (900) only touch the excluded bounds.
		g.Entry("int open range on the sort tag ASC", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration > 400 AND duration < 900 ORDER BY duration ASC",
			criteria: and(cond("duration", gt, i64(400)), cond("duration", lt, i64(900))),
			orderBy:  order(ruleDuration, asc),
			want:     trs("07", "02", "01", "04", "08"),
		}),
		// < 160 or > 2000: 003:150, 006:150, 008:2100; longest first, the 150 tie by id.
		g.Entry("int OR of ranges on the sort tag", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE duration < 160 OR duration > 2000 ORDER BY duration DESC",
			criteria: or(cond("duration", lt, i64(160)), cond("duration", gt, i64(2000))),
			orderBy:  order(ruleDuration, desc),
			want:     trs("08", "03", "06"),
		}),
		// state 1 spans, shortest per trace: 002:450 004:600 007:650 001:750 008:890 ...
		g.Entry("int EQ with limit ranks by the best matching span", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE state = 1 ORDER BY duration ASC LIMIT 3",
			criteria: cond("state", eq, i64(1)),
			orderBy:  order(ruleDuration, asc),
			limit:    3,
			want:     trs("02", "04", "07"),
		}),
		// state 0 spans, longest per trace: 008:2100 001:500 007:420 003:400 005:350 006:280
		// 002:200; 004 has no state 0 span. (Over all spans 003 would come second with 1200.)
		g.Entry("a trace ranks by its best matching span", queryCase{
			ql:         "SELECT state, duration FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE state = 0 ORDER BY duration DESC",
			criteria:   cond("state", eq, i64(0)),
			orderBy:    order(ruleDuration, desc),
			projection: []string{"state", "duration"},
			want:       trs("08", "01", "07", "03", "05", "06", "02"),
		}),

		// ---- conditions on the timestamp, span id and trace id tags.
		// Spans after 60s (750@60 is not after): 001:320 002:450 006:1190 007:650 008:2100.
		g.Entry("timestamp GT", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE timestamp > ? ORDER BY duration DESC",
			qlParams: []*modelv1.TagValue{ts(time.Minute)},
			criteria: cond("timestamp", gt, ts(time.Minute)),
			orderBy:  order(ruleDuration, desc),
			want:     trs("08", "06", "07", "02", "01"),
		}),
		// timestamp is the sort tag of the timestamp rule: spans up to 2s are 001@0,0.5,1 and
		// 002@1.5,2; latest first.
		g.Entry("timestamp LE on the sort tag", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE timestamp <= ? ORDER BY timestamp DESC",
			qlParams: []*modelv1.TagValue{ts(2 * time.Second)},
			criteria: cond("timestamp", le, ts(2*time.Second)),
			orderBy:  order(ruleTimestamp, desc),
			want:     trs("02", "01"),
		}),
		g.Entry("span id EQ", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE span_id = 'span_003_2' ORDER BY duration DESC",
			criteria: cond("span_id", eq, str("span_003_2")),
			orderBy:  order(ruleDuration, desc),
			want:     trs("03"),
		}),
		// span_001_4@60 and span_006_3@63.
		g.Entry("span id IN", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE span_id IN ('span_006_3', 'span_001_4') ORDER BY timestamp ASC",
			criteria: cond("span_id", in, strs("span_006_3", "span_001_4")),
			orderBy:  order(ruleTimestamp, asc),
			want:     trs("01", "06"),
		}),
		g.Entry("trace id NE", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id != 'trace_008' ORDER BY duration DESC LIMIT 2",
			criteria: cond("trace_id", ne, str("trace_008")),
			orderBy:  order(ruleDuration, desc),
			limit:    2,
			want:     trs("03", "06"),
		}),
		g.Entry("trace id IN an empty list is empty", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id IN (?)",
			qlParams: []*modelv1.TagValue{strs()},
			criteria: cond("trace_id", in, strs()),
			want:     none,
		}),

		// ---- AND / OR trees; every condition must hold on one and the same span.
		// webapp and state 0, longest: 001:500 003:400 005:350 002:200.
		g.Entry("AND", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE service_id = 'webapp_service' AND state = 0 ORDER BY duration DESC",
			criteria: and(cond("service_id", eq, str(web)), cond("state", eq, i64(0))),
			orderBy:  order(ruleDuration, desc),
			want:     trs("01", "03", "05", "02"),
		}),
		// /db/backup is 008@65.5, auth_instance_2 is 002@61.5.
		g.Entry("OR", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE endpoint_id = '/db/backup' OR service_instance_id = 'auth_instance_2' ORDER BY timestamp DESC",
			criteria: or(cond("endpoint_id", eq, str("/db/backup")), cond("service_instance_id", eq, str("auth_instance_2"))),
			orderBy:  order(ruleTimestamp, desc),
			want:     trs("08", "02"),
		}),
		// payment or notification spans of >= 400: 006:1190, 007:650 and 420; shortest first.
		g.Entry("AND of an OR", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE (service_id = 'payment_service' OR service_id = ?) AND duration >= ? ORDER BY duration ASC",
			qlParams: []*modelv1.TagValue{str("notification_service"), i64(400)},
			criteria: and(
				or(cond("service_id", eq, str("payment_service")), cond("service_id", eq, str("notification_service"))),
				cond("duration", ge, i64(400)),
			),
			orderBy: order(ruleDuration, asc),
			want:    trs("07", "06"),
		}),
		// trace_001 has api spans (750, 320) and a 1000 span (webapp), but no span with both.
		g.Entry("conditions must hold on the same span", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE service_id = 'api_service' AND duration >= 1000 ORDER BY timestamp DESC",
			criteria: and(cond("service_id", eq, str("api_service")), cond("duration", ge, i64(1000))),
			orderBy:  order(ruleTimestamp, desc),
			want:     none,
		}),

		// ---- zipkin: array tag and its ints.
		g.Entry("HAVING one value", queryCase{
			ql:     "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE query HAVING 'user_id=123' ORDER BY zipkin-timestamp DESC",
			groups: zipkinOnly, name: traceZipkin,
			criteria: cond("query", having, strs("user_id=123")),
			orderBy:  order(ruleZipkin, desc),
			want:     ids(zt("1")),
		}),
		g.Entry("HAVING values of one span", queryCase{
			ql:       "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE query HAVING ? ORDER BY zipkin-timestamp DESC",
			qlParams: []*modelv1.TagValue{strs("order_id=456", "status=pending")},
			groups:   zipkinOnly, name: traceZipkin,
			criteria: cond("query", having, strs("order_id=456", "status=pending")),
			orderBy:  order(ruleZipkin, desc),
			want:     ids(zt("2")),
		}),
		// order_id=456 is in span_003, ttl=3600 in span_004: no single span has both.
		g.Entry("HAVING values of two spans is empty", queryCase{
			ql:     "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE query HAVING ('order_id=456', 'ttl=3600') ORDER BY zipkin-timestamp DESC",
			groups: zipkinOnly, name: traceZipkin,
			criteria: cond("query", having, strs("order_id=456", "ttl=3600")),
			orderBy:  order(ruleZipkin, desc),
			want:     none,
		}),
		// Every span but span_005 lacks health_check=true.
		g.Entry("NOT_HAVING", queryCase{
			ql:     "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE query NOT HAVING 'health_check=true' ORDER BY zipkin-timestamp ASC",
			groups: zipkinOnly, name: traceZipkin,
			criteria: cond("query", noHaving, strs("health_check=true")),
			orderBy:  order(ruleZipkin, asc),
			want:     ids(zt("1"), zt("2")),
		}),
		// Remote ports 3306 (span_002) and 6379 (span_004); the others are 0.
		g.Entry("zipkin int GT", queryCase{
			ql:     "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE remote_endpoint_port > 0 ORDER BY zipkin-timestamp ASC",
			groups: zipkinOnly, name: traceZipkin,
			criteria: cond("remote_endpoint_port", gt, i64(0)),
			orderBy:  order(ruleZipkin, asc),
			want:     ids(zt("1"), zt("2")),
		}),
		g.Entry("zipkin int EQ", queryCase{
			ql:     "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE debug = 1 ORDER BY zipkin-timestamp DESC",
			groups: zipkinOnly, name: traceZipkin,
			criteria: cond("debug", eq, i64(1)),
			orderBy:  order(ruleZipkin, desc),
			want:     ids(zt("3")),
		}),
		// CLIENT spans: span_002@0.5, span_004@1.5; latest first.
		g.Entry("zipkin string EQ on an entity tag", queryCase{
			ql:     "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE kind = 'CLIENT' ORDER BY zipkin-timestamp DESC",
			groups: zipkinOnly, name: traceZipkin,
			criteria: cond("kind", eq, str("CLIENT")),
			orderBy:  order(ruleZipkin, desc),
			want:     ids(zt("2"), zt("1")),
		}),

		// ---- projection order (API.md §7.5).
		g.Entry("projection: ordinary tags in order, then trace id, then span id", queryCase{
			ql:         "SELECT trace_id, span_id, duration, service_id FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id = 'trace_004'",
			criteria:   cond("trace_id", eq, str("trace_004")),
			projection: []string{"trace_id", "span_id", "duration", "service_id"},
			want:       trs("04"),
		}),
		g.Entry("projection: span id first in the request still comes last", queryCase{
			ql:         "SELECT span_id, endpoint_id, trace_id, state FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id = 'trace_002'",
			criteria:   cond("trace_id", eq, str("trace_002")),
			projection: []string{"span_id", "endpoint_id", "trace_id", "state"},
			want:       trs("02"),
		}),
		g.Entry("empty projection: no tags, but span bytes and span id", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC LIMIT 2",
			orderBy: order(ruleDuration, desc), limit: 2,
			want: trs("08", "03"),
		}),
		// * is every tag of the schema, in schema order.
		g.Entry("projection of every tag", queryCase{
			ql:         "SELECT * FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id = 'trace_002'",
			criteria:   cond("trace_id", eq, str("trace_002")),
			projection: []string{"trace_id", "state", "service_id", "service_instance_id", "endpoint_id", "duration", "span_id", "timestamp"},
			want:       trs("02"),
		}),
		g.Entry("projection of the timestamp tag", queryCase{
			ql:         "SELECT timestamp, state FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id = 'trace_001'",
			criteria:   cond("trace_id", eq, str("trace_001")),
			projection: []string{"timestamp", "state"},
			want:       trs("01"),
		}),
		g.Entry("zipkin projection order", queryCase{
			ql:     "SELECT trace_id, span_id, operation_name, query FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? ORDER BY zipkin-timestamp DESC",
			groups: zipkinOnly, name: traceZipkin,
			orderBy:    order(ruleZipkin, desc),
			projection: []string{"trace_id", "span_id", "operation_name", "query"},
			want:       ids(zt("3"), zt("2"), zt("1")),
		}),
		// span_001 has parent_id "" and remote_endpoint_service_name "": both read back as empty
		// strings, not null (API 0.10); its remote port 0 is an int and stays 0.
		g.Entry("empty strings read back as empty strings", queryCase{
			ql:     "SELECT parent_id, remote_endpoint_service_name, remote_endpoint_port, kind FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE trace_id IN ('zipkin_trace_001')",
			groups: zipkinOnly, name: traceZipkin,
			criteria:   cond("trace_id", in, strs(zt("1"))),
			projection: []string{"parent_id", "remote_endpoint_service_name", "remote_endpoint_port", "kind"},
			want:       ids(zt("1")),
		}),

		// ---- multi-group (API.md §7.3): sw in test-trace-group and test-trace-updated.
		// Longest per trace over both groups: 010:91011 008:2100 009:1234 003:1200 006:1190 ...
		// state is an int in one group and a string in the other; error_message is null for the
		// spans of test-trace-group (no such tag) and an empty string for trace_009.
		g.Entry("multi-group order by duration merges the groups", queryCase{
			ql:         "SELECT state, error_message, duration, trace_id FROM TRACE sw IN test-trace-group, test-trace-updated TIME BETWEEN ? AND ? ORDER BY duration DESC LIMIT 5",
			groups:     swBoth,
			orderBy:    order(ruleDuration, desc),
			limit:      5,
			projection: []string{"state", "error_message", "duration", "trace_id"},
			want:       trs("10", "08", "09", "03", "06"),
		}),
		// Latest per trace: 008:65.5 007:64 006:63 002:61.5 010:61 then 001 and 009 both at 60.5,
		// tied across groups and broken by id.
		g.Entry("multi-group order by timestamp breaks ties across groups by id", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group, test-trace-updated TIME BETWEEN ? AND ? ORDER BY timestamp DESC LIMIT 7",
			groups:  swBoth,
			orderBy: order(ruleTimestamp, desc),
			limit:   7,
			want:    trs("08", "07", "06", "02", "10", "01", "09"),
		}),
		// Merged longest-first: 010 008 009 003 006 001 ...; each group must return offset+limit.
		g.Entry("multi-group offset counts merged traces", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group, test-trace-updated TIME BETWEEN ? AND ? ORDER BY duration DESC LIMIT 3 OFFSET 2",
			groups:  swBoth,
			orderBy: order(ruleDuration, desc),
			offset:  2, limit: 3,
			want: trs("09", "03", "06"),
		}),
		// Earliest span in [60s, 1h]: 001:60 009:60 002:61 010:61 006:62 007:63.5 008:64.5; the
		// cross-group ties break by id.
		g.Entry("multi-group ascending merge with ties", queryCase{
			ql:        "SELECT () FROM TRACE sw IN test-trace-group, test-trace-updated TIME BETWEEN ? AND ? ORDER BY timestamp ASC LIMIT 6",
			groups:    swBoth,
			orderBy:   order(ruleTimestamp, asc),
			timeRange: func(b time.Time) *modelTimeRange { return timeRange(b, time.Minute, time.Hour) },
			limit:     6,
			want:      trs("01", "09", "02", "10", "06", "07"),
		}),
		g.Entry("multi-group by trace ids", queryCase{
			ql:         "SELECT state, error_message FROM TRACE sw IN test-trace-group, test-trace-updated TIME BETWEEN ? AND ? WHERE trace_id IN ('trace_010', 'trace_001', 'trace_009')",
			groups:     swBoth,
			criteria:   cond("trace_id", in, strs("trace_010", "trace_001", "trace_009")),
			projection: []string{"state", "error_message"},
			want:       trs("01", "09", "10"),
		}),
		// api_service spans: 001:750 (test-trace-group), 009:1234, 010:91011.
		g.Entry("multi-group condition on a tag of both groups", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group, test-trace-updated TIME BETWEEN ? AND ? WHERE service_id = 'api_service' ORDER BY duration DESC",
			groups:   swBoth,
			criteria: cond("service_id", eq, str("api_service")),
			orderBy:  order(ruleDuration, desc),
			want:     trs("10", "09", "01"),
		}),

		// ---- errors.
		g.Entry("unknown group", queryCase{
			ql:     "SELECT () FROM TRACE sw IN no-such-group TIME BETWEEN ? AND ? ORDER BY duration DESC",
			groups: []string{"no-such-group"}, orderBy: order(ruleDuration, desc),
			wantErr: codes.NotFound,
		}),
		g.Entry("one unknown group of two", queryCase{
			ql:     "SELECT () FROM TRACE sw IN test-trace-group, no-such-group TIME BETWEEN ? AND ? ORDER BY duration DESC",
			groups: []string{groupSW, "no-such-group"}, orderBy: order(ruleDuration, desc),
			wantErr: codes.NotFound,
		}),
		g.Entry("unknown trace", queryCase{
			ql:   "SELECT () FROM TRACE no_such_trace IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC",
			name: "no_such_trace", orderBy: order(ruleDuration, desc),
			wantErr: codes.NotFound,
		}),
		g.Entry("no group", queryCase{
			ql:     "SELECT () FROM TRACE sw IN () TIME BETWEEN ? AND ? ORDER BY duration DESC",
			groups: []string{}, orderBy: order(ruleDuration, desc),
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("unknown tag in the criteria", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE no_such_tag = 'x' ORDER BY duration DESC",
			criteria: cond("no_such_tag", eq, str("x")), orderBy: order(ruleDuration, desc),
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("unknown tag in the criteria of a trace id query", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE trace_id = 'trace_001' AND no_such_tag = 'x'",
			criteria: and(cond("trace_id", eq, str("trace_001")), cond("no_such_tag", eq, str("x"))),
			wantErr:  codes.InvalidArgument,
		}),
		g.Entry("unknown tag in the projection", queryCase{
			ql:      "SELECT duration, no_such_tag FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC",
			orderBy: order(ruleDuration, desc), projection: []string{"duration", "no_such_tag"},
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("order by an index rule that does not exist", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY no_such_rule DESC",
			orderBy: order("no_such_rule", desc),
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("order by an index rule of another trace", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY zipkin-timestamp DESC",
			orderBy: order(ruleZipkin, desc),
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("IN on an array tag", queryCase{
			ql:     "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE query IN ('user_id=123') ORDER BY zipkin-timestamp DESC",
			groups: zipkinOnly, name: traceZipkin,
			criteria: cond("query", in, strs("user_id=123")), orderBy: order(ruleZipkin, desc),
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("NOT_IN on an array tag", queryCase{
			ql:     "SELECT () FROM TRACE zipkin IN zipkinTrace TIME BETWEEN ? AND ? WHERE query NOT IN ('user_id=123') ORDER BY zipkin-timestamp DESC",
			groups: zipkinOnly, name: traceZipkin,
			criteria: cond("query", notIn, strs("user_id=123")), orderBy: order(ruleZipkin, desc),
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("neither trace ids nor order_by", queryCase{
			ql:       "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? WHERE service_id = 'webapp_service'",
			criteria: cond("service_id", eq, str(web)),
			wantErr:  codes.InvalidArgument,
		}),
		g.Entry("order_by without a rule name and no trace id", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY DESC",
			orderBy: order("", desc),
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("a time range below millisecond precision", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC",
			orderBy: order(ruleDuration, desc),
			timeRange: func(b time.Time) *modelTimeRange {
				return timeRange(b, time.Microsecond, time.Hour)
			},
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("a time range that ends before it begins", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC",
			orderBy: order(ruleDuration, desc),
			timeRange: func(b time.Time) *modelTimeRange {
				return timeRange(b, time.Hour, 0)
			},
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("a time range without an end", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ? ORDER BY duration DESC",
			orderBy: order(ruleDuration, desc),
			timeRange: func(b time.Time) *modelTimeRange {
				tr := timeRange(b, 0, time.Hour)
				tr.End = nil
				return tr
			},
			wantErr: codes.InvalidArgument,
		}),
		g.Entry("neither trace ids nor order_by nor criteria", queryCase{
			ql:      "SELECT () FROM TRACE sw IN test-trace-group TIME BETWEEN ? AND ?",
			wantErr: codes.InvalidArgument,
		}),
	}
}
