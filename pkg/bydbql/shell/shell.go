// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package shell is bydbql, the command-line client of BydbQL: an interactive shell with line
// editing and history, statements over several lines ended by `;`, `?` params from flags or
// `\p`, answers as an aligned table, JSON, YAML or a waterfall of each trace, and a one-shot mode
// (-e) for scripts. banyand/cmd/bydbql is its binary; Main is the whole program.
package shell

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/peterh/liner"
	"github.com/pkg/errors"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	"github.com/apache/skywalking-banyandb/pkg/bydbql"
)

// DefaultAddr is the default of --addr: upstream BanyanDB's gRPC port on this host.
const DefaultAddr = "localhost:17912"

// config holds the flags.
type config struct {
	addr, caFile, serverName string
	username, password       string
	execute, output, history string
	durationTag, parentTag   string
	params                   []string
	timeout, durationUnit    time.Duration
	width                    int
	tls, insecureSkipVerify  bool
}

func (c *config) flagSet(stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("bydbql", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	home, _ := os.UserHomeDir()
	fs.StringVar(&c.addr, "addr", DefaultAddr, "the gRPC address of the BanyanDB server")
	fs.BoolVar(&c.tls, "tls", false, "connect over TLS")
	fs.StringVar(&c.caFile, "ca-file", "", "a PEM file of the CA that signed the server's certificate (default: the system's)")
	fs.StringVar(&c.serverName, "server-name", "", "the name the server's certificate must carry (default: the host of --addr)")
	fs.BoolVar(&c.insecureSkipVerify, "insecure-skip-verify", false, "accept any server certificate (tests only)")
	fs.StringVar(&c.username, "username", "", "the user name sent as gRPC metadata key 'username'")
	fs.StringVar(&c.password, "password", "", "the password sent as gRPC metadata key 'password' (default: $BYDBQL_PASSWORD)")
	fs.StringVarP(&c.execute, "execute", "e", "", "run this statement and exit")
	fs.StringArrayVarP(&c.params, "param", "p", nil, "a ? param, in order: 500 (int), webapp (str), '\"500\"' (str), null, '[\"a\",\"b\"]', '[1,2]'")
	fs.StringVarP(&c.output, "output", "o", string(FormatTable), "table, json, yaml or waterfall (each trace as bars on a time axis)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "the longest a statement may run")
	fs.StringVar(&c.history, "history", filepath.Join(home, ".bydbql_history"), "the shell's history file; empty keeps no history")
	fs.StringVar(&c.durationTag, "duration-tag", "duration", "the INT tag holding a span's duration, for the waterfall")
	fs.DurationVar(&c.durationUnit, "duration-unit", time.Millisecond, "the unit of the duration tag")
	fs.StringVar(&c.parentTag, "parent-tag", "parent_id", "the tag holding a span's parent span id, for the waterfall")
	fs.IntVar(&c.width, "width", 48, "the columns of the waterfall's time axis")
	return fs
}

// Main runs the client with the arguments (without the program name) and returns its exit code:
// 0, 1 when a statement failed, 2 for bad flags.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cfg config
	fs := cfg.flagSet(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "bydbql: the BydbQL client of BanyanDB traces\n\n"+
			"  bydbql [flags]                      an interactive shell (statements end with ;)\n"+
			"  bydbql [flags] -e 'SELECT ...'      run one statement\n"+
			"  bydbql [flags] < statements.ql      run the statements of a file\n\nflags:\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bydbql: unexpected arguments %q; a statement goes in -e or on standard input\n", fs.Args())
		return 2
	}
	s, err := newSession(&cfg, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bydbql:", err)
		return 2
	}
	defer s.close()
	if cfg.execute != "" {
		if err := s.run(cfg.execute); err != nil {
			s.printError(err)
			return 1
		}
		return 0
	}
	if f, ok := stdin.(*os.File); ok && isatty.IsTerminal(f.Fd()) && liner.TerminalSupported() {
		return s.interactive()
	}
	return s.script(stdin)
}

// session is a connection and the shell's state.
type session struct {
	cfg      *config
	conn     *grpc.ClientConn
	client   bydbqlv1.BydbQLServiceClient
	registry databasev1.TraceRegistryServiceClient
	out      io.Writer
	errOut   io.Writer
	format   Format
	params   []*modelv1.TagValue
}

