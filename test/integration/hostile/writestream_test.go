// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package hostile_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
	"github.com/apache/skywalking-banyandb/test/helpers"
)

// rawFrame is a Write request already encoded, sent as is: the Go protobuf marshaller refuses to
// encode invalid UTF-8, a hostile client does not.
type rawFrame []byte

// rawClientCodec sends rawFrames verbatim and decodes responses with protobuf.
type rawClientCodec struct{}

func (rawClientCodec) Name() string { return "proto" }

func (rawClientCodec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*rawFrame); ok {
		return mem.BufferSlice{mem.SliceBuffer(*f)}, nil
	}
	b, err := proto.Marshal(v.(proto.Message))
	return mem.BufferSlice{mem.SliceBuffer(b)}, err
}

func (rawClientCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

// rawWriteStream opens a Write stream that sends rawFrames.
func (s *server) rawWriteStream(ctx context.Context, conn *grpc.ClientConn) grpc.ClientStream {
	GinkgoHelper()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{StreamName: "Write", ServerStreams: true, ClientStreams: true},
		"/banyandb.trace.v1.TraceService/Write", grpc.ForceCodecV2(rawClientCodec{}))
	Expect(err).NotTo(HaveOccurred())
	return stream
}

// encoded returns the wire bytes of req.
func encoded(req *tracev1.WriteRequest) rawFrame {
	GinkgoHelper()
	b, err := proto.Marshal(req)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// invalidUTF8 returns the wire bytes of req with every "BADUTF8" in its strings replaced by bytes
// that are not UTF-8, which no protobuf decoder accepts in a string field.
func invalidUTF8(req *tracev1.WriteRequest) rawFrame {
	GinkgoHelper()
	b := encoded(req)
	Expect(bytes.Contains(b, []byte("BADUTF8"))).To(BeTrue())
	return bytes.ReplaceAll(b, []byte("BADUTF8"), []byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9"))
}

// sendAll sends frames on stream, half-closes it and returns every response and the stream's
// final error (nil when it ended cleanly).
func sendAll(stream grpc.ClientStream, frames []rawFrame) ([]*tracev1.WriteResponse, error) {
	type result struct {
		resps []*tracev1.WriteResponse
		err   error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for {
			resp := &tracev1.WriteResponse{}
			if err := stream.RecvMsg(resp); err != nil {
				if err != io.EOF {
					r.err = err
				}
				break
			}
			r.resps = append(r.resps, resp)
		}
		done <- r
	}()
	for i := range frames {
		if stream.SendMsg(&frames[i]) != nil {
			break // the server ended the stream; RecvMsg says why
		}
	}
	_ = stream.CloseSend()
	r := <-done
	return r.resps, r.err
}

var _ = Describe("Write requests that do not decode", Ordered, func() {
	const (
		group = "undecodable"
		// limit is the server's --max-recv-msg-size.
		limit = 1 << 20
	)
	var (
		s  *server
		md *commonv1.Metadata
	)
	BeforeAll(func(ctx SpecContext) {
		s = startServer(helpers.ServerOptions{Args: []string{"--max-recv-msg-size=1mb"}})
		s.createGroup(ctx, "test-trace-group", group)
		md = s.writeFirst(ctx, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return swSpan(md, "u_first", "a", "svc", 1, time.Now())
		})
	})
	dumpOnFailure(func() *server { return s })

	good := func(prefix string, i int) *tracev1.WriteRequest {
		req := swSpan(md, fmt.Sprintf("%s_%d", prefix, i), "a", "svc", int64(i), time.Now())
		req.Version = uint64(i + 1)
		return req
	}

	It("answers a request with invalid UTF-8 alone, and every request around it", func(ctx SpecContext) {
		var frames []rawFrame
		for i := 0; i < 200; i++ {
			frames = append(frames, encoded(good("utf_a", i)))
		}
		bad := swSpan(md, "utf_bad", "a", "BADUTF8", 1, time.Now())
		bad.Version = 9999
		frames = append(frames, invalidUTF8(bad))
		for i := 0; i < 50; i++ {
			frames = append(frames, encoded(good("utf_b", i)))
		}
		resps, err := sendAll(s.rawWriteStream(ctx, s.conn), frames)
		Expect(err).NotTo(HaveOccurred())
		Expect(resps).To(HaveLen(len(frames)))
		for i, r := range resps {
			switch {
			case i < 200:
				Expect(r.GetVersion()).To(Equal(uint64(i + 1)))
				Expect(r.GetStatus()).To(Equal(modelv1.Status_STATUS_SUCCEED.String()), "request %d", i)
			case i == 200:
				Expect(r.GetVersion()).To(Equal(uint64(9999)), "the refusal names the bad request's version")
				Expect(r.GetStatus()).To(Equal(modelv1.Status_STATUS_INVALID_TIMESTAMP.String()))
			default:
				Expect(r.GetVersion()).To(Equal(uint64(i - 200)))
				Expect(r.GetStatus()).To(Equal(modelv1.Status_STATUS_SUCCEED.String()), "request %d", i)
			}
		}
		for _, id := range []string{"utf_a_0", "utf_a_199", "utf_b_0", "utf_b_49"} {
			Expect(s.queryByID(ctx, group, "sw", id)).To(HaveLen(1), id)
		}
		Expect(s.queryByID(ctx, group, "sw", "utf_bad")).To(BeEmpty())
	})

	It("answers garbage bytes alone", func(ctx SpecContext) {
		frames := []rawFrame{encoded(good("junk", 0)), rawFrame("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), encoded(good("junk", 2))}
		resps, err := sendAll(s.rawWriteStream(ctx, s.conn), frames)
		Expect(err).NotTo(HaveOccurred())
		Expect(resps).To(HaveLen(3))
		Expect([]string{resps[0].GetStatus(), resps[1].GetStatus(), resps[2].GetStatus()}).To(Equal([]string{
			modelv1.Status_STATUS_SUCCEED.String(), modelv1.Status_STATUS_INVALID_TIMESTAMP.String(), modelv1.Status_STATUS_SUCCEED.String(),
		}))
		Expect(s.queryByID(ctx, group, "sw", "junk_2")).To(HaveLen(1))
	})

	It("answers a request over --max-recv-msg-size alone, up to twice the limit", func(ctx SpecContext) {
		big := good("big", 1)
		big.Span = make([]byte, limit+limit/2)
		frames := []rawFrame{encoded(good("big", 0)), encoded(big), encoded(good("big", 2))}
		resps, err := sendAll(s.rawWriteStream(ctx, s.conn), frames)
		Expect(err).NotTo(HaveOccurred())
		Expect(resps).To(HaveLen(3))
		Expect(resps[1].GetVersion()).To(Equal(uint64(2)))
		Expect([]string{resps[0].GetStatus(), resps[1].GetStatus(), resps[2].GetStatus()}).To(Equal([]string{
			modelv1.Status_STATUS_SUCCEED.String(), modelv1.Status_STATUS_INVALID_TIMESTAMP.String(), modelv1.Status_STATUS_SUCCEED.String(),
		}))
		Expect(s.queryByID(ctx, group, "sw", "big_1")).To(BeEmpty())
		Expect(s.queryByID(ctx, group, "sw", "big_2")).To(HaveLen(1))
	})

	It("ends the stream with RESOURCE_EXHAUSTED above twice the limit, every answer it gave true", func(ctx SpecContext) {
		var frames []rawFrame
		for i := 0; i < 100; i++ {
			frames = append(frames, encoded(good("huge", i)))
		}
		huge := good("huge", 100)
		huge.Span = make([]byte, 3*limit)
		frames = append(frames, encoded(huge))
		resps, err := sendAll(s.rawWriteStream(ctx, s.conn), frames)
		Expect(status.Code(err)).To(Equal(codes.ResourceExhausted))
		for i, r := range resps {
			Expect(r.GetStatus()).To(Equal(modelv1.Status_STATUS_SUCCEED.String()))
			Expect(s.queryByID(ctx, group, "sw", fmt.Sprintf("huge_%d", r.GetVersion()-1))).To(HaveLen(1), "acknowledged request %d", i)
		}
		// The server goes on serving streams.
		Expect(s.writeStatuses(ctx, good("after_huge", 0))).To(Equal([]string{modelv1.Status_STATUS_SUCCEED.String()}))
	})

	It("still holds unary requests to the limit", func(ctx SpecContext) {
		_, err := s.trace.Query(ctx, &tracev1.QueryRequest{Groups: []string{group}, Name: "sw", TagProjection: []string{strings.Repeat("x", limit+10)}})
		Expect(status.Code(err)).To(Equal(codes.ResourceExhausted))
	})
})

// procStatusMiB reads a kB field of /proc/<pid>/status (VmRSS, VmHWM) in MiB.
func procStatusMiB(pid int, field string) float64 {
	GinkgoHelper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	Expect(err).NotTo(HaveOccurred())
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kib, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			Expect(err).NotTo(HaveOccurred())
			return float64(kib) / 1024
		}
	}
	Fail("no " + field + " in /proc status")
	return 0
}

// metricValue scrapes one unlabelled metric from the server's /metrics; -1 when it is absent.
func (s *server) metricValue(name string) float64 {
	GinkgoHelper()
	resp, err := http.Get("http://" + s.ObservabilityAddr + "/metrics")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			Expect(err).NotTo(HaveOccurred())
			return f
		}
	}
	return -1
}

