// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

func sampleWrite(service string) *tracev1.WriteRequest {
	return &tracev1.WriteRequest{
		Metadata: &commonv1.Metadata{Group: "g", Name: "sw"},
		Tags: []*modelv1.TagValue{
			{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: "trace-1"}}},
			{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: service}}},
		},
		Span:    []byte("span"),
		Version: 42,
	}
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unmarshalFrame runs the server codec over one Write frame as gRPC hands it over.
func unmarshalFrame(t testing.TB, c serverCodec, b []byte) *receivedWrite {
	t.Helper()
	rw := &receivedWrite{}
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, rw); err != nil {
		t.Fatalf("the codec failed a Write frame, which would end the stream: %v", err)
	}
	return rw
}

func TestServerCodecWriteFrames(t *testing.T) {
	c := newServerCodec(1 << 10)
	good := marshal(t, sampleWrite("svc"))
	badUTF8 := bytes.ReplaceAll(marshal(t, sampleWrite("BADUTF8")), []byte("BADUTF8"), []byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9"))
	big := sampleWrite("svc")
	big.Span = make([]byte, 2<<10)
	tests := []struct {
		name        string
		frame       []byte
		wantDecoded bool
		wantErr     string
		wantVersion uint64
		wantGroup   string
	}{
		{"a good request", good, true, "", 42, "g"},
		{"invalid UTF-8 in a tag", badUTF8, false, "decode the write request", 42, "g"},
		{"over the limit", marshal(t, big), false, "above the limit of 1024", 42, "g"},
		{"garbage", []byte{0xff, 0xff, 0xff}, false, "decode the write request", 0, ""},
		{"truncated", good[:len(good)-3], false, "decode the write request", 0, "g"},
		{"empty", nil, true, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw := unmarshalFrame(t, c, tt.frame)
			if rw.size != len(tt.frame) {
				t.Fatalf("size = %d, want %d", rw.size, len(tt.frame))
			}
			if (rw.req != nil) != tt.wantDecoded {
				t.Fatalf("decoded = %v (%v), want %v", rw.req != nil, rw.decodeErr, tt.wantDecoded)
			}
			if !tt.wantDecoded && (rw.decodeErr == nil || !strings.Contains(rw.decodeErr.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", rw.decodeErr, tt.wantErr)
			}
			if rw.requestVersion() != tt.wantVersion {
				t.Fatalf("version = %d, want %d", rw.requestVersion(), tt.wantVersion)
			}
			if !tt.wantDecoded && rw.metadata.GetGroup() != tt.wantGroup {
				t.Fatalf("salvaged metadata %v, want group %q", rw.metadata, tt.wantGroup)
			}
		})
	}
}

func TestServerCodecOtherMessages(t *testing.T) {
	c := newServerCodec(1 << 10)
	in := &tracev1.QueryRequest{Groups: []string{"g"}, Name: "sw", Limit: 7}
	data, err := c.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := &tracev1.QueryRequest{}
	if err := c.Unmarshal(data, out); err != nil || !proto.Equal(in, out) {
		t.Fatalf("round trip = %v, %v", out, err)
	}
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0xff, 0xff})}, out); err == nil {
		t.Fatal("garbage decoded as a QueryRequest")
	}
	if c.Name() != "proto" {
		t.Fatalf("Name = %q", c.Name())
	}
}

// FuzzDecodeWrite feeds arbitrary bytes to the server codec as one Write frame. The codec must
// never fail (a failure would end the stream), must decode exactly what protobuf decodes, refuse
// the rest with a reason, and answer a decodable request with its own version. The seed corpus is
// in testdata/fuzz/FuzzDecodeWrite.
func FuzzDecodeWrite(f *testing.F) {
	f.Add(marshal(f, sampleWrite("svc")))
	f.Add(bytes.ReplaceAll(marshal(f, sampleWrite("BADUTF8")), []byte("BADUTF8"), []byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9")))
	f.Add([]byte{0x20, 0x2a, 0x0a, 0x02, 0x0a, 0xff})
	const limit = 4 << 10
	c := newServerCodec(limit)
	f.Fuzz(func(t *testing.T, data []byte) {
		rw := unmarshalFrame(t, c, data)
		if rw.size != len(data) {
			t.Fatalf("size = %d, want %d", rw.size, len(data))
		}
		want := &tracev1.WriteRequest{}
		decodable := proto.Unmarshal(data, want) == nil
		switch {
		case len(data) > limit:
			if rw.req != nil || rw.decodeErr == nil {
				t.Fatal("a request over the limit was decoded")
			}
		case decodable:
			if rw.req == nil || !proto.Equal(rw.req, want) {
				t.Fatalf("decoded %v, want %v (%v)", rw.req, want, rw.decodeErr)
			}
			if v, _ := salvageWrite(data); v != want.GetVersion() {
				t.Fatalf("salvaged version %d, want %d", v, want.GetVersion())
			}
		default:
			if rw.req != nil || rw.decodeErr == nil {
				t.Fatal("bytes protobuf refuses were decoded")
			}
		}
	})
}