func newSession(cfg *config, stdout, stderr io.Writer) (*session, error) {
	format, err := ParseFormat(cfg.output)
	if err != nil {
		return nil, err
	}
	params, err := parseParams(cfg.params)
	if err != nil {
		return nil, err
	}
	if cfg.password == "" {
		cfg.password = os.Getenv("BYDBQL_PASSWORD")
	}
	creds := insecure.NewCredentials()
	if cfg.tls {
		tc := &tls.Config{ServerName: cfg.serverName, InsecureSkipVerify: cfg.insecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // the flag says so
		if cfg.caFile != "" {
			pem, err := os.ReadFile(cfg.caFile)
			if err != nil {
				return nil, errors.Wrapf(err, "read --ca-file %s", cfg.caFile)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.Errorf("--ca-file %s holds no PEM certificate", cfg.caFile)
			}
			tc.RootCAs = pool
		}
		creds = credentials.NewTLS(tc)
	}
	conn, err := grpc.NewClient(cfg.addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, errors.Wrapf(err, "connect to %s", cfg.addr)
	}
	return &session{
		cfg: cfg, conn: conn, out: stdout, errOut: stderr, format: format, params: params,
		client: bydbqlv1.NewBydbQLServiceClient(conn), registry: databasev1.NewTraceRegistryServiceClient(conn),
	}, nil
}

func parseParams(raw []string) ([]*modelv1.TagValue, error) {
	out := make([]*modelv1.TagValue, 0, len(raw))
	for _, r := range raw {
		p, err := ParseParam(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (s *session) close() { _ = s.conn.Close() }

// callContext bounds a call by --timeout and carries the credentials.
func (s *session) callContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.timeout)
	if s.cfg.username != "" || s.cfg.password != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "username", s.cfg.username, "password", s.cfg.password)
	}
	return ctx, cancel
}

// run sends one statement with the session's params (only to a statement that has placeholders)
// and prints the answer.
func (s *session) run(stmt string) error {
	q, parseErr := bydbql.Parse(stmt)
	var params []*modelv1.TagValue
	if parseErr != nil || q.Placeholders > 0 {
		params = s.params
	}
	ctx, cancel := s.callContext()
	defer cancel()
	resp, err := s.client.Query(ctx, &bydbqlv1.QueryRequest{Query: stmt, Params: params})
	if err != nil {
		return err
	}
	switch s.format {
	case FormatJSON:
		return renderJSON(s.out, resp)
	case FormatYAML:
		return renderYAML(s.out, resp)
	case FormatWaterfall:
		opts := DefaultWaterfallOptions()
		opts.DurationTag, opts.DurationUnit, opts.ParentTag, opts.Width = s.cfg.durationTag, s.cfg.durationUnit, s.cfg.parentTag, max(s.cfg.width, 8)
		if q != nil && len(q.Groups) > 0 {
			opts.TimestampTag = s.timestampTag(q.Groups[0].Text, q.Trace.Text, opts.TimestampTag)
		}
		return renderWaterfall(s.out, resp, opts)
	}
	return renderTable(s.out, resp)
}

// timestampTag asks the registry which tag of the trace is its timestamp; fallback if it cannot.
func (s *session) timestampTag(group, name, fallback string) string {
	ctx, cancel := s.callContext()
	defer cancel()
	resp, err := s.registry.Get(ctx, &databasev1.TraceRegistryServiceGetRequest{Metadata: &commonv1.Metadata{Group: group, Name: name}})
	if err != nil || resp.GetTrace().GetTimestampTagName() == "" {
		return fallback
	}
	return resp.GetTrace().GetTimestampTagName()
}

func (s *session) printError(err error) {
	if st, ok := status.FromError(err); ok {
		fmt.Fprintf(s.errOut, "ERROR: %s: %s\n", st.Code(), st.Message())
		return
	}
	fmt.Fprintf(s.errOut, "ERROR: %v\n", err)
}

// lineReader reads the shell's input a line at a time.
type lineReader interface {
	Prompt(prompt string) (string, error)
	AppendHistory(item string)
}

// scriptReader reads lines from a file or pipe, without prompts or history.
type scriptReader struct{ sc *bufio.Scanner }

func (r scriptReader) Prompt(string) (string, error) {
	if r.sc.Scan() {
		return r.sc.Text(), nil
	}
	if err := r.sc.Err(); err != nil {
		return "", errors.Wrap(err, "read the statements")
	}
	return "", io.EOF
}

func (scriptReader) AppendHistory(string) {}

// script runs the statements of a file or pipe; it returns 1 if any failed.
func (s *session) script(in io.Reader) int {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), bydbql.MaxStatementBytes)
	if s.loop(scriptReader{sc: sc}) {
		return 1
	}
	return 0
}

