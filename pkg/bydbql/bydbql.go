// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package bydbql is the front end of BydbQL, BanyanDB's query language, for traces (API.md §11):
// a lexer that keeps lines and columns, a recursive-descent parser to a Query AST, a binder of
// `?` placeholders and a transformer of the bound query into a trace.v1.QueryRequest, typed by
// the trace schema. It knows no server: the schema comes through a SchemaLookup.
//
// Usage sketch:
//
//	q, err := bydbql.Parse("SELECT trace_id FROM TRACE sw IN test-trace-group TIME > '-15m' WHERE duration >= ? ORDER BY duration DESC")
//	bound, err := bydbql.Bind(q, []*modelv1.TagValue{{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: 500}}}})
//	req, err := bydbql.Transformer{Lookup: lookup}.Transform(ctx, bound)
//
// Every error is an *Error carrying its gRPC code (InvalidArgument, or NotFound for an unknown
// trace) and, for syntax errors, the line and column of the offending token.
package bydbql
