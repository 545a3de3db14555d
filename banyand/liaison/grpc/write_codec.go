// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package grpc

import (
	"github.com/pkg/errors"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

// Field numbers of trace.v1.WriteRequest read from a request that does not decode.
const (
	writeRequestMetadataField protowire.Number = 1
	writeRequestVersionField  protowire.Number = 4
)

// receivedWrite is one frame of the Write stream as the server codec hands it over: the decoded
// request, or why it could not be decoded. gRPC ends a stream on the first message its codec
// fails to decode, so the codec never fails on a receivedWrite: the handler answers a bad frame
// alone and the stream goes on.
type receivedWrite struct {
	// req is the decoded request; nil when decodeErr is set.
	req *tracev1.WriteRequest
	// decodeErr says why the frame is not a WriteRequest (bad bytes, over the request limit).
	decodeErr error
	// version and metadata are what could be read of a frame that does not decode, for its answer.
	version  uint64
	metadata *commonv1.Metadata
	// size is the frame's length on the wire: what the stream's memory budget is charged.
	size int
}

// serverCodec is the gRPC server's codec: the proto codec for every message, except Write stream
// frames, which it decodes itself so that one undecodable request fails alone. It is named "proto"
// to serve the content type every client sends.
type serverCodec struct {
	proto encoding.CodecV2
	// maxWrite is the largest Write request (bytes) that is decoded; a larger one is refused alone.
	maxWrite int
}

// newServerCodec returns the server codec; Write requests above maxWrite bytes are refused alone.
func newServerCodec(maxWrite int) serverCodec {
	return serverCodec{proto: encoding.GetCodecV2(grpcproto.Name), maxWrite: maxWrite}
}

// Name is the codec's content subtype: "proto", the one clients of the proto API send.
func (c serverCodec) Name() string {
	return grpcproto.Name
}

// Marshal encodes responses with the proto codec.
func (c serverCodec) Marshal(v any) (mem.BufferSlice, error) {
	return c.proto.Marshal(v)
}

// Unmarshal decodes a message with the proto codec, or a Write frame into a receivedWrite,
// recording instead of returning any failure.
func (c serverCodec) Unmarshal(data mem.BufferSlice, v any) error {
	rw, ok := v.(*receivedWrite)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	*rw = receivedWrite{size: data.Len()}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	decodeWrite(buf.ReadOnlyData(), c.maxWrite, rw)
	return nil
}

// decodeWrite decodes b, one Write request, into rw: the request, or the reason it is refused
// and what of its version and metadata can be read for its answer.
func decodeWrite(b []byte, maxWrite int, rw *receivedWrite) {
	if len(b) > maxWrite {
		rw.decodeErr = errors.Errorf("the request is %d bytes, above the limit of %d (--max-recv-msg-size)", len(b), maxWrite)
	} else {
		req := &tracev1.WriteRequest{}
		if err := proto.Unmarshal(b, req); err != nil {
			rw.decodeErr = errors.Wrap(err, "decode the write request")
		} else {
			rw.req = req
			return
		}
	}
	rw.version, rw.metadata = salvageWrite(b)
}

// salvageWrite reads the version and the metadata of a Write request that does not decode as a
// whole, field by field; what cannot be read is zero or nil.
func salvageWrite(b []byte) (uint64, *commonv1.Metadata) {
	var version uint64
	var md *commonv1.Metadata
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		b = b[n:]
		switch {
		case num == writeRequestVersionField && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return version, md
			}
			version, n = v, m
		case num == writeRequestMetadataField && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return version, md
			}
			candidate := &commonv1.Metadata{}
			if proto.Unmarshal(v, candidate) == nil {
				md = candidate
			}
			n = m
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			break
		}
		b = b[n:]
	}
	return version, md
}
