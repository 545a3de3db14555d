// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pkgerrors "github.com/pkg/errors"
	grpclib "google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
	"github.com/apache/skywalking-banyandb/pkg/run"
	"github.com/apache/skywalking-banyandb/test/testenv/metarepo"
)

// panickyTrace is a TraceService whose handlers panic.
type panickyTrace struct {
	tracev1.UnimplementedTraceServiceServer
}

func (panickyTrace) Query(context.Context, *tracev1.QueryRequest) (*tracev1.QueryResponse, error) {
	panic("query exploded")
}

func (panickyTrace) QuerySchema(string, string) (*databasev1.Trace, []*databasev1.IndexRule, bool) {
	return nil, nil, false
}

func (panickyTrace) Write(grpclib.BidiStreamingServer[tracev1.WriteRequest, tracev1.WriteResponse]) error {
	panic("write exploded")
}

func TestHealthAndReflection(t *testing.T) {
	env := newTestEnv(t, panickyTrace{})
	ctx := testContext(t)
	if !env.server.Serving() {
		t.Fatal("Serving() is false after Serve")
	}
	health := healthpb.NewHealthClient(env.conn)
	for _, service := range []string{"", "banyandb.database.v1.TraceRegistryService", "banyandb.trace.v1.TraceService"} {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health of %q: %v, err %v", service, resp, err)
		}
	}

	stream, err := reflectionpb.NewServerReflectionClient(env.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err = stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"},
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{
		"banyandb.database.v1.GroupRegistryService", "banyandb.database.v1.TraceRegistryService",
		"banyandb.database.v1.IndexRuleRegistryService", "banyandb.database.v1.IndexRuleBindingRegistryService",
		"banyandb.common.v1.Service", "banyandb.trace.v1.TraceService", "banyandb.bydbql.v1.BydbQLService", "grpc.health.v1.Health",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection does not list %s: %v", want, names)
		}
	}
	// grpcurl resolves a service's descriptors before calling it.
	if err = stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "banyandb.database.v1.TraceRegistryService"},
	}); err != nil {
		t.Fatal(err)
	}
	resp, err = stream.Recv()
	if err != nil || len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()) == 0 {
		t.Fatalf("file containing TraceRegistryService: %v, err %v", resp, err)
	}
	_ = stream.CloseSend()
}

func TestPanicsBecomeInternal(t *testing.T) {
	env := newTestEnv(t, panickyTrace{})
	ctx := testContext(t)
	client := tracev1.NewTraceServiceClient(env.conn)

	_, err := client.Query(ctx, &tracev1.QueryRequest{Groups: []string{"g"}, Name: "sw"})
	wantCode(t, err, codes.Internal, "/banyandb.trace.v1.TraceService/Query")

	stream, err := client.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	wantCode(t, err, codes.Internal, "/banyandb.trace.v1.TraceService/Write")

	// The process survived: the server still answers.
	if _, err = env.common.GetAPIVersion(ctx, &commonv1.GetAPIVersionRequest{}); err != nil {
		t.Fatalf("server unusable after a panic: %v", err)
	}
}

func TestTraceServiceIsOptional(t *testing.T) {
	env := newTestEnv(t, nil)
	_, err := tracev1.NewTraceServiceClient(env.conn).Query(testContext(t), &tracev1.QueryRequest{})
	wantCode(t, err, codes.Unimplemented, "")
}

func TestFlagDefaults(t *testing.T) {
	srv := NewServer(metarepo.New(nil), nil)
	fs := srv.FlagSet()
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.Validate(); err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	want := options{port: DefaultPort, maxRecvMsgSize: DefaultMaxRecvMsgSize}
	if got := srv.(*server).opts; got != want {
		t.Fatalf("flag defaults %+v, want %+v", got, want)
	}
	for name, value := range map[string]string{
		"grpc-host": "", "grpc-port": "17912", "max-recv-msg-size": "10mb",
		"tls": "false", "cert-file": "", "key-file": "",
	} {
		f := fs.Lookup(name)
		if f == nil {
			t.Fatalf("flag --%s is missing", name)
		}
		if f.DefValue != value {
			t.Errorf("--%s default %q, want %q", name, f.DefValue, value)
		}
	}
	if srv.Name() != "grpc" {
		t.Fatalf("name %q", srv.Name())
	}
}

func TestValidateFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string // substrings of the error; none means valid
	}{
		{name: "defaults"},
		{name: "tls with files", args: []string{"--tls", "--cert-file=c.pem", "--key-file=k.pem"}},
		{name: "port too big", args: []string{"--grpc-port=70000"}, want: []string{"--grpc-port"}},
		{name: "zero message size", args: []string{"--max-recv-msg-size=0"}, want: []string{"--max-recv-msg-size"}},
		{name: "huge message size", args: []string{"--max-recv-msg-size=4gb"}, want: []string{"--max-recv-msg-size"}},
		{name: "tls without files", args: []string{"--tls"}, want: []string{"--cert-file", "--key-file"}},
		{name: "files without tls", args: []string{"--cert-file=c.pem"}, want: []string{"need --tls"}},
		{name: "every problem at once", args: []string{"--grpc-port=70000", "--max-recv-msg-size=0", "--tls"},
			want: []string{"--grpc-port", "--max-recv-msg-size", "--cert-file", "--key-file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := NewServer(metarepo.New(nil), nil)
			if err := srv.FlagSet().Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := srv.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("want ErrInvalidOption, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPreRunFailures(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.Addr().String())

	srv := NewServer(metarepo.New(nil), nil)
	if err = srv.FlagSet().Parse([]string{"--grpc-host=127.0.0.1", "--grpc-port=" + port}); err != nil {
		t.Fatal(err)
	}
	if err = srv.PreRun(context.Background()); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("want a listen error, got %v", err)
	}

	srv = NewServer(metarepo.New(nil), nil)
	if err = srv.FlagSet().Parse([]string{"--grpc-port=0", "--tls", "--cert-file=/nope/c.pem", "--key-file=/nope/k.pem"}); err != nil {
		t.Fatal(err)
	}
	if err = srv.PreRun(context.Background()); err == nil || !strings.Contains(err.Error(), "TLS key pair") {
		t.Fatalf("want a TLS error, got %v", err)
	}
}

func TestStopWithoutServe(t *testing.T) {
	srv := NewServer(metarepo.New(nil), nil)
	if err := srv.FlagSet().Parse([]string{"--grpc-host=127.0.0.1", "--grpc-port=0"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.PreRun(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.GracefulStop()
	srv.GracefulStop()
	if srv.Serving() {
		t.Fatal("serving after stop")
	}
	select {
	case <-srv.Serve():
	case <-time.After(time.Second):
		t.Fatal("Serve after GracefulStop must return a closed channel")
	}
	// The listener was released.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port still bound after GracefulStop: %v", err)
	}
	_ = l.Close()
}

func TestGracefulStop(t *testing.T) {
	env := newTestEnv(t, nil)
	stopped := env.server.Serve() // a second Serve returns the same channel
	env.server.GracefulStop()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stop channel not closed")
	}
	if env.server.Serving() {
		t.Fatal("still serving")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := env.common.GetAPIVersion(ctx, &commonv1.GetAPIVersionRequest{}); err == nil {
		t.Fatal("the server still answers after GracefulStop")
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSignedCert(t, dir)
	srv := startServer(t, metarepo.New(nil), nil, "--grpc-host=127.0.0.1", "--grpc-port=0",
		"--tls", "--cert-file="+certFile, "--key-file="+keyFile)
	conn, err := grpclib.NewClient(srv.Addr(), grpclib.WithTransportCredentials(
		credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := commonv1.NewServiceClient(conn).GetAPIVersion(testContext(t), &commonv1.GetAPIVersionRequest{})
	if err != nil || resp.GetVersion().GetVersion() == "" {
		t.Fatalf("over TLS: %v, err %v", resp, err)
	}
}

func writeSelfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "banyandb-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestStoreErrorCodes(t *testing.T) {
	log := logger.GetLogger("test")
	cases := []struct {
		err  error
		code codes.Code
	}{
		{pkgerrors.Wrap(schema.ErrNotFound, "get trace g/sw"), codes.NotFound},
		{pkgerrors.Wrap(schema.ErrAlreadyExists, "create"), codes.AlreadyExists},
		{pkgerrors.Wrap(schema.ErrConcurrentModification, "update"), codes.FailedPrecondition},
		{pkgerrors.Wrap(schema.ErrBadRequest, "list"), codes.InvalidArgument},
		{schema.ErrClosed, codes.Unavailable},
		{pkgerrors.Wrap(context.Canceled, "get"), codes.Canceled},
		{pkgerrors.Wrap(context.DeadlineExceeded, "get"), codes.DeadlineExceeded},
		{errors.New("disk on fire"), codes.Internal},
		{fieldErrorf("trace.tags", reasonEmpty), codes.InvalidArgument},
	}
	for _, tc := range cases {
		err := storeError(log, "test", tc.err)
		wantCode(t, err, tc.code, tc.err.Error())
	}
	if storeError(log, "test", nil) != nil {
		t.Fatal("nil must stay nil")
	}
}

var _ run.Unit = NewServer(metarepo.New(nil), nil)
