// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package testenv

import (
	"context"
	"testing"

	"github.com/apache/skywalking-banyandb/pkg/run"
)

// PreRun takes a unit through the steps of run.Group before serving: when it is a run.Config,
// it parses args with its flag set and validates; when it is a run.PreRunner, it pre-runs. Any
// failure fails the test. The caller serves the unit (after wiring what must come between) and
// stops it.
func PreRun(t testing.TB, u run.Unit, args ...string) {
	t.Helper()
	if c, ok := u.(run.Config); ok {
		if err := c.FlagSet().Parse(args); err != nil {
			t.Fatalf("%s: flags %v: %v", u.Name(), args, err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: validate: %v", u.Name(), err)
		}
	}
	if p, ok := u.(run.PreRunner); ok {
		if err := p.PreRun(context.Background()); err != nil {
			t.Fatalf("%s: pre-run: %v", u.Name(), err)
		}
	}
}
