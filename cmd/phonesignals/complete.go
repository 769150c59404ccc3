package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"
)

// completeValueEnv is set by the completion script when the word being
// completed is the value of --org or --cycle ("org" or "cycle"): the
// command line up to that flag then runs with --generate-bash-completion
// and prints the values instead of the flags. An environment variable
// rather than a flag because urfave/cli would read a flag placed after
// --org as --org's value.
const completeValueEnv = "PHONESIGNALS_COMPLETE_VALUE"

// completeValueTimeout bounds the store lookup: a shell waiting on TAB
// must not hang on an unreachable server.
const completeValueTimeout = 2 * time.Second

// withValueCompletion makes every command under cmds complete --org and
// --cycle values, and otherwise complete as before.
func withValueCompletion(cmds []*cli.Command) {
	for _, cmd := range cmds {
		withValueCompletion(cmd.Subcommands)
		prev := cmd.BashComplete
		if prev == nil {
			prev = cli.DefaultCompleteWithFlags(cmd)
		}
		cmd.BashComplete = func(c *cli.Context) {
			if what := os.Getenv(completeValueEnv); what != "" {
				completeValues(c, what)
				return
			}
			prev(c)
		}
	}
}

// completeValues prints the org names, or the cycle ids of the org given
// with --org, from the store. It only reads (never creating a database or
// starting a server) and prints nothing on any error: completion is a
// convenience, and its errors would land in the user's command line.
func completeValues(c *cli.Context, what string) {
	ctx, cancel := context.WithTimeout(c.Context, completeValueTimeout)
	defer cancel()
	e := newEnv(c)
	defer e.close()
	st, err := e.ReadStore(ctx)
	if err != nil {
		return
	}
	var words []string
	switch what {
	case "org":
		words, err = st.ListOrgs(ctx)
	case "cycle":
		org := c.String("org")
		if org == "" {
			return
		}
		cycles, cerr := st.Cycles(ctx, org)
		for _, cy := range cycles {
			words = append(words, cy.ID)
		}
		err = cerr
	}
	if err != nil {
		return
	}
	for _, w := range words {
		fmt.Fprintln(c.App.Writer, w)
	}
}
