// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import "google.golang.org/protobuf/proto"

// Kind is the kind of a schema resource.
type Kind int

// The kinds of resources the registries hold.
const (
	KindGroup Kind = iota + 1
	KindTrace
	KindIndexRule
	KindIndexRuleBinding
	KindNode
)

// String returns the kind's name as used in etcd keys.
func (k Kind) String() string {
	switch k {
	case KindGroup:
		return "groups"
	case KindTrace:
		return "traces"
	case KindIndexRule:
		return "index-rules"
	case KindIndexRuleBinding:
		return "index-rule-bindings"
	case KindNode:
		return "nodes"
	default:
		return "unknown"
	}
}

// Metadata is one event's payload: the kind and the resource (a *commonv1.Group,
// *databasev1.Trace, *databasev1.IndexRule, *databasev1.IndexRuleBinding or *databasev1.Node).
type Metadata struct {
	Spec proto.Message
	Kind Kind
}

// EventHandler receives the changes of the registries. Handlers are called one event at a time,
// in store order. On registration the handler first receives OnAddOrUpdate for every resource that
// already exists, so a late handler misses nothing.
type EventHandler interface {
	// OnAddOrUpdate is called when a resource is created or changed.
	OnAddOrUpdate(m Metadata)
	// OnDelete is called when a resource is deleted; Spec carries the last known value.
	OnDelete(m Metadata)
}
