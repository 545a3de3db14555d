// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

package tstable

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// maxRecordBody bounds the decompressed size of one record. Writes cut
// records well below it (see maxRecordPayload); the bound protects readers
// from corrupt frame headers.
const maxRecordBody = 64 << 20

// One encoder and one decoder serve every table of the process. Their
// EncodeAll/DecodeAll are safe for concurrent use; each keeps a small pool of
// per-goroutine states (GOMAXPROCS of them), so sharing them bounds the memory
// they take no matter how many tables are open.
var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			// Pebble checksums every block; a frame checksum would only cost
			// four bytes per record.
			zstd.WithEncoderCRC(false),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithLowerEncoderMem(true),
		)
		if err != nil {
			panic(fmt.Sprintf("BUG: tstable: zstd encoder options: %v", err))
		}
		return enc
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		dec, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(maxRecordBody),
		)
		if err != nil {
			panic(fmt.Sprintf("BUG: tstable: zstd decoder options: %v", err))
		}
		return dec
	})
)

// appendRecordValue appends the value of a record with the given body: a
// codec byte and the zstd frame of the body, or the body itself when
// compression does not make it smaller.
func appendRecordValue(dst, body []byte) []byte {
	start := len(dst)
	dst = append(dst, codecZstd)
	dst = zstdEncoder().EncodeAll(body, dst)
	if len(dst)-start-1 < len(body) {
		return dst
	}
	dst = append(dst[:start], codecRaw)
	return append(dst, body...)
}

// recordBody returns the body of a record value in a new buffer that the
// caller owns (it never aliases v).
func recordBody(v []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, fmt.Errorf("%w: empty record value", ErrCorrupted)
	}
	switch v[0] {
	case codecRaw:
		return append([]byte(nil), v[1:]...), nil
	case codecZstd:
		body, err := zstdDecoder().DecodeAll(v[1:], nil)
		if err != nil {
			return nil, fmt.Errorf("%w: record frame: %w", ErrCorrupted, err)
		}
		return body, nil
	default:
		return nil, fmt.Errorf("%w: unknown record codec %d", ErrCorrupted, v[0])
	}
}
