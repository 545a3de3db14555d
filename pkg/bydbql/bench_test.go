// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"context"
	"testing"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// BenchmarkCompile measures parse+bind+transform of a typical trace query, the cost BydbQL adds
// in front of a QueryRequest (the schema lookup is an in-memory map here).
func BenchmarkCompile(b *testing.B) {
	const stmt = "SELECT trace_id, service_id, duration FROM TRACE sw IN test-trace-group, test-trace-updated " +
		"TIME BETWEEN ? AND ? WHERE service_id = ? AND duration >= ? AND state IN (0, 1) ORDER BY duration DESC LIMIT 20"
	params := []*modelv1.TagValue{pStr("-1h"), pStr("now"), pStr("webapp"), pInt(500)}
	tf := testTransformer()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tf.Compile(ctx, stmt, params); err != nil {
			b.Fatal(err)
		}
	}
}