// interactive runs the shell on a terminal with line editing and history.
func (s *session) interactive() int {
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	ln.SetMultiLineMode(true)
	if s.cfg.history != "" {
		if f, err := os.Open(s.cfg.history); err == nil {
			_, _ = ln.ReadHistory(f)
			_ = f.Close()
		}
	}
	fmt.Fprintf(s.out, "bydbql connected to %s. Statements end with ;  \\h for help, \\q to quit.\n", s.cfg.addr)
	s.loop(ln)
	if s.cfg.history != "" {
		if f, err := os.Create(s.cfg.history); err == nil {
			_, _ = ln.WriteHistory(f)
			_ = f.Close()
		} else {
			fmt.Fprintf(s.errOut, "bydbql: history not saved: %v\n", err)
		}
	}
	return 0
}

const shellHelp = `Statements may span lines and end with ;   -- starts a comment
  \o table|json|yaml|waterfall   print answers as a table, JSON, YAML or a waterfall per trace
  \p VALUE...                    set the ? params: 500, webapp, '"500"', null, '["a","b"]', [1,2]
  \p                             clear the params
  \params                        show the params
  \h                             this help
  \q                             quit (also Ctrl-D)
Example:
  SELECT trace_id, duration FROM TRACE sw IN test-trace-group
    TIME > '-1h' WHERE duration >= ? ORDER BY duration DESC LIMIT 3;
`

// loop reads statements until the input ends or \q; it reports whether any statement failed.
func (s *session) loop(in lineReader) bool {
	failed := false
	var buf strings.Builder
	for {
		prompt := "bydbql> "
		if buf.Len() > 0 {
			prompt = "     -> "
		}
		line, err := in.Prompt(prompt)
		if errors.Is(err, liner.ErrPromptAborted) {
			buf.Reset()
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				fmt.Fprintln(s.errOut, "bydbql:", err)
				failed = true
			}
			if rest := strings.TrimSpace(buf.String()); rest != "" && !onlyComments(rest) {
				// The input ended inside a statement: run it as if it had its ;.
				in.AppendHistory(historyLine(rest))
				failed = s.runAndReport(rest) || failed
			}
			return failed
		}
		if buf.Len() == 0 {
			if quit, handled := s.command(strings.TrimSpace(line)); handled {
				if quit {
					return failed
				}
				continue
			}
		}
		buf.WriteString(line)
		buf.WriteString("\n")
		for {
			text := buf.String()
			n, ok := statementEnd(text)
			if !ok {
				break
			}
			stmt := strings.TrimSpace(text[:n])
			buf.Reset()
			buf.WriteString(strings.TrimLeft(text[n:], " \t\n"))
			if stmt == ";" || onlyComments(strings.TrimSuffix(stmt, ";")) {
				continue
			}
			in.AppendHistory(historyLine(stmt))
			failed = s.runAndReport(stmt) || failed
		}
		if onlyComments(buf.String()) {
			buf.Reset()
		}
	}
}

// onlyComments reports whether text holds nothing but white space and -- comments.
func onlyComments(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

func (s *session) runAndReport(stmt string) bool {
	if err := s.run(stmt); err != nil {
		s.printError(err)
		return true
	}
	return false
}

// command runs a shell command (\o, \p, \q, ...); handled is false for a line of a statement.
func (s *session) command(line string) (quit, handled bool) {
	switch strings.ToLower(line) {
	case `\q`, `\quit`, "quit", "exit":
		return true, true
	case `\h`, `\help`, "help", `\?`:
		fmt.Fprint(s.out, shellHelp)
		return false, true
	case `\params`:
		if len(s.params) == 0 {
			fmt.Fprintln(s.out, "no params")
		}
		for i, p := range s.params {
			fmt.Fprintf(s.out, "?%d = %s\n", i+1, FormatValue(p))
		}
		return false, true
	}
	if !strings.HasPrefix(line, `\`) {
		return false, false
	}
	fields := splitArgs(line)
	switch fields[0] {
	case `\o`:
		if len(fields) != 2 {
			fmt.Fprintln(s.errOut, `usage: \o table|json|yaml|waterfall`)
			return false, true
		}
		f, err := ParseFormat(fields[1])
		if err != nil {
			fmt.Fprintln(s.errOut, "ERROR:", err)
			return false, true
		}
		s.format = f
		fmt.Fprintf(s.out, "output: %s\n", f)
	case `\p`:
		params, err := parseParams(fields[1:])
		if err != nil {
			fmt.Fprintln(s.errOut, "ERROR:", err)
			return false, true
		}
		s.params = params
		fmt.Fprintf(s.out, "params: %d\n", len(params))
	default:
		fmt.Fprintf(s.errOut, "unknown command %s; \\h lists the commands\n", fields[0])
	}
	return false, true
}

// splitArgs splits a command line at white space outside single quotes, dropping the quotes.
func splitArgs(line string) []string {
	var out []string
	var cur strings.Builder
	inQuote, has := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			inQuote, has = !inQuote, true
		case !inQuote && (r == ' ' || r == '\t'):
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
