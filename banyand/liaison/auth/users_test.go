// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"golang.org/x/crypto/bcrypt"
)

func writeUsers(t *testing.T, dir, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode passes through the umask; set it exactly.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func bcryptOf(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestLoadUsersChecksPasswords(t *testing.T) {
	hash := bcryptOf(t, "s3cret")
	// htpasswd -B writes "$2y$" hashes: the same algorithm under another name.
	hash2y := "$2y$" + bcryptOf(t, "other")[4:]
	path := writeUsers(t, t.TempDir(), "users:\n  - username: admin\n    password: admin-pw\n  - username: ops\n    password: '"+hash+"'\n"+
		"  - username: apache\n    password: '"+hash2y+"'\n", 0o600)
	table, err := loadUsers(path)
	if err != nil {
		t.Fatalf("loadUsers: %v", err)
	}
	for _, tt := range []struct {
		user, password string
		want           bool
	}{
		{"admin", "admin-pw", true},
		{"admin", "admin-pw ", false},
		{"admin", "admin-p", false},
		{"admin", "", false},
		{"Admin", "admin-pw", false},
		{"ops", "s3cret", true},
		// Twice: the second check is answered from the remembered digest.
		{"ops", "s3cret", true},
		{"ops", "wrong", false},
		// The hash itself is not the password.
		{"ops", hash, false},
		{"nobody", "admin-pw", false},
		{"apache", "other", true},
		{"apache", "s3cret", false},
	} {
		if got := table.check(tt.user, tt.password); got != tt.want {
			t.Errorf("check(%q, %q) = %v, want %v", tt.user, tt.password, got, tt.want)
		}
	}
}

func TestLoadUsersRefusesUnsafeOrInvalidFiles(t *testing.T) {
	valid := "users:\n  - username: admin\n    password: pw\n"
	for _, tt := range []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"world readable", valid, 0o644, "chmod 600"},
		{"group readable", valid, 0o640, "chmod 600"},
		{"group writable", valid, 0o620, "chmod 600"},
		{"others executable", valid, 0o601, "chmod 600"},
		{"not YAML", "users: [", 0o600, "users.yaml"},
		{"no users", "users: []\n", 0o600, "lists no users"},
		{"other key", "people:\n  - username: a\n    password: b\n", 0o600, "lists no users"},
		{"no username", "users:\n  - password: pw\n", 0o600, "has no username"},
		{"no password", "users:\n  - username: admin\n", 0o600, `"admin" has no password`},
		{"twice", valid + "  - username: admin\n    password: other\n", 0o600, "listed twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeUsers(t, t.TempDir(), tt.content, tt.mode)
			_, err := loadUsers(path)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("loadUsers = %v, want an invalid-config error containing %q", err, tt.want)
			}
		})
	}
	t.Run("owner-only modes load", func(t *testing.T) {
		for _, mode := range []os.FileMode{0o600, 0o400, 0o700} {
			if _, err := loadUsers(writeUsers(t, t.TempDir(), valid, mode)); err != nil {
				t.Errorf("mode %04o: %v", mode, err)
			}
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := loadUsers(filepath.Join(t.TempDir(), "absent.yaml")); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
			t.Fatalf("loadUsers of a missing file = %v", err)
		}
	})
	t.Run("a directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := loadUsers(dir); !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("loadUsers of a directory = %v", err)
		}
	})
}

func TestIsBcryptHash(t *testing.T) {
	hash := bcryptOf(t, "x")
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{hash, true},
		{"$2y$" + hash[4:], true},
		{"plain-password", false},
		{hash[:59], false},
		{"$2a$xx$" + strings.Repeat("a", 53), false},
		{"$1$" + strings.Repeat("a", 57), false},
	} {
		if got := isBcryptHash(tt.in); got != tt.want {
			t.Errorf("isBcryptHash(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
