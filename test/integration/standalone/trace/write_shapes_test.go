// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	. "github.com/onsi/ginkgo/v2"
	"google.golang.org/grpc"

	cases "github.com/apache/skywalking-banyandb/test/cases/trace"
)

var _ = Describe("API 0.10 writes", func() {
	cases.RegisterWriteShapeCases(func() *grpc.ClientConn { return sharedConn }, "v010-shapes")
})
