// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package trace holds the trace fixtures every test and the benchmark use: the schemas under
// testdata/schema/{groups,traces,index_rules,index_rule_bindings} and the spans under
// testdata/spans, embedded in the binary so that no test depends on a directory outside the
// repository. A fixture that is missing is an error, never a skipped test.
package trace

import (
	"embed"
	"io/fs"
	"path"
	"strings"

	"github.com/pkg/errors"
)

//go:embed testdata
var embedded embed.FS

// root is the directory of embedded that holds the fixture tree.
const root = "testdata"

// ReadFile returns the fixture at rel, a slash-separated path such as "schema/traces/sw.json".
func ReadFile(rel string) ([]byte, error) {
	b, err := embedded.ReadFile(path.Join(root, rel))
	if err != nil {
		return nil, errors.Wrapf(err, "read fixture %s", rel)
	}
	return b, nil
}

// Glob returns the fixtures matching pattern (fs.Glob syntax, e.g. "schema/groups/*.json"), as
// paths relative to the tree like ReadFile takes, in name order; no match is an error, since every
// directory of the tree holds fixtures.
func Glob(pattern string) ([]string, error) {
	names, err := fs.Glob(embedded, path.Join(root, pattern))
	if err != nil {
		return nil, errors.Wrapf(err, "list fixtures %s", pattern)
	}
	if len(names) == 0 {
		return nil, errors.Errorf("no fixture matches %s", pattern)
	}
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, root+"/")
	}
	return names, nil
}
