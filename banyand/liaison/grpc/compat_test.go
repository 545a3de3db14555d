// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	databasev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/database/v1"
)

// clientDeleteResponse builds, from a descriptor written here, the Delete response a client of
// one API version decodes: 0.10's (schema_info = 1, a SchemaInfo) or 0.9's (bool deleted = 1).
// The descriptors state the upstream shapes independently of our generated code.
func clientDeleteResponse(t *testing.T, v010 bool) protoreflect.MessageDescriptor {
	t.Helper()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	field := func(name string, n int32, typ *descriptorpb.FieldDescriptorProto_Type, label *descriptorpb.FieldDescriptorProto_Label) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ, Label: label, JsonName: proto.String(name)}
	}
	schemaInfo := &descriptorpb.DescriptorProto{Name: proto.String("SchemaInfo"), Field: []*descriptorpb.FieldDescriptorProto{
		field("streams", 1, str, rep), field("measures", 2, str, rep), field("traces", 3, str, rep),
		field("properties", 4, str, rep), field("index_rules", 5, str, rep), field("index_rule_bindings", 6, str, rep),
		field("topn_aggregations", 7, str, rep),
	}}
	resp := &descriptorpb.DescriptorProto{Name: proto.String("GroupRegistryServiceDeleteResponse")}
	if v010 {
		f := field("schema_info", 1, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), opt)
		f.TypeName = proto.String(".client.SchemaInfo")
		resp.Field = []*descriptorpb.FieldDescriptorProto{f}
	} else {
		resp.Field = []*descriptorpb.FieldDescriptorProto{field("deleted", 1, descriptorpb.FieldDescriptorProto_TYPE_BOOL.Enum(), opt)}
	}
	name := "client_v09.proto"
	if v010 {
		name = "client_v010.proto"
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: proto.String(name), Package: proto.String("client"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{schemaInfo, resp},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().ByName("GroupRegistryServiceDeleteResponse")
}

// TestDeleteResponseWire: a 0.10 client decodes our Delete response as the SchemaInfo we sent; a
// 0.9 client's decoder meets a length-delimited field 1 where it expects a varint bool, keeps it
// as an unknown field and reads deleted = false (no error). That is the one wire change a 0.9
// client sees; docs/api.md says why it is the right trade.
func TestDeleteResponseWire(t *testing.T) {
	ours := &databasev1.GroupRegistryServiceDeleteResponse{SchemaInfo: &databasev1.SchemaInfo{
		Traces: []string{"sw"}, IndexRules: []string{"duration", "timestamp"}, IndexRuleBindings: []string{"sw-binding"},
	}}
	b, err := proto.Marshal(ours)
	if err != nil {
		t.Fatal(err)
	}

	v010 := dynamicpb.NewMessage(clientDeleteResponse(t, true))
	if err = proto.Unmarshal(b, v010); err != nil {
		t.Fatalf("a 0.10 client fails to decode: %v", err)
	}
	info := v010.Get(v010.Descriptor().Fields().ByName("schema_info")).Message()
	list := func(name protoreflect.Name) []string {
		l := info.Get(info.Descriptor().Fields().ByName(name)).List()
		out := make([]string, l.Len())
		for i := range out {
			out[i] = l.Get(i).String()
		}
		return out
	}
	if got := list("traces"); len(got) != 1 || got[0] != "sw" {
		t.Fatalf("0.10 client reads traces %v", got)
	}
	if got := list("index_rules"); len(got) != 2 || got[0] != "duration" || got[1] != "timestamp" {
		t.Fatalf("0.10 client reads index_rules %v", got)
	}
	if got := list("index_rule_bindings"); len(got) != 1 || got[0] != "sw-binding" {
		t.Fatalf("0.10 client reads index_rule_bindings %v", got)
	}
	if len(v010.GetUnknown()) != 0 {
		t.Fatalf("a 0.10 client finds unknown fields: %x", v010.GetUnknown())
	}

	v09 := dynamicpb.NewMessage(clientDeleteResponse(t, false))
	if err = proto.Unmarshal(b, v09); err != nil {
		t.Fatalf("a 0.9 client fails to decode: %v", err)
	}
	if v09.Get(v09.Descriptor().Fields().ByName("deleted")).Bool() {
		t.Fatal("a 0.9 client reads deleted = true")
	}
	if len(v09.GetUnknown()) == 0 {
		t.Fatal("a 0.9 client should keep field 1 as an unknown field")
	}

	// An empty SchemaInfo (data_only, or a group with no resources) is still present on the wire,
	// so a 0.10 client can tell "answered, nothing of the schema went" from "no answer".
	b, err = proto.Marshal(&databasev1.GroupRegistryServiceDeleteResponse{SchemaInfo: &databasev1.SchemaInfo{}})
	if err != nil {
		t.Fatal(err)
	}
	v010 = dynamicpb.NewMessage(clientDeleteResponse(t, true))
	if err = proto.Unmarshal(b, v010); err != nil || !v010.Has(v010.Descriptor().Fields().ByName("schema_info")) {
		t.Fatalf("empty SchemaInfo: present %v, err %v", v010.Has(v010.Descriptor().Fields().ByName("schema_info")), err)
	}
}
