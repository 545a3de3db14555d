// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package embeddedetcd

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func randomOptions(t *testing.T, dir string) Options {
	t.Helper()
	c, err := RandomLoopbackURL()
	if err != nil {
		t.Fatal(err)
	}
	p, err := RandomLoopbackURL()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Dir: dir, ListenClientURL: c, ListenPeerURL: p}
}

func put(t *testing.T, endpoint, key, value string) {
	t.Helper()
	cli := client(t, endpoint)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, key, value); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, endpoint, key string) string {
	t.Helper()
	cli := client(t, endpoint)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}

func client(t *testing.T, endpoint string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

func TestStartServeRestartClose(t *testing.T) {
	opts := randomOptions(t, t.TempDir())
	srv, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	if srv.ClientURL() != opts.ListenClientURL {
		t.Fatalf("client URL %s, want %s", srv.ClientURL(), opts.ListenClientURL)
	}
	put(t, srv.ClientURL(), "k", "v")
	if err = srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err = srv.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	select {
	case <-srv.StopNotify():
	default:
		t.Fatal("StopNotify not closed after Close")
	}

	srv, err = Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if v := get(t, srv.ClientURL(), "k"); v != "v" {
		t.Fatalf("after restart k=%q", v)
	}
}

func TestWildcardListenerDialsLoopback(t *testing.T) {
	opts := randomOptions(t, t.TempDir())
	u, _ := url.Parse(opts.ListenClientURL)
	opts.ListenClientURL = "http://0.0.0.0:" + u.Port()
	srv, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if want := "http://127.0.0.1:" + u.Port(); srv.ClientURL() != want {
		t.Fatalf("client URL %s, want %s", srv.ClientURL(), want)
	}
}

func TestStartFailures(t *testing.T) {
	if _, err := Start(Options{ListenClientURL: "http://127.0.0.1:1", ListenPeerURL: "http://127.0.0.1:2"}); err == nil {
		t.Fatal("no error without a dir")
	}
	opts := randomOptions(t, t.TempDir())
	opts.ListenClientURL = "127.0.0.1:2379"
	if _, err := Start(opts); err == nil || !strings.Contains(err.Error(), "listen client URL") {
		t.Fatalf("bad URL: %v", err)
	}

	// A second server on the same ports fails and leaves the first one serving.
	first := randomOptions(t, t.TempDir())
	srv, err := Start(first)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	second := first
	second.Dir = t.TempDir()
	if _, err = Start(second); err == nil {
		t.Fatal("second server on the same ports started")
	}
	put(t, srv.ClientURL(), "still", "serving")
}
