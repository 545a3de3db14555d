// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package auth_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// basicCreds sends a user name and password as the per-RPC metadata keys username and password,
// the way upstream BanyanDB's clients do.
type basicCreds struct{ username, password string }

func (c basicCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"username": c.username, "password": c.password}, nil
}

func (basicCreds) RequireTransportSecurity() bool { return false }

// dial connects to addr, sending creds with every call when it is not nil.
func dial(addr string, creds *basicCreds) *grpc.ClientConn {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if creds != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(*creds))
	}
	conn, err := grpc.NewClient(addr, opts...)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(conn.Close)
	return conn
}

// writeUsersFile writes the users file with the given mode, set exactly (not through the umask).
func writeUsersFile(path, content string, mode os.FileMode) {
	Expect(os.WriteFile(path, []byte(content), mode)).To(Succeed())
	Expect(os.Chmod(path, mode)).To(Succeed())
}

func bcryptHash(password string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	Expect(err).NotTo(HaveOccurred())
	return string(h)
}

// listGroups calls GroupRegistryService/List, a unary call.
func listGroups(conn *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := databasev1.NewGroupRegistryServiceClient(conn).List(ctx, &databasev1.GroupRegistryServiceListRequest{})
	return err
}

// openWriteStream opens TraceService/Write, a bidirectional stream, closes its sending side and
// returns what the first Recv says: io.EOF when the server accepted the stream.
func openWriteStream(conn *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := tracev1.NewTraceServiceClient(conn).Write(ctx)
	if err != nil {
		return err
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

// httpGet sends GET path to the server's HTTP listener, with basic auth when user is not empty.
func httpGet(srv *helpers.Server, path, user, password string) *http.Response {
	req, err := http.NewRequest(http.MethodGet, "http://"+srv.HTTPAddr+path, nil)
	Expect(err).NotTo(HaveOccurred())
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	Expect(err).NotTo(HaveOccurred())
	_, _ = io.Copy(io.Discard, resp.Body)
	Expect(resp.Body.Close()).To(Succeed())
	return resp
}

var _ = Describe("A server with --auth-config-file", Ordered, func() {
	var (
		srv       *helpers.Server
		usersPath string
	)

	BeforeAll(func() {
		dir, remove, err := helpers.TempDir("banyand-auth-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(remove)
		usersPath = filepath.Join(dir, "users.yaml")
		writeUsersFile(usersPath, "users:\n"+
			"  - username: admin\n    password: admin-password\n"+
			"  - username: hashed\n    password: '"+bcryptHash("hashed-password")+"'\n", 0o600)
		srv, err = helpers.StartServer(helpers.ServerOptions{Args: []string{
			"--auth-config-file=" + usersPath,
			"--auth-reload-interval=50ms",
		}})
		Expect(err).NotTo(HaveOccurred())
		Expect(srv.HTTPAddr).NotTo(BeEmpty(), "the server has no HTTP listener")
		DeferCleanup(srv.Cleanup)
	})

	AfterEach(func() {
		if CurrentSpecReport().Failed() && srv != nil {
			srv.DumpLog(GinkgoWriter)
		}
	})

	Context("over gRPC", func() {
		It("refuses unary calls and streams without credentials", func() {
			conn := dial(srv.Addr, nil)
			err := listGroups(conn)
			Expect(status.Code(err)).To(Equal(codes.Unauthenticated), "unary: %v", err)
			Expect(err.Error()).To(ContainSubstring(`"username"`))
			err = openWriteStream(conn)
			Expect(status.Code(err)).To(Equal(codes.Unauthenticated), "stream: %v", err)
		})

		It("refuses a wrong password, an unknown user and a password without a user", func() {
			for _, c := range []basicCreds{
				{"admin", "wrong"},
				{"nobody", "admin-password"},
				{"", "admin-password"},
				{"hashed", "admin-password"},
			} {
				conn := dial(srv.Addr, &c)
				err := listGroups(conn)
				Expect(status.Code(err)).To(Equal(codes.Unauthenticated), "%+v unary: %v", c, err)
				err = openWriteStream(conn)
				Expect(status.Code(err)).To(Equal(codes.Unauthenticated), "%+v stream: %v", c, err)
			}
		})

		It("lets in a user with a plain password and one with a bcrypt hash", func() {
			for _, c := range []basicCreds{{"admin", "admin-password"}, {"hashed", "hashed-password"}} {
				conn := dial(srv.Addr, &c)
				Expect(listGroups(conn)).To(Succeed(), "%+v unary", c)
				Expect(openWriteStream(conn)).To(MatchError(io.EOF), "%+v stream", c)
			}
		})

		It("answers health without credentials", func() {
			conn := dial(srv.Addr, nil)
			resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
			Expect(err).NotTo(HaveOccurred())
			Expect(resp.GetStatus()).To(Equal(healthpb.HealthCheckResponse_SERVING))
		})
	})

	Context("over HTTP", func() {
		It("answers 401 with a Basic challenge without credentials or with wrong ones", func() {
			for _, c := range []basicCreds{{}, {"admin", "wrong"}, {"nobody", "admin-password"}} {
				resp := httpGet(srv, "/api/v1/group/schema/lists", c.username, c.password)
				Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized), "%+v", c)
				Expect(resp.Header.Get("WWW-Authenticate")).To(HavePrefix("Basic "), "%+v", c)
			}
		})

		It("lets in plain and bcrypt users", func() {
			for _, c := range []basicCreds{{"admin", "admin-password"}, {"hashed", "hashed-password"}} {
				Expect(httpGet(srv, "/api/v1/group/schema/lists", c.username, c.password).StatusCode).To(Equal(http.StatusOK), "%+v", c)
			}
		})

		It("answers /api/healthz without credentials", func() {
			Expect(httpGet(srv, "/api/healthz", "", "").StatusCode).To(Equal(http.StatusOK))
		})
	})

	Context("when the users file changes", func() {
		It("takes the new users and drops the old ones", func() {
			writeUsersFile(usersPath, "users:\n  - username: newcomer\n    password: new-password\n", 0o600)
			// Move the modification time on, so that a rewrite within the file system's timestamp
			// granularity is still a change.
			later := time.Now().Add(time.Minute)
			Expect(os.Chtimes(usersPath, later, later)).To(Succeed())
			newcomer := dial(srv.Addr, &basicCreds{"newcomer", "new-password"})
			Eventually(func() error { return listGroups(newcomer) }).Should(Succeed())
			Expect(status.Code(listGroups(dial(srv.Addr, &basicCreds{"admin", "admin-password"})))).To(Equal(codes.Unauthenticated))
			Expect(httpGet(srv, "/api/v1/group/schema/lists", "newcomer", "new-password").StatusCode).To(Equal(http.StatusOK))
			Expect(httpGet(srv, "/api/v1/group/schema/lists", "admin", "admin-password").StatusCode).To(Equal(http.StatusUnauthorized))
		})

		It("keeps the users in force when the new file is broken, and logs why", func() {
			writeUsersFile(usersPath, "users: [", 0o600)
			later := time.Now().Add(2 * time.Minute)
			Expect(os.Chtimes(usersPath, later, later)).To(Succeed())
			Eventually(func() string { return srv.LogTail(64 << 10) }).Should(ContainSubstring("cannot reload the users file"))
			Expect(listGroups(dial(srv.Addr, &basicCreds{"newcomer", "new-password"}))).To(Succeed())
			Expect(status.Code(listGroups(dial(srv.Addr, nil)))).To(Equal(codes.Unauthenticated))
		})
	})
})

var _ = Describe("A users file the group or others may read", func() {
	for _, mode := range []os.FileMode{0o644, 0o640} {
		It("stops the server from starting (mode "+mode.String()+")", func() {
			dir, remove, err := helpers.TempDir("banyand-auth-open-")
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(remove)
			path := filepath.Join(dir, "users.yaml")
			writeUsersFile(path, "users:\n  - username: admin\n    password: admin-password\n", mode)
			srv, err := helpers.StartServer(helpers.ServerOptions{Args: []string{"--auth-config-file=" + path}})
			if srv != nil {
				DeferCleanup(srv.Cleanup)
			}
			Expect(err).To(HaveOccurred(), "the server started with a users file of mode %s", mode)
			Expect(strings.Contains(err.Error(), "chmod 600")).To(BeTrue(), "the refusal does not say how to fix it: %v", err)
		})
	}
})

var _ = Describe("A liaison with --auth-config-file", func() {
	It("requires credentials on its public gRPC API and answers health without them", func() {
		dir, remove, err := helpers.TempDir("banyand-auth-liaison-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(remove)
		path := filepath.Join(dir, "users.yaml")
		writeUsersFile(path, "users:\n  - username: oap\n    password: '"+bcryptHash("oap-password")+"'\n", 0o600)
		etcd, err := helpers.StartEtcd()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(etcd.Close)
		liaison, err := helpers.StartClusterNode(helpers.ClusterNodeOptions{
			Role: helpers.RoleLiaison, EtcdURL: etcd.URL, Args: []string{"--auth-config-file=" + path},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(liaison.Cleanup)

		err = listGroups(dial(liaison.Addr, nil))
		Expect(status.Code(err)).To(Equal(codes.Unauthenticated), "%v", err)
		err = listGroups(dial(liaison.Addr, &basicCreds{"oap", "wrong"}))
		Expect(status.Code(err)).To(Equal(codes.Unauthenticated), "%v", err)
		Expect(listGroups(dial(liaison.Addr, &basicCreds{"oap", "oap-password"}))).To(Succeed())
		resp, err := healthpb.NewHealthClient(dial(liaison.Addr, nil)).Check(context.Background(), &healthpb.HealthCheckRequest{})
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.GetStatus()).To(Equal(healthpb.HealthCheckResponse_SERVING))
	})
})
