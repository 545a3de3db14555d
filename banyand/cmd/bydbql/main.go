// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Command bydbql is the command-line client of BydbQL for BanyanDB traces: `bydbql` opens a
// shell, `bydbql -e 'SELECT ...'` runs one statement; `bydbql -h` lists the flags.
package main

import (
	"os"

	"github.com/apache/skywalking-banyandb/pkg/bydbql/shell"
)

func main() {
	os.Exit(shell.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
