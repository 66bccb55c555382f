package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// usageError is a mistake in how a command was called: what is wrong,
// then the command's usage line.
func usageError(cmd *cobra.Command, msg string) error {
	return fmt.Errorf("%s; usage: %s", msg, cmd.UseLine())
}

// requiredArg accepts exactly one argument and, when it is missing, says
// what it is: "missing API key id or key".
func requiredArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return usageError(cmd, "missing "+what)
		case len(args) > 1:
			return usageError(cmd, fmt.Sprintf("unexpected argument %q", args[1]))
		}
		return nil
	}
}

// optionalArg accepts at most one argument, named name in messages.
func optionalArg(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 1 {
			return usageError(cmd, fmt.Sprintf("unexpected argument %q after %s", args[1], name))
		}
		return nil
	}
}
