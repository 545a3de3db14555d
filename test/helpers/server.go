// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package helpers

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/errors"
	"go.uber.org/multierr"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

const (
	// readyTimeout bounds how long a started server may take to serve gRPC.
	readyTimeout = 60 * time.Second
	// stopTimeout bounds how long Stop waits after SIGTERM before it kills the process.
	stopTimeout = 30 * time.Second
	// logTail is how much of the server log an error carries.
	logTail = 8 << 10
)

var build struct {
	once sync.Once
	bin  string
	err  error
	// httpFlags is whether the standalone command has --http-host/--http-port (the HTTP gateway).
	httpFlags bool
}

// BuildServer builds banyand-server once per test binary into a temporary directory (removed by
// CleanupAll) and returns the binary's path. Later calls return the same binary.
func BuildServer() (string, error) {
	build.once.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			build.err = err
			return
		}
		dir, _, err := TempDir("banyand-server-bin-")
		if err != nil {
			build.err = err
			return
		}
		bin := filepath.Join(dir, "banyand-server")
		cmd := exec.Command("go", "build", "-o", bin, "./banyand/cmd/server")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			build.err = errors.Wrapf(err, "helpers: go build banyand-server: %s", out)
			return
		}
		build.bin = bin
		// Servers of one suite run side by side: the HTTP gateway, when there is one, needs a
		// port of its own instead of its fixed default.
		help, _ := exec.Command(bin, "standalone", "--help").CombinedOutput()
		build.httpFlags = strings.Contains(string(help), "--http-port")
	})
	return build.bin, build.err
}

// ServerOptions tunes a server started by StartServer.
type ServerOptions struct {
	// Args are extra flags appended to the standalone command line.
	Args []string
	// MaxOpenFiles, when > 0, is the server's limit of open file descriptors (its soft and hard
	// RLIMIT_NOFILE, as "ulimit -n" sets them), applied through /bin/sh at every start.
	MaxOpenFiles int
}

// Server is a banyand-server standalone process on loopback ports with its data in a temporary
// directory. Its output goes to LogPath, across restarts.
type Server struct {
	// Addr is the gRPC address, host:port.
	Addr string
	// ObservabilityAddr is the address of /metrics and /healthz.
	ObservabilityAddr string
	// HTTPAddr is the address of the HTTP gateway, "" if the server has none.
	HTTPAddr string
	// Dir holds the metadata, the trace data and the log.
	Dir string
	// LogPath is the file the server's stdout and stderr go to.
	LogPath string

	args []string
	bin  string
	// maxOpenFiles is ServerOptions.MaxOpenFiles.
	maxOpenFiles int
	cleanup      func() error

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	starts  int
}

// StartServer builds the binary if needed and starts a standalone server with fresh directories
// and random loopback ports; it returns once the server's gRPC health is SERVING. CleanupAll (or
// Cleanup) stops it and removes its directory.
func StartServer(opts ServerOptions) (*Server, error) {
	bin, err := BuildServer()
	if err != nil {
		return nil, err
	}
	dir, ports, removeDir, err := TempDirAndPorts("banyand-standalone-", 5)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Addr:              "127.0.0.1:" + strconv.Itoa(ports[2]),
		ObservabilityAddr: "127.0.0.1:" + strconv.Itoa(ports[3]),
		Dir:               dir,
		LogPath:           filepath.Join(dir, "server.log"),
		bin:               bin,
		maxOpenFiles:      opts.MaxOpenFiles,
	}
	s.args = []string{
		"standalone",
		"--metadata-root-path=" + filepath.Join(dir, "metadata"),
		"--trace-root-path=" + filepath.Join(dir, "trace"),
		"--etcd-listen-client-url=http://127.0.0.1:" + strconv.Itoa(ports[0]),
		"--etcd-listen-peer-url=http://127.0.0.1:" + strconv.Itoa(ports[1]),
		"--grpc-host=127.0.0.1",
		"--grpc-port=" + strconv.Itoa(ports[2]),
		"--observability-listener-addr=" + s.ObservabilityAddr,
	}
	if build.httpFlags {
		s.HTTPAddr = "127.0.0.1:" + strconv.Itoa(ports[4])
		s.args = append(s.args, "--http-host=127.0.0.1", "--http-port="+strconv.Itoa(ports[4]))
	}
	s.args = append(s.args, opts.Args...)
	s.cleanup = registerCleanup(func() error {
		stopErr := s.Stop()
		return errors.Wrap(multierr.Combine(stopErr, removeDir()), "helpers: clean up server")
	})
	if err := s.start(); err != nil {
		_ = s.cleanup()
		return nil, err
	}
	return s, nil
}

