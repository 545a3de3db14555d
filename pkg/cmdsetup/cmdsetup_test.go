// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package cmdsetup

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	apiversion "github.com/apache/skywalking-banyandb/api/proto/banyandb"
)

// execute runs the root command with args and returns what it printed.
func execute(t *testing.T, args ...string) string {
	t.Helper()
	root := NewRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("banyand-server %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// helpFlags parses the flag lines of a --help output into name -> the line's text after the name.
func helpFlags(t *testing.T, help string) map[string]string {
	t.Helper()
	flags := map[string]string{}
	line := regexp.MustCompile(`^\s+(?:-\w, )?--([a-z0-9-]+)(.*)$`)
	for _, l := range strings.Split(help, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			flags[m[1]] = m[2]
		}
	}
	if len(flags) == 0 {
		t.Fatalf("no flags in the help output:\n%s", help)
	}
	return flags
}

// defaultOf returns what --help shows as a flag's default, or "" when it shows none.
func defaultOf(text string) string {
	m := regexp.MustCompile(`\(default (.*)\)\s*$`).FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return strings.Trim(m[1], `"`)
}

type flagWant struct {
	name string
	// def is the default --help shows; "" means it shows none (an empty default).
	def string
	// value is what the flag parses to without arguments, when it differs from def.
	value *string
}

func (w flagWant) parsed() string {
	if w.value != nil {
		return *w.value
	}
	return w.def
}

var (
	empty      = ""
	falseValue = "false"
)

var (
	// Flags every role has, with upstream BanyanDB's names and defaults.
	commonFlags = []flagWant{
		{name: "grpc-port", def: "17912"},
		{name: "grpc-host"},
		{name: "logging-level", def: "info"},
		{name: "logging-env", def: "prod"},
		{name: "node-host-provider", def: "hostname"},
		{name: "node-host"},
		{name: "observability-listener-addr", def: ":2121"},
		// Go's profiler is off unless asked for.
		{name: "observability-pprof-enabled", value: &falseValue},
		{name: "allowed-percent", def: "75"},
		{name: "namespace", def: "banyandb"},
		{name: "trace-root-path", def: "/tmp"},
		// The data path defaults to a directory under the root path, which the help spells out.
		{name: "trace-data-path", def: "<trace-root-path>/trace/data", value: &empty},
		{name: "trace-flush-timeout", def: "1s"},
		{name: "trace-max-disk-usage-percent", def: "95"},
	}
	// Flags of the nodes that store traces.
	storageFlags = []flagWant{
		{name: "trace-series-cache-max-size", def: "32mb"},
		{name: "trace-max-file-snapshot-num", def: "2"},
	}
	// Flags of the nodes that serve the public API.
	apiFlags = []flagWant{
		{name: "max-recv-msg-size", def: "10mb"},
		{name: "cert-file"},
		{name: "key-file"},
		{name: "auth-config-file"},
		{name: "auth-reload-interval", def: "5s"},
	}
	// Flags of the nodes that reach an external etcd.
	etcdClientFlags = []flagWant{
		{name: "etcd-endpoints", def: "[http://localhost:2379]"},
		{name: "etcd-username"},
		{name: "etcd-password"},
	}
	// Flags of the embedded etcd of a standalone server.
	embeddedEtcdFlags = []flagWant{
		{name: "metadata-root-path", def: "/tmp"},
		{name: "etcd-listen-client-url", def: "http://localhost:2379"},
		{name: "etcd-listen-peer-url", def: "http://localhost:2380"},
	}
)

func concat(lists ...[]flagWant) []flagWant {
	var out []flagWant
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func TestRoleCommandsExposeTheUpstreamFlags(t *testing.T) {
	tests := []struct {
		role   string
		want   []flagWant
		absent []string
	}{
		{
			role:   "standalone",
			want:   concat(commonFlags, storageFlags, apiFlags, embeddedEtcdFlags),
			absent: []string{"etcd-endpoints"},
		},
		{
			role:   "liaison",
			want:   concat(commonFlags, apiFlags, etcdClientFlags),
			absent: []string{"trace-series-cache-max-size", "trace-max-file-snapshot-num", "metadata-root-path", "etcd-listen-client-url"},
		},
		{
			role:   "data",
			want:   concat(commonFlags, storageFlags, etcdClientFlags),
			absent: []string{"metadata-root-path", "etcd-listen-client-url", "http-port", "auth-config-file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			help := execute(t, tt.role, "--help")
			if !strings.Contains(help, "banyand-server "+tt.role) {
				t.Fatalf("the help of %s does not show its usage:\n%s", tt.role, help)
			}
			flags := helpFlags(t, help)
			for _, w := range tt.want {
				text, ok := flags[w.name]
				if !ok {
					t.Errorf("--%s is missing from %s --help", w.name, tt.role)
					continue
				}
				if got := defaultOf(text); got != w.def {
					t.Errorf("%s --%s: help shows default %q, want %q", tt.role, w.name, got, w.def)
				}
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s --%s has no description", tt.role, w.name)
				}
			}
			for _, name := range tt.absent {
				if _, ok := flags[name]; ok {
					t.Errorf("%s exposes --%s, which that role has no use for", tt.role, name)
				}
			}
			// The HTTP port, where a role has one, is upstream's 17913.
			if text, ok := flags["http-port"]; ok {
				if got := defaultOf(text); got != "17913" {
					t.Errorf("%s --http-port: help shows default %q, want 17913", tt.role, got)
				}
			}
		})
	}
}

func TestRoleFlagsParseToTheirDefaults(t *testing.T) {
	for _, role := range []string{"standalone", "liaison", "data"} {
		t.Run(role, func(t *testing.T) {
			root := NewRoot()
			cmd, _, err := root.Find([]string{role})
			if err != nil || cmd.Name() != role {
				t.Fatalf("subcommand %s not found: %v", role, err)
			}
			fs := cmd.Flags()
			if err := fs.Parse(nil); err != nil {
				t.Fatal(err)
			}
			for _, w := range commonFlags {
				f := fs.Lookup(w.name)
				if f == nil {
					t.Errorf("--%s is missing", w.name)
					continue
				}
				if got := strings.Trim(f.Value.String(), `"`); got != w.parsed() {
					t.Errorf("--%s parses to %q without arguments, want %q", w.name, got, w.parsed())
				}
			}
		})
	}
}

func TestVersionCommandPrints(t *testing.T) {
	out := execute(t, "version")
	if !strings.Contains(out, apiversion.Version) {
		t.Fatalf("version printed %q, want it to name API version %s", out, apiversion.Version)
	}
	if !strings.Contains(out, apiversion.Revision) {
		t.Fatalf("version printed %q, want it to name revision %s", out, apiversion.Revision)
	}
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("version output %q does not end in a newline", out)
	}
	// The root command's --version says the same.
	if out := execute(t, "--version"); !strings.Contains(out, apiversion.Version) {
		t.Fatalf("--version printed %q", out)
	}
}

