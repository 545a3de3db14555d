// Licensed to the Apache Software Foundation (ASF) under one or more
// contributor license agreements.  The ASF licenses this file to you under
// the Apache License, Version 2.0 (the "License"); you may not use this file
// except in compliance with the License. You may obtain a copy of the License
// at http://www.apache.org/licenses/LICENSE-2.0

// Package cmdsetup is the node runner: it builds the units of each role (standalone, liaison,
// data) into one run.Group and exposes the group's flags on a cobra subcommand. It is the only
// place that composes units.
package cmdsetup

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	apiversion "github.com/apache/skywalking-banyandb/api/proto/banyandb"
)

// NewRoot returns the banyand-server command with its subcommands.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "banyand-server",
		Short:         "BanyanDB trace server",
		Long:          "banyand-server stores SkyWalking traces: run it standalone, or as liaison and data nodes of a cluster.",
		Version:       fmt.Sprintf("%s (revision %s)", apiversion.Version, apiversion.Revision),
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(
		nodeCommand("standalone", "Run a standalone server: embedded etcd, local storage and the public API", NewStandalone),
		nodeCommand("liaison", "Run a liaison node: the public API, routing to data nodes (needs an external etcd)", NewLiaison),
		nodeCommand("data", "Run a data node: stores its shards of the traces (needs an external etcd)", NewData),
		versionCommand(),
	)
	return root
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "banyand-server API %s, revision %s\n", apiversion.Version, apiversion.Revision)
		},
	}
}

// nodeCommand builds the node of a role and runs its group until a signal stops it.
func nodeCommand(use, short string, build func() (*Node, error)) *cobra.Command {
	n, err := build()
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return n.Group.Run(ctx)
		},
	}
	if err == nil {
		cmd.Flags().AddFlagSet(n.Group.RegisterFlags().FlagSet)
	}
	return cmd
}

// Run parses args as the flags of a node and runs it until ctx ends or the node stops; tests and
// tools use it to run a node in-process.
func (n *Node) Run(ctx context.Context, args []string) error {
	fs := n.Group.RegisterFlags()
	if err := fs.Parse(args); err != nil {
		return err
	}
	return n.Group.Run(ctx)
}
