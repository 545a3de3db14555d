// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"time"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// The fixture spans, transcribed by hand from pkg/test/trace/testdata/spans/*.json so that the wanted
// outputs of the cases do not depend on the code that writes the fixtures (data_test.go checks the
// transcription against the files). Each span sits at base + its file's offset + index*500ms
// (API.md §8.2): sw.json and zipkin.json at base, sw_mixed_traces.json and sw_updated.json at
// base+1min.

const (
	groupSW      = "test-trace-group"
	groupUpdated = "test-trace-updated"
	groupZipkin  = "zipkinTrace"
	traceSW      = "sw"
	traceZipkin  = "zipkin"
)

// fixtureSpan is one written span: where it went, its ids and bytes, its time offset from the base
// and every other tag value as written (empty strings included).
type fixtureSpan struct {
	tags    map[string]*modelv1.TagValue
	group   string
	traceID string
	spanID  string
	span    string
	offset  time.Duration
}

func str(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}

func i64(n int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: n}}}
}

func strs(s ...string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_StrArray{StrArray: &modelv1.StrArray{Value: s}}}
}

func ints(n ...int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_IntArray{IntArray: &modelv1.IntArray{Value: n}}}
}

func at(file time.Duration, i int) time.Duration {
	return file + time.Duration(i)*500*time.Millisecond
}

// sw is a span of test-trace-group/sw (sw.json at base, sw_mixed_traces.json at base+1min).
func sw(file time.Duration, i int, traceID string, state int64, service, instance, endpoint string, duration int64, spanID string) fixtureSpan {
	return fixtureSpan{
		group: groupSW, traceID: traceID, spanID: spanID, offset: at(file, i),
		span: traceID + "_span_" + spanID[len(spanID)-1:],
		tags: map[string]*modelv1.TagValue{
			"state": i64(state), "service_id": str(service), "service_instance_id": str(instance),
			"endpoint_id": str(endpoint), "duration": i64(duration),
		},
	}
}

// swUpdated is a span of test-trace-updated/sw (sw_updated.json at base+1min): state is a STRING
// there and error_message exists.
func swUpdated(i int, traceID, state, service, instance, endpoint string, duration int64, spanID, errMsg string) fixtureSpan {
	return fixtureSpan{
		group: groupUpdated, traceID: traceID, spanID: spanID, offset: at(time.Minute, i),
		span: traceID + "_span_" + spanID[len(spanID)-1:],
		tags: map[string]*modelv1.TagValue{
			"state": str(state), "service_id": str(service), "service_instance_id": str(instance),
			"endpoint_id": str(endpoint), "duration": i64(duration), "error_message": str(errMsg),
		},
	}
}

type zipkinSpan struct {
	query      []string
	traceID    string
	spanID     string
	parentID   string
	operation  string
	kind       string
	service    string
	ipv4       string
	remote     string
	remoteIPv4 string
	duration   int64
	port       int64
	remotePort int64
	shared     int64
	debug      int64
	index      int
}

// zipkin is a span of zipkinTrace/zipkin (zipkin.json at base).
func zipkin(z zipkinSpan) fixtureSpan {
	return fixtureSpan{
		group: groupZipkin, traceID: z.traceID, spanID: z.spanID, offset: at(0, z.index),
		span: z.traceID + "_" + z.spanID,
		tags: map[string]*modelv1.TagValue{
			"parent_id": str(z.parentID), "operation_name": str(z.operation), "kind": str(z.kind),
			"duration": i64(z.duration), "local_endpoint_service_name": str(z.service),
			"local_endpoint_ipv4": str(z.ipv4), "local_endpoint_port": i64(z.port),
			"remote_endpoint_service_name": str(z.remote), "remote_endpoint_ipv4": str(z.remoteIPv4),
			"remote_endpoint_port": i64(z.remotePort), "shared": i64(z.shared), "debug": i64(z.debug),
			"query": strs(z.query...),
		},
	}
}

const (
	web  = "webapp_service"
	min1 = time.Minute
)

