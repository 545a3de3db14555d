// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Command loadfixtures loads the trace fixtures into a running server, as the test suites do:
// the schemas (groups, traces, index rules, bindings; existing ones are kept), then every span
// fixture written 10 minutes before now (API.md §8.2). `make load-fixtures` runs it against
// localhost:17912; the examples of docs/bydbql.md answer from this data.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/apache/skywalking-banyandb/test/helpers"
)

func main() {
	addr := flag.String("addr", "localhost:17912", "the gRPC address of the server")
	flag.Parse()
	if err := load(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "loadfixtures:", err)
		os.Exit(1)
	}
}

func load(addr string) error {
	conn, err := helpers.Dial(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := helpers.LoadSchemas(ctx, conn); err != nil {
		return err
	}
	base := helpers.FixtureBase(time.Now())
	if err := helpers.WriteFixtureSpans(ctx, conn, base); err != nil {
		return err
	}
	fmt.Printf("loaded the schema and span fixtures into %s; the spans start at %s\n", addr, base.UTC().Format(time.RFC3339Nano))
	return nil
}
