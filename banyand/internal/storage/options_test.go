package storage

import (
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func TestOptionsDefaults(t *testing.T) {
	o := TSDBOpts[*fakeTable]{}.withDefaults()
	if o.Logger == nil || o.Clock == nil || o.RetentionCheckInterval != DefaultRetentionCheckInterval {
		t.Fatalf("defaults not applied: %+v", o)
	}
	set := TSDBOpts[*fakeTable]{RetentionCheckInterval: 5}.withDefaults()
	if set.RetentionCheckInterval != 5 {
		t.Fatalf("explicit RetentionCheckInterval overwritten: %s", set.RetentionCheckInterval)
	}
}

func TestOptionsValidate(t *testing.T) {
	valid := func() TSDBOpts[*fakeTable] {
		return TSDBOpts[*fakeTable]{
			Location:        "/tmp/x",
			ShardNum:        1,
			SegmentInterval: IntervalRule{Unit: DAY, Num: 1},
			TTL:             IntervalRule{Unit: DAY, Num: 3},
			OpenTable:       (&tableRecorder{}).open,
		}
	}
	tests := []struct {
		name   string
		modify func(*TSDBOpts[*fakeTable])
		want   []string
	}{
		{"valid", func(*TSDBOpts[*fakeTable]) {}, nil},
		{"location", func(o *TSDBOpts[*fakeTable]) { o.Location = "" }, []string{"Location"}},
		{"shards", func(o *TSDBOpts[*fakeTable]) { o.ShardNum = 0 }, []string{"ShardNum"}},
		{"interval", func(o *TSDBOpts[*fakeTable]) { o.SegmentInterval = IntervalRule{} }, []string{"SegmentInterval"}},
		{"ttl", func(o *TSDBOpts[*fakeTable]) { o.TTL.Num = 0 }, []string{"TTL"}},
		{"opener", func(o *TSDBOpts[*fakeTable]) { o.OpenTable = nil }, []string{"OpenTable"}},
		{"retention", func(o *TSDBOpts[*fakeTable]) { o.RetentionCheckInterval = -1 }, []string{"RetentionCheckInterval"}},
		{"all at once", func(o *TSDBOpts[*fakeTable]) { *o = TSDBOpts[*fakeTable]{} },
			[]string{"Location", "ShardNum", "SegmentInterval", "TTL", "OpenTable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid()
			tt.modify(&o)
			err := o.validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("err = %v, want ErrInvalidOptions", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q does not mention %s", err, w)
				}
			}
		})
	}
}