// fixtureSpans is every span of the four fixture files, file by file, in file order.
var fixtureSpans = []fixtureSpan{
	// sw.json -> test-trace-group at base.
	sw(0, 0, "trace_001", 1, web, "webapp_instance_1", "/home_endpoint", 1000, "span_001_1"),
	sw(0, 1, "trace_001", 0, web, "webapp_instance_2", "/product_endpoint", 500, "span_001_2"),
	sw(0, 2, "trace_001", 0, web, "webapp_instance_1", "/item_endpoint", 300, "span_001_3"),
	sw(0, 3, "trace_002", 1, web, "webapp_instance_1", "/home_endpoint", 800, "span_002_1"),
	sw(0, 4, "trace_002", 0, web, "webapp_instance_3", "/price_endpoint", 200, "span_002_2"),
	sw(0, 5, "trace_003", 1, web, "webapp_instance_2", "/product_endpoint", 1200, "span_003_1"),
	sw(0, 6, "trace_003", 0, web, "webapp_instance_1", "/home_endpoint", 150, "span_003_2"),
	sw(0, 7, "trace_003", 0, web, "webapp_instance_3", "/price_endpoint", 400, "span_003_3"),
	sw(0, 8, "trace_004", 1, web, "webapp_instance_2", "/home_endpoint", 600, "span_004_1"),
	sw(0, 9, "trace_005", 1, web, "webapp_instance_2", "/product_endpoint", 900, "span_005_1"),
	sw(0, 10, "trace_005", 0, web, "webapp_instance_1", "/home_endpoint", 250, "span_005_2"),
	sw(0, 11, "trace_005", 0, web, "webapp_instance_3", "/price_endpoint", 350, "span_005_3"),
	sw(0, 12, "trace_005", 0, web, "webapp_instance_1", "/item_endpoint", 180, "span_005_4"),
	// sw_mixed_traces.json -> test-trace-group at base+1min.
	sw(min1, 0, "trace_001", 1, "api_service", "api_instance_1", "/api/v1/users", 750, "span_001_4"),
	sw(min1, 1, "trace_001", 0, "api_service", "api_instance_2", "/api/v1/profile", 320, "span_001_5"),
	sw(min1, 2, "trace_002", 1, "auth_service", "auth_instance_1", "/auth/login", 450, "span_002_3"),
	sw(min1, 3, "trace_002", 0, "auth_service", "auth_instance_2", "/auth/validate", 180, "span_002_4"),
	sw(min1, 4, "trace_006", 1, "payment_service", "payment_instance_1", "/payment/process", 1190, "span_006_1"),
	sw(min1, 5, "trace_006", 0, "payment_service", "payment_instance_2", "/payment/verify", 280, "span_006_2"),
	sw(min1, 6, "trace_006", 0, "payment_service", "payment_instance_3", "/payment/refund", 150, "span_006_3"),
	sw(min1, 7, "trace_007", 1, "notification_service", "notification_instance_1", "/notification/send", 650, "span_007_1"),
	sw(min1, 8, "trace_007", 0, "notification_service", "notification_instance_2", "/notification/email", 420, "span_007_2"),
	sw(min1, 9, "trace_008", 1, "database_service", "database_instance_1", "/db/query", 890, "span_008_1"),
	sw(min1, 10, "trace_008", 0, "database_service", "database_instance_2", "/db/transaction", 340, "span_008_2"),
	sw(min1, 11, "trace_008", 0, "database_service", "database_instance_3", "/db/backup", 2100, "span_008_3"),
	// sw_updated.json -> test-trace-updated at base+1min.
	swUpdated(0, "trace_009", "success", "api_service", "api_instance_1", "/api_endpoint", 1234, "span_009_1", ""),
	swUpdated(1, "trace_009", "success", "api_service", "api_instance_2", "/data_endpoint", 500, "span_009_2", ""),
	swUpdated(2, "trace_010", "error", "api_service", "api_instance_3", "/api_endpoint", 91011, "span_010_1", "Connection timeout"),
	// zipkin.json -> zipkinTrace at base.
	zipkin(zipkinSpan{
		index: 0, traceID: "zipkin_trace_001", spanID: "span_001", operation: "/api/users", kind: "SERVER",
		duration: 1500, service: "user-service", ipv4: "192.168.1.10", port: 8080,
		query: []string{"user_id=123", "limit=10", "offset=0"},
	}),
	zipkin(zipkinSpan{
		index: 1, traceID: "zipkin_trace_001", spanID: "span_002", parentID: "span_001", operation: "/db/query", kind: "CLIENT",
		duration: 800, service: "user-service", ipv4: "192.168.1.10", port: 8080,
		remote: "database-service", remoteIPv4: "192.168.1.20", remotePort: 3306,
		query: []string{"SELECT * FROM users", "WHERE id=123"},
	}),
	zipkin(zipkinSpan{
		index: 2, traceID: "zipkin_trace_002", spanID: "span_003", operation: "/api/orders", kind: "SERVER",
		duration: 2200, service: "order-service", ipv4: "192.168.1.15", port: 8090,
		query: []string{"order_id=456", "status=pending", "customer_id=789"},
	}),
	zipkin(zipkinSpan{
		index: 3, traceID: "zipkin_trace_002", spanID: "span_004", parentID: "span_003", operation: "/cache/get", kind: "CLIENT",
		duration: 300, service: "order-service", ipv4: "192.168.1.15", port: 8090,
		remote: "redis-service", remoteIPv4: "192.168.1.30", remotePort: 6379,
		query: []string{"GET order:456", "ttl=3600"},
	}),
	zipkin(zipkinSpan{
		index: 4, traceID: "zipkin_trace_003", spanID: "span_005", operation: "/api/health", kind: "SERVER",
		duration: 50, service: "health-service", ipv4: "192.168.1.5", port: 8070, debug: 1,
		query: []string{"health_check=true"},
	}),
}
