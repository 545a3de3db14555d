// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pkg/errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
)

// FieldError reports one invalid field of a request. Its gRPC status is codes.InvalidArgument with
// the message "<field>: <reason>" and a google.rpc.BadRequest detail naming the field, so that
// status.FromError and status.Code work on it (and on errors wrapping it) directly.
type FieldError struct {
	// Field is the dotted path of the field from the request's schema message, e.g.
	// "trace.tags[2].name" or "group.resource_opts.ttl.num".
	Field string
	// Reason says what is wrong with the field.
	Reason string
}

// Error returns "<field>: <reason>".
func (e *FieldError) Error() string {
	return e.Field + ": " + e.Reason
}

// GRPCStatus makes the error carry codes.InvalidArgument through gRPC.
func (e *FieldError) GRPCStatus() *status.Status {
	st := status.New(codes.InvalidArgument, e.Error())
	detailed, err := st.WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: e.Field, Description: e.Reason}},
	})
	if err != nil {
		return st
	}
	return detailed
}

func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Reasons shared by several validators, so that messages read the same everywhere.
const (
	reasonRequired = "is required"
	reasonEmpty    = "must not be empty"
	reasonPositive = "must be greater than 0"
)

// forbiddenNameChars may not appear in tag names: '#' separates the parts of composite tag keys
// in storage (upstream HEAD rejects it too).
const forbiddenNameChars = "#"

// MaxNameBytes is the longest group, trace, index rule or binding name, in bytes: a group name is
// a directory name on disk, and file systems refuse longer ones.
const MaxNameBytes = 255

// forbiddenNameRunes may not appear in group or resource names: '/' separates the parts of the
// metadata store's keys ("<kind>/<group>/<name>") and of paths on disk, '\' separates paths on
// some systems, and NUL ends a path for the operating system.
const forbiddenNameRunes = "/\\\x00"

// validateMetadata checks the metadata of a resource that lives in a group (trace, index rule,
// binding): it must be present and carry both a group and a name.
func validateMetadata(field string, md *commonv1.Metadata) error {
	if md == nil {
		return fieldErrorf(field, reasonRequired)
	}
	if err := validateName(field+".group", md.GetGroup()); err != nil {
		return err
	}
	return validateName(field+".name", md.GetName())
}

// validateName checks a group or resource name with ValidateName and reports a problem as a
// *FieldError of field.
func validateName(field, name string) error {
	if err := ValidateName(name); err != nil {
		return fieldErrorf(field, "%s", err.Error())
	}
	return nil
}

// ValidateName checks a group, trace, index rule or binding name and returns why it is refused,
// or nil if it is fine. A name is 1 to MaxNameBytes bytes of valid UTF-8 made of printable
// characters (unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII
// space), is neither "." nor "..", and holds none of '/', '\' and NUL. A group name becomes a
// directory under the trace data root, so these rules keep every name one plain directory entry.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New(reasonEmpty)
	case len(name) > MaxNameBytes:
		return errors.Errorf("name is %d bytes long, at most %d are allowed", len(name), MaxNameBytes)
	case name == "." || name == "..":
		return errors.Errorf("name %q is reserved", name)
	case !utf8.ValidString(name):
		return errors.Errorf("name %q is not valid UTF-8", name)
	}
	if i := strings.IndexAny(name, forbiddenNameRunes); i >= 0 {
		return errors.Errorf("name %q must not contain %q", name, name[i])
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return errors.Errorf("name %q must hold printable characters only, found %U", name, r)
		}
	}
	return nil
}

// validateTagName checks a tag name of a trace schema: non-empty, without forbidden characters.
func validateTagName(field, name string) error {
	if name == "" {
		return fieldErrorf(field, reasonEmpty)
	}
	if strings.ContainsAny(name, forbiddenNameChars) {
		return fieldErrorf(field, "tag name %q must not contain %q", name, forbiddenNameChars)
	}
	return nil
}
