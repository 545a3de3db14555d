// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package auth

import (
	"context"
	"encoding/json"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// HealthPath is the HTTP health check, answered without credentials.
const HealthPath = "/api/healthz"

// realm is the protection space named in WWW-Authenticate.
const realm = "BanyanDB"

// Middleware returns next behind HTTP basic auth: a request other than the health check without
// valid credentials gets 401 with a WWW-Authenticate challenge and a JSON error body in the shape
// of the gateway's errors. With authentication off it returns next itself.
func (s *Service) Middleware(next http.Handler) http.Handler {
	if s == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.Enabled() || r.URL.Path == HealthPath {
			next.ServeHTTP(w, r)
			return
		}
		username, password, ok := r.BasicAuth()
		switch {
		case !ok || username == "" || password == "":
			unauthorized(w, "credentials required: use HTTP basic auth")
		case !s.authenticate(username, password):
			unauthorized(w, "invalid username or password")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`", charset="UTF-8"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{Code: int(codes.Unauthenticated), Message: msg})
}

// ForwardCredentials turns a request's basic auth into the gRPC metadata keys username and
// password. An HTTP gateway that calls the gRPC server over a connection passes it to
// grpc-gateway's runtime.WithMetadata, so that the gRPC server sees the same credentials.
func ForwardCredentials(_ context.Context, r *http.Request) metadata.MD {
	username, password, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	return metadata.Pairs(UsernameKey, username, PasswordKey, password)
}
