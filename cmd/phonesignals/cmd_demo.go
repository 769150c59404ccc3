package main

import (
	"github.com/urfave/cli/v2"
)

// demoCommand points at the demo binary: the demo serves simulated
// providers and checks against the fixture's ground truth, test code this
// binary does not link.
func demoCommand() *cli.Command {
	return &cli.Command{
		Name:            "demo",
		Usage:           "moved to its own binary: run `make demo` (or bin/phonesignals-demo)",
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			return cli.Exit("the demo is its own binary now, phonesignals-demo: run `make demo` (builds and runs it), or `go run ./cmd/phonesignals-demo`", exitFailed)
		},
	}
}
