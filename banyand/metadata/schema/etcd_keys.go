// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package schema

import (
	"strings"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// The etcd key layout. Every key lives under "/<namespace>/" and starts with the kind's name
// (Kind.String):
//
//	/<namespace>/groups/<group>
//	/<namespace>/traces/<group>/<name>
//	/<namespace>/index-rules/<group>/<name>
//	/<namespace>/index-rule-bindings/<group>/<name>
//	/<namespace>/nodes/<node>
//	/<namespace>/group-deletion-tasks/<group>   (not a kind: never watched)
//
// Values are the resources in protobuf binary form. The revisions in metadata are never stored:
// they come from etcd on every read. Names may not contain "/", so that "/<kind>/<group>/" is a
// prefix of exactly the resources of that group.

// kinds lists the kinds in the order replays deliver them: a group before what lives in it.
var kinds = []Kind{KindGroup, KindTrace, KindIndexRule, KindIndexRuleBinding, KindNode}

// keyspace builds and parses the keys of one namespace.
type keyspace struct {
	// root is "/<namespace>/".
	root string
}

func newKeyspace(namespace string) keyspace {
	return keyspace{root: "/" + strings.Trim(namespace, "/") + "/"}
}

// kindPrefix is the prefix of every key of a kind.
func (k keyspace) kindPrefix(kind Kind) string {
	return k.root + kind.String() + "/"
}

// groupPrefix is the prefix of the keys of a grouped kind inside one group.
func (k keyspace) groupPrefix(kind Kind, group string) string {
	return k.kindPrefix(kind) + group + "/"
}

func (k keyspace) groupKey(name string) string {
	return k.kindPrefix(KindGroup) + name
}

// key returns the key of a resource, checking that its metadata can form one.
func (k keyspace) key(kind Kind, md *commonv1.Metadata) (string, error) {
	if md == nil {
		return "", errors.Wrapf(ErrBadRequest, "%s metadata is required", kindLabel(kind))
	}
	if err := checkName(kind, "name", md.GetName()); err != nil {
		return "", err
	}
	if !grouped(kind) {
		return k.kindPrefix(kind) + md.GetName(), nil
	}
	if err := checkName(kind, "group", md.GetGroup()); err != nil {
		return "", err
	}
	return k.groupPrefix(kind, md.GetGroup()) + md.GetName(), nil
}

// parse splits a key of the namespace into its kind, group and name.
func (k keyspace) parse(key string) (kind Kind, group, name string, ok bool) {
	rest, found := strings.CutPrefix(key, k.root)
	if !found {
		return 0, "", "", false
	}
	head, tail, found := strings.Cut(rest, "/")
	if !found {
		return 0, "", "", false
	}
	for _, kd := range kinds {
		if kd.String() != head {
			continue
		}
		if !grouped(kd) {
			return kd, "", tail, tail != ""
		}
		group, name, found = strings.Cut(tail, "/")
		return kd, group, name, found && group != "" && name != ""
	}
	return 0, "", "", false
}

func checkName(kind Kind, field, value string) error {
	if value == "" {
		return errors.Wrapf(ErrBadRequest, "%s %s is empty", kindLabel(kind), field)
	}
	if strings.Contains(value, "/") {
		return errors.Wrapf(ErrBadRequest, "%s %s %q contains '/'", kindLabel(kind), field, value)
	}
	return nil
}

// grouped reports whether resources of the kind live in a group.
func grouped(kind Kind) bool {
	switch kind {
	case KindTrace, KindIndexRule, KindIndexRuleBinding:
		return true
	default:
		return false
	}
}

// kindLabel names a kind in error messages.
func kindLabel(kind Kind) string {
	switch kind {
	case KindGroup:
		return "group"
	case KindTrace:
		return "trace"
	case KindIndexRule:
		return "index rule"
	case KindIndexRuleBinding:
		return "index rule binding"
	case KindNode:
		return "node"
	default:
		return "resource"
	}
}

// resource is what every registry stores: a message with metadata.
type resource interface {
	proto.Message
	GetMetadata() *commonv1.Metadata
}

// newResource returns an empty message of the kind.
func newResource(kind Kind) resource {
	switch kind {
	case KindGroup:
		return &commonv1.Group{}
	case KindTrace:
		return &databasev1.Trace{}
	case KindIndexRule:
		return &databasev1.IndexRule{}
	case KindIndexRuleBinding:
		return &databasev1.IndexRuleBinding{}
	case KindNode:
		return &databasev1.Node{}
	default:
		return nil
	}
}

// fields returns pointers to the metadata and timestamp fields of a resource; updated is nil for
// kinds without updated_at (nodes).
func fields(m resource) (md **commonv1.Metadata, created, updated **timestamppb.Timestamp) {
	switch v := m.(type) {
	case *commonv1.Group:
		return &v.Metadata, &v.CreatedAt, &v.UpdatedAt
	case *databasev1.Trace:
		return &v.Metadata, &v.CreatedAt, &v.UpdatedAt
	case *databasev1.IndexRule:
		return &v.Metadata, &v.CreatedAt, &v.UpdatedAt
	case *databasev1.IndexRuleBinding:
		return &v.Metadata, &v.CreatedAt, &v.UpdatedAt
	case *databasev1.Node:
		return &v.Metadata, &v.CreatedAt, nil
	default:
		return nil, nil, nil
	}
}

// decode turns a stored value into a resource and fills the revisions from etcd. A value
// that lost its metadata gets one rebuilt from the key's group and name.
func decode(kind Kind, group, name string, value []byte, createRev, modRev int64) (resource, error) {
	m := newResource(kind)
	if m == nil {
		return nil, errors.Errorf("unknown kind %d", kind)
	}
	if err := proto.Unmarshal(value, m); err != nil {
		return nil, errors.Wrapf(err, "decode %s %s", kindLabel(kind), qualified(group, name))
	}
	md, _, _ := fields(m)
	if *md == nil {
		*md = &commonv1.Metadata{Group: group, Name: name}
	}
	(*md).CreateRevision = createRev
	(*md).ModRevision = modRev
	return m, nil
}

// skeleton is the spec of a deleted resource whose last value is unknown: only group and name.
func skeleton(kind Kind, group, name string, createRev, modRev int64) resource {
	m := newResource(kind)
	md, _, _ := fields(m)
	*md = &commonv1.Metadata{Group: group, Name: name, CreateRevision: createRev, ModRevision: modRev}
	return m
}

func qualified(group, name string) string {
	if group == "" {
		return name
	}
	return group + "/" + name
}
