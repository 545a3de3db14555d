// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tagspec

import (
	"testing"

	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
)

// BenchmarkNormalizeWithSpec is the per-request cost of a sticky tag spec (what every write of a
// 0.10 client pays): the sw schema's eight tags, named in another order.
func BenchmarkNormalizeWithSpec(b *testing.B) {
	sc := NewSchema([]string{"trace_id", "state", "service_id", "service_instance_id", "endpoint_id", "duration", "span_id", "timestamp"},
		"trace_id", "timestamp")
	spec := NewSpec([]string{"timestamp", "duration", "span_id", "service_id", "trace_id", "endpoint_id", "state", "service_instance_id"})
	tags := make([]*modelv1.TagValue, 8)
	for i := range tags {
		tags[i] = &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: int64(i)}}}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, st, reason := spec.Normalize(sc, tags); st != modelv1.Status_STATUS_SUCCEED {
			b.Fatal(reason)
		}
	}
}