// start runs the process and waits until it serves.
func (s *Server) start() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("helpers: server already running")
	}
	logFile, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.mu.Unlock()
		return errors.Wrap(err, "helpers: open the server log")
	}
	s.starts++
	fmt.Fprintf(logFile, "==== helpers: start #%d at %s: %s %v\n", s.starts, time.Now().Format(time.RFC3339Nano), s.bin, s.args)
	cmd := exec.Command(s.bin, s.args...)
	if s.maxOpenFiles > 0 {
		// The shell sets the limit and execs the server, which keeps the shell's process id, so
		// signals still reach the server itself.
		script := "ulimit -n " + strconv.Itoa(s.maxOpenFiles) + ` && exec "$0" "$@"`
		cmd = exec.Command("/bin/sh", append([]string{"-c", script, s.bin}, s.args...)...)
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Dir = s.Dir
	setChildAttrs(cmd)
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		s.mu.Unlock()
		return errors.Wrap(err, "helpers: start banyand-server")
	}
	exited := make(chan struct{})
	s.cmd, s.exited, s.waitErr = cmd, exited, nil
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
		close(exited)
	}()
	if err := waitServing(s.Addr, exited, readyTimeout); err != nil {
		_ = s.signalAndWait(syscall.SIGKILL, stopTimeout)
		return errors.Wrapf(err, "helpers: server %s did not start; log tail:\n%s", s.Addr, s.LogTail(logTail))
	}
	return nil
}

// waitServing polls the gRPC health of addr until it is SERVING, the process exits or the
// timeout passes.
func waitServing(addr string, exited <-chan struct{}, timeout time.Duration) error {
	conn, err := Dial(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	return waitConnServing(conn, exited, timeout)
}

func waitConnServing(conn *grpc.ClientConn, exited <-chan struct{}, timeout time.Duration) error {
	hc := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-exited:
			return errors.New("the process exited")
		default:
		}
		if time.Now().After(deadline) {
			return errors.Errorf("not serving after %s (last error: %v)", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// PID returns the process id of the running server, or 0 when it is not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running reports whether the server process is running.
func (s *Server) Running() bool {
	return s.PID() != 0
}

// Kill sends SIGKILL and waits for the process to be gone: no chance to flush anything.
func (s *Server) Kill() error {
	return s.signalAndWait(syscall.SIGKILL, stopTimeout)
}

// Stop sends SIGTERM and waits for a clean exit; after stopTimeout it kills the process and
// reports that. It returns the process's exit error, if any. Stopping a stopped server is a no-op.
func (s *Server) Stop() error {
	return s.signalAndWait(syscall.SIGTERM, stopTimeout)
}

func (s *Server) signalAndWait(sig syscall.Signal, timeout time.Duration) error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	// Signal the process by its id only.
	_ = cmd.Process.Signal(sig)
	var err error
	select {
	case <-exited:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
		err = errors.Errorf("helpers: server did not exit %s after %s; killed", timeout, sig)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	waitErr := s.waitErr
	s.cmd, s.exited = nil, nil
	if err != nil {
		return err
	}
	if sig == syscall.SIGKILL {
		// A crash test is only one if the signal ended the process.
		var exitErr *exec.ExitError
		if errors.As(waitErr, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return nil
			}
		}
		return errors.Errorf("helpers: server was not ended by SIGKILL (exit: %v)", waitErr)
	}
	if waitErr != nil {
		return errors.Wrapf(waitErr, "helpers: server exit after %s", sig)
	}
	return nil
}

// Restart stops the server with SIGTERM if it runs, then starts it again with the same
// directories and ports, and waits until it serves.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start()
}

// Start starts a stopped (or killed) server again with the same directories and ports.
func (s *Server) Start() error {
	return s.start()
}

// Cleanup stops the server and removes its directory; CleanupAll does it too.
func (s *Server) Cleanup() error {
	return s.cleanup()
}

// LogTail returns the last n bytes of the server log.
func (s *Server) LogTail(n int64) string {
	f, err := os.Open(s.LogPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if st.Size() > n {
		if _, err := f.Seek(st.Size()-n, io.SeekStart); err != nil {
			return fmt.Sprintf("(log unreadable: %v)", err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b)
}

// DumpLog writes the last 64 KiB of the server log to w, framed with the server's address.
func (s *Server) DumpLog(w io.Writer) {
	fmt.Fprintf(w, "\n==== log of banyand-server %s (%s) ====\n%s\n==== end of log ====\n", s.Addr, s.LogPath, s.LogTail(64<<10))
}
