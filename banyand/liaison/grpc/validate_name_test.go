// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		reason string // "" when the name is accepted
	}{
		{name: "plain", in: "sw_trace"},
		{name: "dots inside", in: "a.b..c"},
		{name: "leading dot", in: ".hidden"},
		{name: "three dots", in: "..."},
		{name: "space", in: "my group"},
		{name: "unicode letters", in: "追踪-ß"},
		{name: "longest", in: strings.Repeat("a", MaxNameBytes)},
		{name: "longest in multi-byte runes", in: strings.Repeat("é", MaxNameBytes/2)},
		{name: "empty", in: "", reason: "must not be empty"},
		{name: "dot", in: ".", reason: "reserved"},
		{name: "dot dot", in: "..", reason: "reserved"},
		{name: "too long", in: strings.Repeat("a", MaxNameBytes+1), reason: "256 bytes long"},
		{name: "too long in bytes, short in runes", in: strings.Repeat("é", MaxNameBytes/2+1), reason: "bytes long"},
		{name: "slash", in: "a/b", reason: "must not contain '/'"},
		{name: "only slash", in: "/", reason: "must not contain '/'"},
		{name: "parent path", in: "../x", reason: "must not contain '/'"},
		{name: "backslash", in: `a\b`, reason: `must not contain '\\'`},
		{name: "nul", in: "a\x00b", reason: `must not contain '\x00'`},
		{name: "newline", in: "a\nb", reason: "printable"},
		{name: "tab", in: "a\tb", reason: "printable"},
		{name: "delete", in: "a\x7fb", reason: "printable"},
		{name: "zero width space", in: "a\u200bb", reason: "printable"},
		{name: "invalid utf-8", in: "a\xffb", reason: "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.in)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v, want accepted", tt.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("ValidateName(%q) = %v, want a reason containing %q", tt.in, err, tt.reason)
			}
		})
	}
}

// TestValidateNameReachesEveryKind checks that the registry validators use the name rule for
// every kind of name they carry.
func TestValidateNameReachesEveryKind(t *testing.T) {
	for _, bad := range []string{".", "..", "a\x00", strings.Repeat("n", MaxNameBytes+1)} {
		g := validGroup()
		g.Metadata.Name = bad
		expectFieldError(t, ValidateGroup(g), "group.metadata.name")
		tr := validTrace()
		tr.Metadata.Group = bad
		expectFieldError(t, ValidateTrace(tr), "trace.metadata.group")
		tr = validTrace()
		tr.Metadata.Name = bad
		expectFieldError(t, ValidateTrace(tr), "trace.metadata.name")
		r := validRule()
		r.Metadata.Name = bad
		expectFieldError(t, ValidateIndexRule(r), "index_rule.metadata.name")
		b := validBinding()
		b.Metadata.Name = bad
		expectFieldError(t, ValidateIndexRuleBinding(b), "index_rule_binding.metadata.name")
		b = validBinding()
		b.Rules[0] = bad
		expectFieldError(t, ValidateIndexRuleBinding(b), "index_rule_binding.rules[0]")
		b = validBinding()
		b.Subject.Name = bad
		expectFieldError(t, ValidateIndexRuleBinding(b), "index_rule_binding.subject.name")
	}
}

func expectFieldError(t *testing.T, err error, field string) {
	t.Helper()
	fe, ok := err.(*FieldError)
	if !ok {
		t.Fatalf("got %v (%T), want a *FieldError for %s", err, err, field)
	}
	if fe.Field != field {
		t.Fatalf("got field %q (%s), want %q", fe.Field, fe.Reason, field)
	}
}

// FuzzValidateName checks that every accepted name is one plain directory entry: joined to a
// root it names a child of that root, and that child can be created and removed. The seed corpus
// is in testdata/fuzz/FuzzValidateName.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"sw_trace", ".", "..", "a/b", `a\b`, "a\x00b", "", "...", "\xff", strings.Repeat("x", 256)} {
		f.Add(s)
	}
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if (err == nil) != (ValidateName(name) == nil) {
			t.Fatalf("ValidateName(%q) is not deterministic", name)
		}
		if err != nil {
			return
		}
		if len(name) == 0 || len(name) > MaxNameBytes || !utf8.ValidString(name) {
			t.Fatalf("accepted %q: %d bytes, valid UTF-8 %v", name, len(name), utf8.ValidString(name))
		}
		if strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
			t.Fatalf("accepted %q, which holds a path separator or is a dot name", name)
		}
		path := filepath.Join(root, name)
		if filepath.Dir(path) != root || filepath.Base(path) != name {
			t.Fatalf("accepted %q, which joins to %q, not a child of %q", name, path, root)
		}
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatalf("accepted %q, which cannot be created: %v", name, err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatalf("remove %q: %v", path, err)
		}
	})
}
