// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
	"github.com/apache/skywalking-banyandb/banyand/metadata/schema"
	"github.com/apache/skywalking-banyandb/pkg/logger"
)

// Registries gives the registry services the metadata store they read and write.
// metadata.Repo satisfies it.
type Registries interface {
	GroupRegistry() schema.Group
	TraceRegistry() schema.Trace
	IndexRuleRegistry() schema.IndexRule
	IndexRuleBindingRegistry() schema.IndexRuleBinding
	DeletionTaskRegistry() schema.DeletionTask
}

// RegistryServers holds the implementations of the schema registry services and of the common
// service. The HTTP gateway calls them in-process; the gRPC server registers them.
type RegistryServers struct {
	Group            databasev1.GroupRegistryServiceServer
	Trace            databasev1.TraceRegistryServiceServer
	IndexRule        databasev1.IndexRuleRegistryServiceServer
	IndexRuleBinding databasev1.IndexRuleBindingRegistryServiceServer
	Common           commonv1.ServiceServer
}

// NewRegistryServers builds the registry services over the registries.
//
// Every write is validated before it reaches the store, in two steps: the message on its own
// (ValidateGroup, ValidateTrace, ValidateIndexRule, ValidateIndexRuleBinding; InvalidArgument),
// then against the resources it refers to. A referenced resource that does not exist (the group
// of a trace, index rule or binding; the trace or the rules a binding names) is NotFound; one that
// exists but does not fit (a trace group that is not CATALOG_TRACE, an index rule whose tags are
// not in a bound trace or whose last tag is not INT/TIMESTAMP there) is InvalidArgument. The
// reference checks read the store before writing, so a concurrent change of another resource
// between the check and the write is not detected.
//
// Store errors map to codes as follows: schema.ErrNotFound -> NotFound, schema.ErrAlreadyExists ->
// AlreadyExists, schema.ErrConcurrentModification -> FailedPrecondition, schema.ErrBadRequest ->
// InvalidArgument, schema.ErrClosed -> Unavailable, context cancellation and deadline -> Canceled
// and DeadlineExceeded, anything else -> Internal; the message is the store's.
//
// data is the data side of the group operations (Inspect, Delete's force check and data_only);
// nil means none is wired: Inspect then reports no data and Delete finds none to refuse or drop.
func NewRegistryServers(r Registries, data GroupData) *RegistryServers {
	log := logger.GetLogger("liaison", "grpc", "registry")
	return &RegistryServers{
		Group: &groupRegistryServer{
			groups: r.GroupRegistry(), traces: r.TraceRegistry(),
			rules: r.IndexRuleRegistry(), bindings: r.IndexRuleBindingRegistry(), data: data,
			tasks: r.DeletionTaskRegistry(), log: log,
		},
		Trace: &traceRegistryServer{
			groups: r.GroupRegistry(), traces: r.TraceRegistry(),
			rules: r.IndexRuleRegistry(), bindings: r.IndexRuleBindingRegistry(), log: log,
		},
		IndexRule: &indexRuleRegistryServer{
			groups: r.GroupRegistry(), traces: r.TraceRegistry(),
			rules: r.IndexRuleRegistry(), bindings: r.IndexRuleBindingRegistry(), log: log,
		},
		IndexRuleBinding: &indexRuleBindingRegistryServer{
			groups: r.GroupRegistry(), traces: r.TraceRegistry(),
			rules: r.IndexRuleRegistry(), bindings: r.IndexRuleBindingRegistry(), log: log,
		},
		Common: &commonServer{},
	}
}

// storeError turns an error of the metadata store into a gRPC status error; op names the call
// for the log. Errors that already carry a status (validation errors) pass unchanged.
func storeError(log *logger.Logger, op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var code codes.Code
	switch {
	case errors.Is(err, schema.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, schema.ErrAlreadyExists):
		code = codes.AlreadyExists
	case errors.Is(err, schema.ErrConcurrentModification):
		code = codes.FailedPrecondition
	case errors.Is(err, schema.ErrBadRequest):
		code = codes.InvalidArgument
	case errors.Is(err, schema.ErrClosed):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	default:
		code = codes.Internal
		log.Error().Err(err).Str("op", op).Msg("metadata store failed")
	}
	return status.Error(code, err.Error())
}

// notFoundf reports a referenced resource that does not exist, naming the request field.
func notFoundf(field, format string, args ...any) error {
	return status.Error(codes.NotFound, field+": "+fmt.Sprintf(format, args...))
}
