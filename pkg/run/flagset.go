package run

import "github.com/spf13/pflag"

// FlagSet is the set of flags of one unit or of a whole Group.
type FlagSet struct {
	*pflag.FlagSet
}

// NewFlagSet returns an empty FlagSet that reports parse errors instead of exiting.
func NewFlagSet(name string) *FlagSet {
	return &FlagSet{FlagSet: pflag.NewFlagSet(name, pflag.ContinueOnError)}
}
