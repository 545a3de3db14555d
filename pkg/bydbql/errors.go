// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bydbql

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Pos is a place in the statement text: line and column both count from 1, columns in runes.
type Pos struct {
	Line   int
	Column int
}

// String returns "line L, column C".
func (p Pos) String() string {
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}

// Error is a refusal of a statement: a syntax error, a binding error or a semantic error, with
// the gRPC code the server answers it with. Errors without a place (a count of params that does
// not match, an unknown trace) have a zero Pos.
type Error struct {
	Msg  string
	Pos  Pos
	Code codes.Code
}

// Error returns the message, prefixed by the place when there is one.
func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// GRPCStatus lets status.FromError and status.Code read the error's code.
func (e *Error) GRPCStatus() *status.Status {
	return status.New(e.Code, "bydbql: "+e.Error())
}

// errorf returns an InvalidArgument Error at pos.
func errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Code: codes.InvalidArgument, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
