// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package embeddedetcd

import (
	"net"
	"strconv"

	"github.com/pkg/errors"
)

// RandomLoopbackURL returns "http://127.0.0.1:<port>" with a port that was free when it was
// picked. It is meant for tests: another process may take the port before it is used.
func RandomLoopbackURL() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", errors.Wrap(err, "pick a free loopback port")
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err = l.Close(); err != nil {
		return "", errors.Wrap(err, "release the picked port")
	}
	return "http://127.0.0.1:" + strconv.Itoa(port), nil
}
