package tstable

import (
	"testing"

	"github.com/klauspost/compress/zstd"
)

func BenchmarkZstdLevels(b *testing.B) {
	g := newSpanGen(1)
	var bodies [][]byte
	total := 0
	for range 100 {
		spans := g.trace(10)
		order := make([]int32, len(spans))
		for i := range order {
			order[i] = int32(i)
		}
		body := appendRecordBody(nil, spans[0].TraceID, spans, order)
		bodies = append(bodies, body)
		total += len(body)
	}
	for _, lvl := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression} {
		for _, low := range []bool{false, true} {
			enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl), zstd.WithEncoderCRC(false), zstd.WithLowerEncoderMem(low))
			b.Run(lvl.String()+map[bool]string{true: "-low", false: ""}[low], func(b *testing.B) {
				var out []byte
				comp := 0
				b.SetBytes(int64(total))
				for range b.N {
					comp = 0
					for _, body := range bodies {
						out = enc.EncodeAll(body, out[:0])
						comp += len(out)
					}
				}
				b.ReportMetric(float64(comp)/1000, "B/span")
				b.ReportMetric(float64(total)/1000, "raw-B/span")
			})
		}
	}
}
