// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package auth_test is the authentication suite: it runs banyand-server standalone with
// --auth-config-file on random loopback ports and checks, through its real gRPC and HTTP
// listeners, that calls without credentials or with wrong ones are refused, that plain and bcrypt
// passwords let their users in, that health needs none, that the users file is reloaded when it
// changes, and that a users file readable by others stops the start.
package auth_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/apache/skywalking-banyandb/test/helpers"
)

func TestAuth(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Authentication suite")
}

var _ = BeforeSuite(func() {
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
})

var _ = AfterSuite(func() {
	Expect(helpers.CleanupAll()).To(Succeed())
})
