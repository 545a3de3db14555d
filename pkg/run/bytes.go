package run

import (
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"github.com/spf13/pflag"
)

// ErrInvalidBytes is returned by Bytes.Set for a malformed or out-of-range size.
var ErrInvalidBytes = errors.New("run: invalid byte size")

// Bytes is a size in bytes usable as a flag value, written like "512kb", "32mb", "1gb" or "1024".
// Units are binary (1kb = 1024 bytes) whatever their spelling: "mb", "MB", "MiB" and "m" are equal.
type Bytes int64

var _ pflag.Value = (*Bytes)(nil)

type byteUnit struct {
	suffix string
	size   int64
}

// byteUnits is ordered from the largest unit down so that String picks the largest exact one.
var byteUnits = []byteUnit{
	{"tb", 1 << 40},
	{"gb", 1 << 30},
	{"mb", 1 << 20},
	{"kb", 1 << 10},
}

// unitSizes maps every accepted spelling (lower-case) to its multiplier.
var unitSizes = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// Set parses s, e.g. "32mb", "1.5GiB", "100b" or "1024", case-insensitively.
func (b *Bytes) Set(s string) error {
	v, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// String prints the size with the largest unit that divides it exactly, e.g. "32mb" or "100b".
func (b Bytes) String() string {
	v := int64(b)
	if v != 0 {
		for _, u := range byteUnits {
			if v%u.size == 0 {
				return strconv.FormatInt(v/u.size, 10) + u.suffix
			}
		}
	}
	return strconv.FormatInt(v, 10) + "b"
}

// Type names the flag value type in help output.
func (b Bytes) Type() string {
	return "bytes"
}

// ParseBytes parses a non-negative size such as "32mb", "1.5GiB", "100b" or "1024".
func ParseBytes(s string) (Bytes, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	split := strings.IndexFunc(text, func(r rune) bool {
		return (r < '0' || r > '9') && r != '.'
	})
	if split < 0 {
		split = len(text)
	}
	num, suffix := text[:split], strings.TrimSpace(text[split:])
	mult, ok := unitSizes[suffix]
	if !ok || num == "" {
		return 0, errors.Wrapf(ErrInvalidBytes, "%q", s)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, errors.Wrapf(ErrInvalidBytes, "%q: %v", s, err)
		}
		if n > math.MaxInt64/mult {
			return 0, errors.Wrapf(ErrInvalidBytes, "%q overflows int64", s)
		}
		return Bytes(n * mult), nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, errors.Wrapf(ErrInvalidBytes, "%q: %v", s, err)
	}
	total := f * float64(mult)
	// float64(math.MaxInt64) rounds up to 2^63, so the bound must be exclusive.
	if total >= float64(math.MaxInt64) {
		return 0, errors.Wrapf(ErrInvalidBytes, "%q overflows int64", s)
	}
	return Bytes(total), nil
}
