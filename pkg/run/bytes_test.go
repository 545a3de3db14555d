package run

import (
	"errors"
	"testing"
)

func TestBytesSet(t *testing.T) {
	tests := []struct {
		in   string
		want Bytes
	}{
		{"0", 0},
		{"1024", 1024},
		{"100b", 100},
		{"100B", 100},
		{"512kb", 512 << 10},
		{"512KiB", 512 << 10},
		{"512k", 512 << 10},
		{"32mb", 32 << 20},
		{"32MB", 32 << 20},
		{"32MiB", 32 << 20},
		{"32m", 32 << 20},
		{"1gb", 1 << 30},
		{"1GiB", 1 << 30},
		{"1.5gb", 3 << 29},
		{"2tb", 2 << 40},
		{" 8 mb ", 8 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b Bytes
			if err := b.Set(tt.in); err != nil {
				t.Fatalf("Set(%q): %v", tt.in, err)
			}
			if b != tt.want {
				t.Fatalf("Set(%q) = %d, want %d", tt.in, b, tt.want)
			}
		})
	}
}

func TestBytesSetRejects(t *testing.T) {
	for _, in := range []string{"", "mb", "-1", "-1mb", "12xb", "1.2.3mb", "ten", "9000000tb", "9223372036854775808"} {
		t.Run(in, func(t *testing.T) {
			b := Bytes(7)
			err := b.Set(in)
			if !errors.Is(err, ErrInvalidBytes) {
				t.Fatalf("Set(%q) err = %v, want ErrInvalidBytes", in, err)
			}
			if b != 7 {
				t.Fatalf("failed Set changed the value to %d", b)
			}
		})
	}
}

func TestBytesString(t *testing.T) {
	tests := []struct {
		in   Bytes
		want string
	}{
		{0, "0b"},
		{100, "100b"},
		{1024, "1kb"},
		{1536, "1536b"},
		{32 << 20, "32mb"},
		{3 << 29, "1536mb"},
		{1 << 30, "1gb"},
		{5 << 40, "5tb"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Fatalf("String(%d) = %q, want %q", int64(tt.in), got, tt.want)
			}
			var back Bytes
			if err := back.Set(tt.in.String()); err != nil || back != tt.in {
				t.Fatalf("round trip of %d gave %d, %v", int64(tt.in), back, err)
			}
		})
	}
}

func TestBytesAsFlag(t *testing.T) {
	fs := NewFlagSet("test")
	size := Bytes(64 << 20)
	fs.Var(&size, "cache-size", "cache size")
	if got := fs.Lookup("cache-size").DefValue; got != "64mb" {
		t.Fatalf("default = %q, want 64mb", got)
	}
	if got := fs.Lookup("cache-size").Value.Type(); got != "bytes" {
		t.Fatalf("type = %q, want bytes", got)
	}
	if err := fs.Parse([]string{"--cache-size", "1GB"}); err != nil {
		t.Fatalf("parse: %v", err)
	}
	if size != 1<<30 {
		t.Fatalf("size = %d, want 1GiB", size)
	}
	if err := fs.Parse([]string{"--cache-size", "lots"}); err == nil {
		t.Fatal("parse of a bad size succeeded")
	}
}
