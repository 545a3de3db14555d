// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package bus

import (
	"context"
	"errors"
	"testing"
)

func TestTopicsAreDistinctAndNamed(t *testing.T) {
	topics := []Topic{TopicTraceWrite, TopicTraceQuery, TopicTraceInspectGroup, TopicTraceDropGroupData, TopicTraceDeleteSegments}
	seen := map[Topic]bool{}
	for _, topic := range topics {
		if topic == "" {
			t.Fatal("a topic has no name")
		}
		if seen[topic] {
			t.Fatalf("topic %q is declared twice", topic)
		}
		seen[topic] = true
	}
}

type ctxKey struct{}

func TestListenerFuncCallsTheFunction(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		payload   any
		reply     any
		err       error
		wantReply any
	}{
		{name: "reply", payload: "in", reply: "out", wantReply: "out"},
		{name: "error", payload: 1, reply: nil, err: boom, wantReply: nil},
		{name: "reply and error", payload: nil, reply: "partial", err: boom, wantReply: "partial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotPayload any
			var gotCtx context.Context
			var l Listener = ListenerFunc(func(ctx context.Context, payload any) (any, error) {
				gotCtx, gotPayload = ctx, payload
				return tt.reply, tt.err
			})
			ctx := context.WithValue(context.Background(), ctxKey{}, tt.name)
			reply, err := l.Handle(ctx, tt.payload)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			if reply != tt.wantReply {
				t.Fatalf("reply = %v, want %v", reply, tt.wantReply)
			}
			if gotPayload != tt.payload {
				t.Fatalf("the function got payload %v, want %v", gotPayload, tt.payload)
			}
			if gotCtx.Value(ctxKey{}) != tt.name {
				t.Fatal("the function did not get the caller's context")
			}
		})
	}
}
