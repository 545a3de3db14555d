// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package trace

import (
	"context"

	"github.com/pkg/errors"

	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/banyand/protector"
	"github.com/apache/skywalking-banyandb/banyand/trace/tstable"
)

// defaultMaxQueryResponseSize is the default of --trace-max-query-response-size, the bound of the
// page a client gets: well under gRPC's 2 GiB message cap.
const defaultMaxQueryResponseSize = 64 << 20

// ErrQueryTooLarge marks a query whose answer would pass --trace-max-query-response-size; the
// gRPC layer answers it with ResourceExhausted, as it does protector.ErrMemoryExceeded.
var ErrQueryTooLarge = errors.New("query answer too large")

// pageHint is what a client whose query was too big is told to do.
const pageHint = "narrow the query (a shorter time range, more conditions) or page with limit/offset"

// QueryBounds is what bounds one query at the front door of a node: the memory protector that
// its materialised bytes are charged to, and the largest encoded answer it may return.
type QueryBounds struct {
	// Memory is the node's memory protector.
	Memory protector.Memory
	// MaxResponseBytes is --trace-max-query-response-size.
	MaxResponseBytes int
}

// CheckResponseSize refuses an answer of size encoded bytes when it passes the bound, with
// ResourceExhausted and what to do instead.
func (b QueryBounds) CheckResponseSize(size int) error {
	if b.MaxResponseBytes > 0 && size > b.MaxResponseBytes {
		return toStatus(errors.Wrapf(ErrQueryTooLarge, "the answer would be %d bytes, over the limit of %d bytes (--trace-max-query-response-size); %s",
			size, b.MaxResponseBytes, pageHint))
	}
	return nil
}

// queryBudget is what one query holds and answers on the data side of a node. Its materialised
// bytes (ranked trace ids, spans read, the response built from them) are charged to the memory
// protector as they grow: to the account of the task the context carries (the front door's,
// released when the whole query ends), else to an account of its own that release returns. The
// encoded size of the node's answer (offset+limit traces: the front door pages after merging)
// is bounded by maxAnswer, what a liaison accepts from a data node.
type queryBudget struct {
	acct      *protector.Account
	own       bool
	maxAnswer int
	answered  int
}

// newQueryBudget returns the budget of a query; pm may be nil to charge nothing, maxAnswer 0 to
// bound no answer.
func newQueryBudget(ctx context.Context, pm protector.Memory, maxAnswer int) *queryBudget {
	b := &queryBudget{maxAnswer: maxAnswer}
	if a, ok := protector.AccountFrom(ctx); ok {
		b.acct = a
		return b
	}
	if pm != nil {
		b.acct, b.own = protector.NewAccount(pm), true
	}
	return b
}

// charge reserves n more bytes for the query; past the node's budget it returns an error that
// answers ResourceExhausted.
func (b *queryBudget) charge(ctx context.Context, n uint64) error {
	if b.acct == nil {
		return nil
	}
	if err := b.acct.Grow(ctx, n); err != nil {
		return errors.Wrapf(err, "the query needs more memory than this node may reserve for it; %s", pageHint)
	}
	return nil
}

// answer adds n encoded bytes to the node's answer; past the bound it returns an error that
// answers ResourceExhausted.
func (b *queryBudget) answer(n int) error {
	b.answered += n
	if b.maxAnswer > 0 && b.answered > b.maxAnswer {
		return errors.Wrapf(ErrQueryTooLarge, "this node's answer of offset+limit traces would pass %d bytes; %s", b.maxAnswer, pageHint)
	}
	return nil
}

// release returns what the query holds, if the account is its own.
func (b *queryBudget) release() {
	if b.own {
		b.acct.Release()
	}
}

// Estimated in-memory sizes of what a query materialises: Go headers and map overhead on top of
// the bytes themselves. They need not be exact, only proportional and not below the real cost.
const (
	rankedTraceCost = 112 // an entry of the seen set, a rankedTrace and the id's string header
	storedSpanCost  = 96  // a StoredSpan and its slice slot
	tagValueCost    = 64  // a decoded TagValue with its oneof wrapper
	answerSpanCost  = 96  // a response Span and its tag headers
)

// storedSpansSize estimates the memory of a trace's spans as read from a table.
func storedSpansSize(spans []tstable.StoredSpan) uint64 {
	n := uint64(0)
	for i := range spans {
		s := &spans[i]
		n += storedSpanCost + uint64(len(s.TraceID)+len(s.SpanID)+len(s.Payload))
		for _, v := range s.Tags {
			n += tagValueCost + uint64(len(v.GetStr().GetValue())+len(v.GetBinaryData()))
			for _, sv := range v.GetStrArray().GetValue() {
				n += 16 + uint64(len(sv))
			}
			n += 8 * uint64(len(v.GetIntArray().GetValue()))
		}
	}
	return n
}

// answerOverhead estimates the memory a response trace adds on top of the stored spans it
// points into (the payloads and tag values are shared, not copied).
func answerOverhead(t *tracev1.InternalTrace) uint64 {
	n := uint64(rankedTraceCost)
	for _, s := range t.GetSpans() {
		n += answerSpanCost + 32*uint64(len(s.GetTags()))
	}
	return n
}