func TestRootListsEveryRole(t *testing.T) {
	help := execute(t, "--help")
	for _, sub := range []string{"standalone", "liaison", "data", "version"} {
		if !regexp.MustCompile(`(?m)^\s+` + sub + `\s`).MatchString(help) {
			t.Errorf("the root help does not list %s:\n%s", sub, help)
		}
	}
}

func TestNodesRefuseInvalidFlagsBeforeStarting(t *testing.T) {
	builders := map[string]func() (*Node, error){"standalone": NewStandalone, "liaison": NewLiaison, "data": NewData}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "empty trace root", args: []string{"--trace-root-path="}, want: "root path is empty"},
		{name: "disk usage above 100", args: []string{"--trace-max-disk-usage-percent=101"}, want: "--trace-max-disk-usage-percent"},
		{name: "bad log level", args: []string{"--logging-level=loud"}, want: "--logging-level"},
	}
	for role, build := range builders {
		for _, tt := range tests {
			t.Run(role+"/"+tt.name, func(t *testing.T) {
				n, err := build()
				if err != nil {
					t.Fatal(err)
				}
				if n.Group == nil || n.Trace == nil || n.Metadata == nil {
					t.Fatalf("%s node is missing units: %+v", role, n)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = n.Run(ctx, tt.args)
				if err == nil {
					t.Fatalf("%s started with %v", role, tt.args)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("%s with %v: error %q does not mention %q", role, tt.args, err, tt.want)
				}
			})
		}
	}
}

func TestNodesRefuseUnknownFlags(t *testing.T) {
	n, err := NewData()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Run(context.Background(), []string{"--no-such-flag=1"}); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
}
