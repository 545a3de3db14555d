package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/common/v1"
	modelv1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/model/v1"
	tracev1 "github.com/apache/skywalking-banyandb/api/proto/banyandb/trace/v1"
)

func str(s string) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Str{Str: &modelv1.Str{Value: s}}}
}
func num(n int64) *modelv1.TagValue {
	return &modelv1.TagValue{Value: &modelv1.TagValue_Int{Int: &modelv1.Int{Value: n}}}
}

func main() {
	conn, _ := grpc.NewClient(os.Args[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	group := os.Args[2]
	n, _ := strconv.Atoi(os.Args[3])
	ctx := context.Background()
	c := tracev1.NewTraceServiceClient(conn)
	st, err := c.Write(ctx)
	if err != nil {
		panic(err)
	}
	now := time.Now().Truncate(time.Millisecond)
	for i := 0; i < n; i++ {
		st.Send(&tracev1.WriteRequest{Metadata: &commonv1.Metadata{Group: group, Name: "sw"}, Version: uint64(i),
			Tags: []*modelv1.TagValue{str(fmt.Sprintf("t%d", i)), num(1), str("svc"), str("i"), str("/e"), num(int64(i)), str("s"),
				{Value: &modelv1.TagValue_Timestamp{Timestamp: timestamppb.New(now)}}}, Span: []byte("x")})
	}
	st.CloseSend()
	ok := 0
	for i := 0; i < n; i++ {
		r, err := st.Recv()
		if err != nil {
			panic(err)
		}
		if r.GetStatus() == "STATUS_SUCCEED" {
			ok++
		} else if i < 3 {
			fmt.Println(r.GetStatus())
		}
	}
	fmt.Println("acked ok:", ok, "of", n, "in", time.Since(now))
	t0 := time.Now()
	q, err := c.Query(ctx, &tracev1.QueryRequest{Groups: []string{group}, Name: "sw",
		TimeRange: &modelv1.TimeRange{Begin: timestamppb.New(now.Add(-time.Minute)), End: timestamppb.New(now.Add(time.Minute))},
		OrderBy:   &modelv1.QueryOrder{IndexRuleName: "duration", Sort: modelv1.Sort_SORT_DESC}, Limit: 5})
	fmt.Println("query:", len(q.GetTraces()), err, time.Since(t0))
}
