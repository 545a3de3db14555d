// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package shell

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	bydbqlv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/bydbql/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// credentialEcho is a BydbQLService that keeps the credentials and statement each call carries,
// so that a test sees what the client put on the wire.
type credentialEcho struct {
	bydbqlv1.UnimplementedBydbQLServiceServer
	mu       sync.Mutex
	username []string
	password []string
	query    string
}

func (e *credentialEcho) Query(ctx context.Context, req *bydbqlv1.QueryRequest) (*bydbqlv1.QueryResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.username, e.password, e.query = md.Get("username"), md.Get("password"), req.GetQuery()
	return traceResponse(&tracev1.Trace{TraceId: "over-tls", Spans: []*tracev1.Span{{SpanId: "s1"}}}), nil
}

// startTLSServer serves echo over TLS on 127.0.0.1 with a self-signed certificate; it returns the
// address and the certificate's PEM file.
func startTLSServer(t *testing.T, echo *credentialEcho) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bydbql-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := credentials.NewServerTLSFromFile(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(creds))
	bydbqlv1.RegisterBydbQLServiceServer(srv, echo)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), certFile
}

func TestTLSAndCredentials(t *testing.T) {
	echo := &credentialEcho{}
	addr, certFile := startTLSServer(t, echo)
	const stmt = "SELECT () FROM TRACE sw IN g TIME > '-1h'"

	var out, errOut bytes.Buffer
	code := Main([]string{"--addr", addr, "--tls", "--ca-file", certFile, "--username", "admin", "--password", "s3cret", "-e", stmt},
		strings.NewReader(""), &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "over-tls") {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	echo.mu.Lock()
	if strings.Join(echo.username, ",") != "admin" || strings.Join(echo.password, ",") != "s3cret" || echo.query != stmt {
		t.Errorf("the server got username %v, password %v, query %q", echo.username, echo.password, echo.query)
	}
	echo.mu.Unlock()

	// The password may come from the environment instead of the command line.
	t.Setenv("BYDBQL_PASSWORD", "from-env")
	out.Reset()
	if code := Main([]string{"--addr", addr, "--tls", "--ca-file", certFile, "--username", "admin", "-e", stmt}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("code %d, stderr %q", code, errOut.String())
	}
	echo.mu.Lock()
	if strings.Join(echo.password, ",") != "from-env" {
		t.Errorf("password from $BYDBQL_PASSWORD: %v", echo.password)
	}
	echo.mu.Unlock()

	// Without the CA the certificate is refused; without TLS the handshake fails.
	for _, args := range [][]string{{"--tls"}, {}} {
		errOut.Reset()
		code := Main(append([]string{"--addr", addr, "--timeout", "5s", "-e", stmt}, args...), strings.NewReader(""), &out, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), "ERROR: Unavailable") {
			t.Errorf("flags %v: code %d, stderr %q", args, code, errOut.String())
		}
	}
	if code := Main([]string{"--tls", "--ca-file", filepath.Join(t.TempDir(), "none.pem"), "-e", stmt}, strings.NewReader(""), &out, &errOut); code != 2 {
		t.Errorf("a missing CA file: code %d", code)
	}
}
