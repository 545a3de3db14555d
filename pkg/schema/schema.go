// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package schema turns metadata events into open groups and resources. It owns the event types
// (Kind, Metadata, EventHandler, event.go) that the metadata registries emit.
//
// A Repository follows the metadata registries. When a group of the repository's catalog appears,
// a data node's supplier opens its database (DBSupplier.OpenDB); a liaison's supplier opens nothing.
// When a resource (a trace schema) appears, the supplier opens it; when index rules or bindings
// change, the resource's IndexListener gets the new rule set. Standalone and liaison share this
// repository and differ only in the supplier they hand it.
package schema

import (
	"io"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// DB is the storage a data node opens for a group.
type DB interface {
	io.Closer
	// Drop closes the database and removes its data.
	Drop() error
	// UpdateOptions applies a changed group layout to segments created from now on.
	UpdateOptions(g *commonv1.Group) error
}

// Group is an open group: its spec and, on nodes that hold data, its database.
type Group interface {
	// GetSchema returns the group's spec as last seen.
	GetSchema() *commonv1.Group
	// SupplyTSDB returns the group's database, or nil on nodes that hold no data.
	SupplyTSDB() DB
}

// ResourceSchema is the schema of one resource, such as a *databasev1.Trace.
type ResourceSchema interface {
	// GetMetadata returns the resource's group, name and revisions.
	GetMetadata() *commonv1.Metadata
}

// Resource is what a supplier opens: a resource's schema, its index rules and its group.
type Resource interface {
	// Schema returns the resource's schema.
	Schema() ResourceSchema
	// IndexRules returns the index rules bound to the resource now.
	IndexRules() []*databasev1.IndexRule
	// Group returns the resource's open group.
	Group() Group
	// Delegated returns what the supplier opened for the resource (its IndexListener), or nil
	// while the supplier has not opened it yet.
	Delegated() IndexListener
}

// IndexListener is told when the index rules of an open resource change.
type IndexListener interface {
	// OnIndexUpdate receives the complete new rule set.
	OnIndexUpdate(rules []*databasev1.IndexRule)
}

// ResourceSupplier opens resources. Every node kind has one.
type ResourceSupplier interface {
	// OpenResource opens a resource and returns the listener of its index rule changes.
	OpenResource(spec Resource) (IndexListener, error)
}

// DBSupplier opens the database of a group. Only nodes that hold data have one: a liaison
// stores nothing, so its supplier does not implement it.
type DBSupplier interface {
	// OpenDB opens (creating if needed) the storage of a group.
	OpenDB(g *commonv1.Group) (DB, error)
}