var _ = Describe("Write streams whose clients do not read their acknowledgements", Ordered, func() {
	const (
		group     = "unread"
		streams   = 20
		perStream = 40
		spanBytes = 1 << 20
		// budgetMiB is the server's --allowed-bytes; write streams get 32 MiB of it.
		budgetMiB = 256
	)
	var s *server
	BeforeAll(func() {
		s = startServer(helpers.ServerOptions{Args: []string{"--allowed-bytes=" + strconv.Itoa(budgetMiB) + "mb"}})
	})
	dumpOnFailure(func() *server { return s })

	It("are held by flow control, and RSS stays within the memory budget", func(ctx SpecContext) {
		s.createGroup(ctx, "test-trace-group", group)
		md := s.writeFirst(ctx, group, "sw", func(md *commonv1.Metadata) *tracev1.WriteRequest {
			return swSpan(md, "unread_first", "a", "svc", 1, time.Now())
		})
		var sent atomic.Int64
		var clients []tracev1.TraceService_WriteClient
		var wg sync.WaitGroup
		for c := 0; c < streams; c++ {
			conn, err := helpers.Dial(s.Addr)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(conn.Close)
			stream, err := tracev1.NewTraceServiceClient(conn).Write(ctx)
			Expect(err).NotTo(HaveOccurred())
			clients = append(clients, stream)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perStream; i++ {
					req := swSpan(md, fmt.Sprintf("unread_%d_%d", c, i), "a", "svc", 1, time.Now())
					req.Span = make([]byte, spanBytes)
					if stream.Send(req) != nil {
						return
					}
					sent.Add(1)
				}
			}()
		}
		// Every span goes through: the server reads each stream as fast as it commits, never
		// further ahead than the stream's share of the write buffers.
		wg.Wait()
		Expect(sent.Load()).To(Equal(int64(streams * perStream)))
		peak := procStatusMiB(s.PID(), "VmHWM")
		GinkgoWriter.Printf("write streams: %d spans of 1 MiB sent by %d streams without reading acks, peak RSS %.0f MiB (budget %d MiB)\n",
			sent.Load(), streams, peak, budgetMiB)
		Expect(peak).To(BeNumerically("<", budgetMiB))
		for c, stream := range clients {
			Expect(stream.CloseSend()).To(Succeed())
			n := 0
			for {
				resp, err := stream.Recv()
				if err == io.EOF {
					break
				}
				Expect(err).NotTo(HaveOccurred())
				Expect(resp.GetStatus()).To(Equal(modelv1.Status_STATUS_SUCCEED.String()))
				n++
			}
			Expect(n).To(Equal(perStream), "acknowledgements of stream %d", c)
		}
		// Every byte the streams held is released once they end.
		Eventually(func() float64 { return s.metricValue("banyandb_liaison_write_buffered_bytes") }).Should(BeZero())
		// The server is unharmed.
		Expect(s.writeStatuses(ctx, swSpan(md, "unread_after", "a", "svc", 1, time.Now()))).
			To(Equal([]string{modelv1.Status_STATUS_SUCCEED.String()}))
	})
})
