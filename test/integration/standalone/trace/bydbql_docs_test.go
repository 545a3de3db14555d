// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/apache/skywalking-banyandb/pkg/bydbql/shell"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// docExample is a ```sql block of docs/bydbql.md and the ```text block after it, the output the
// page shows. A first line `-- bydbql FLAGS` gives the client's flags.
var docExample = regexp.MustCompile("(?s)```sql\n(.*?)```\n\n```text\n(.*?)```")

// rfc3339 matches the times of day in an output, which depend on when the fixtures were written.
var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

// Every example of docs/bydbql.md runs through the client against the fixtures and prints what the
// page shows. BYDBQL_UPDATE_DOCS=1 writes the outputs into the page instead.
var _ = Describe("The examples of docs/bydbql.md", func() {
	It("print what the page shows", func() {
		root, err := helpers.RepoRoot()
		Expect(err).NotTo(HaveOccurred())
		path := filepath.Join(root, "docs", "bydbql.md")
		page, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		matches := docExample.FindAllSubmatchIndex(page, -1)
		Expect(len(matches)).To(BeNumerically(">=", 10), "examples in %s", path)
		update := os.Getenv("BYDBQL_UPDATE_DOCS") == "1"
		var rewritten []byte
		last := 0
		for _, m := range matches {
			stmt := string(page[m[2]:m[3]])
			shown := string(page[m[4]:m[5]])
			args := []string{"--addr", shared.Addr, "--history", ""}
			if first, _, _ := strings.Cut(stmt, "\n"); strings.HasPrefix(first, "-- bydbql ") {
				args = append(args, splitShellWords(strings.TrimPrefix(first, "-- bydbql "))...)
			}
			var out, errOut bytes.Buffer
			shell.Main(args, strings.NewReader(stmt), &out, &errOut)
			got := out.String() + errOut.String()
			if update {
				rewritten = append(rewritten, page[last:m[4]]...)
				rewritten = append(rewritten, got...)
				last = m[5]
				continue
			}
			Expect(rfc3339.ReplaceAllString(got, "TIME")).To(Equal(rfc3339.ReplaceAllString(shown, "TIME")), "the example\n%s", stmt)
		}
		if update {
			rewritten = append(rewritten, page[last:]...)
			Expect(os.WriteFile(path, rewritten, 0o600)).To(Succeed())
		}
	})
})

// splitShellWords splits flags the way a shell would for the quoting the page uses: words apart at
// spaces, '...' and "..." keeping what they hold.
func splitShellWords(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	has := false
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, has = r, true
		case r == ' ':
			if has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(r)
			has = true
		}
	}
	if has {
		out = append(out, cur.String())
	}
	return out
}
