// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"os"
	"strings"
	"sync"

	"github.com/pkg/errors"
	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"
)

// ErrInvalidConfig is wrapped by every error about the users file: unsafe permissions, bad YAML,
// a user without a name or a password, a name listed twice.
var ErrInvalidConfig = errors.New("auth: invalid users file")

// fileUser is one entry of the users file, in upstream BanyanDB's format.
type fileUser struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// usersFile is the whole users file: `users: [{username, password}]`.
type usersFile struct {
	Users []fileUser `yaml:"users"`
}

// user is a loaded user. A plain password is kept as its SHA-256 digest, so that comparing it
// takes the same time whatever its length; a bcrypt hash is checked with bcrypt, and the digest of
// the last password that passed is remembered so that later calls skip bcrypt's deliberate cost.
type user struct {
	plain  [sha256.Size]byte
	bcrypt []byte

	mu       sync.Mutex
	verified [sha256.Size]byte
	ok       bool
}

// userTable is one version of the users file; a reload replaces the whole table.
type userTable struct {
	users map[string]*user
}

// dummyDigest is compared against when the user name is unknown, so that an unknown name costs
// the same as a wrong password.
var dummyDigest = sha256.Sum256([]byte("banyandb-auth-unknown-user"))

// isBcryptHash reports whether a password field holds a bcrypt hash ("$2a$", "$2b$" or "$2y$"
// followed by a cost bcrypt can read) instead of a plain password.
func isBcryptHash(p string) bool {
	if len(p) != 60 || !(strings.HasPrefix(p, "$2a$") || strings.HasPrefix(p, "$2b$") || strings.HasPrefix(p, "$2y$")) {
		return false
	}
	_, err := bcrypt.Cost([]byte(p))
	return err == nil
}

// loadUsers reads and checks the users file at path. It refuses a file that the group or others
// may read or write (its users' passwords would leak), bad YAML, an empty list, a user without a
// name or password, and a name listed twice.
func loadUsers(path string) (*userTable, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, errors.Wrapf(err, "auth: read the users file %s", path)
	}
	if !info.Mode().IsRegular() {
		return nil, errors.Wrapf(ErrInvalidConfig, "%s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, errors.Wrapf(ErrInvalidConfig,
			"%s has mode %04o: the group and others must have no access to it (chmod 600 %s)", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrapf(err, "auth: read the users file %s", path)
	}
	return parseUsers(path, data)
}

// parseUsers builds a user table from the YAML content of the users file named path.
func parseUsers(path string, data []byte) (*userTable, error) {
	var f usersFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, errors.Wrapf(ErrInvalidConfig, "%s: %v", path, err)
	}
	if len(f.Users) == 0 {
		return nil, errors.Wrapf(ErrInvalidConfig, "%s lists no users under 'users'", path)
	}
	t := &userTable{users: make(map[string]*user, len(f.Users))}
	for i, u := range f.Users {
		if u.Username == "" {
			return nil, errors.Wrapf(ErrInvalidConfig, "%s: users[%d] has no username", path, i)
		}
		if u.Password == "" {
			return nil, errors.Wrapf(ErrInvalidConfig, "%s: user %q has no password", path, u.Username)
		}
		if _, dup := t.users[u.Username]; dup {
			return nil, errors.Wrapf(ErrInvalidConfig, "%s: user %q is listed twice", path, u.Username)
		}
		entry := &user{}
		if isBcryptHash(u.Password) {
			entry.bcrypt = []byte(u.Password)
		} else {
			entry.plain = sha256.Sum256([]byte(u.Password))
		}
		t.users[u.Username] = entry
	}
	return t, nil
}

// check reports whether the password is the user's. Digests are compared in constant time.
func (t *userTable) check(username, password string) bool {
	given := sha256.Sum256([]byte(password))
	u, ok := t.users[username]
	if !ok {
		subtle.ConstantTimeCompare(given[:], dummyDigest[:])
		return false
	}
	if u.bcrypt == nil {
		return subtle.ConstantTimeCompare(given[:], u.plain[:]) == 1
	}
	u.mu.Lock()
	cached := u.ok && subtle.ConstantTimeCompare(given[:], u.verified[:]) == 1
	u.mu.Unlock()
	if cached {
		return true
	}
	if bcrypt.CompareHashAndPassword(u.bcrypt, []byte(password)) != nil {
		return false
	}
	u.mu.Lock()
	u.verified, u.ok = given, true
	u.mu.Unlock()
	return true
}
