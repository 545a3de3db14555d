// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package helpers

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pkg/errors"
	"go.uber.org/multierr"
)

// Cluster roles of banyand-server.
const (
	RoleData    = "data"
	RoleLiaison = "liaison"
)

// ClusterNodeOptions describes a liaison or data node process of a cluster.
type ClusterNodeOptions struct {
	// Role is RoleData or RoleLiaison.
	Role string
	// EtcdURL is the client URL of the cluster's etcd.
	EtcdURL string
	// Namespace is the prefix of the cluster's keys in etcd; empty keeps the server's default.
	Namespace string
	// LeaseTTL is a data node's --node-lease-ttl; zero keeps the server's default.
	LeaseTTL time.Duration
	// Args are extra flags appended to the command line.
	Args []string
}

// ClusterNode is a liaison or data node process: a Server whose Addr is its gRPC address (the
// public API of a liaison, the internal queue endpoint of a data node; both serve gRPC health).
type ClusterNode struct {
	*Server
	// Role is RoleData or RoleLiaison.
	Role string
	// Name is the name a data node registers under in etcd ("127.0.0.1:<port>").
	Name string
	// TraceRoot is the node's --trace-root-path.
	TraceRoot string
}

// DataDir is where a data node keeps its groups: <trace root>/trace/data.
func (n *ClusterNode) DataDir() string {
	return filepath.Join(n.TraceRoot, "trace", "data")
}

// StartClusterNode builds the binary if needed and starts a liaison or data node on random
// loopback ports with a fresh directory; it returns once the node's gRPC health is SERVING (a data
// node registers itself in etcd a moment later). Start and Kill restart it on the same ports and
// directory. CleanupAll (or Cleanup) stops it and removes its directory.
func StartClusterNode(opts ClusterNodeOptions) (*ClusterNode, error) {
	if opts.Role != RoleData && opts.Role != RoleLiaison {
		return nil, errors.Errorf("helpers: unknown cluster role %q", opts.Role)
	}
	if opts.EtcdURL == "" {
		return nil, errors.New("helpers: a cluster node needs the etcd URL")
	}
	bin, err := BuildServer()
	if err != nil {
		return nil, err
	}
	dir, ports, removeDir, err := TempDirAndPorts("banyand-"+opts.Role+"-", 2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	n := &ClusterNode{
		Server: &Server{
			Addr:    addr,
			Dir:     dir,
			LogPath: filepath.Join(dir, opts.Role+".log"),
			bin:     bin,
		},
		Role:      opts.Role,
		TraceRoot: filepath.Join(dir, "trace"),
	}
	args := []string{
		opts.Role,
		"--etcd-endpoints=" + opts.EtcdURL,
		"--trace-root-path=" + n.TraceRoot,
		"--grpc-host=127.0.0.1",
		"--grpc-port=" + strconv.Itoa(ports[0]),
		"--node-host-provider=flag",
		"--node-host=127.0.0.1",
		"--observability-listener-addr=",
	}
	if opts.Namespace != "" {
		args = append(args, "--namespace="+opts.Namespace)
	}
	switch opts.Role {
	case RoleData:
		n.Name = addr
		if opts.LeaseTTL > 0 {
			args = append(args, "--node-lease-ttl="+opts.LeaseTTL.String())
		}
	case RoleLiaison:
		n.HTTPAddr = "127.0.0.1:" + strconv.Itoa(ports[1])
		args = append(args, "--http-host=127.0.0.1", "--http-port="+strconv.Itoa(ports[1]))
	}
	n.args = append(args, opts.Args...)
	n.cleanup = registerCleanup(func() error {
		stopErr := n.Stop()
		return errors.Wrapf(multierr.Combine(stopErr, removeDir()), "helpers: clean up %s node %s", opts.Role, addr)
	})
	if err := n.start(); err != nil {
		_ = n.cleanup()
		return nil, err
	}
	return n, nil
}

// DumpLog writes the last 64 KiB of the node's log to w, framed with its role and address.
func (n *ClusterNode) DumpLog(w io.Writer) {
	_, _ = io.WriteString(w, "\n==== log of "+n.Role+" node "+n.Addr+" ("+n.LogPath+") ====\n"+n.LogTail(64<<10)+"\n==== end of log ====\n")
}

// DirSize returns the total size in bytes of the regular files under dir (0 if it is missing).
func DirSize(dir string) (int64, error) {
	var total int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total, err
}
