package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/dlq"
	"github.com/phonesignals/phonesignals/internal/app/syncjob"
	"github.com/phonesignals/phonesignals/internal/store"
)

func dlqCommand() *cli.Command {
	return &cli.Command{
		Name:  "dlq",
		Usage: "list dead letters (raw records the transform could not use) and replay them after a fix",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list dead letters with their reason and whether they were replayed",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "org", Usage: "only " + orgUsage + "; default every org"},
					&cli.StringFlag{Name: "reason", Usage: "only reasons containing this text (case-insensitive)"},
					formatFlag(formatText, allFormats...),
				},
				Action: readAction(func(c *cli.Context, e *env, st *store.Store) error {
					bcfg, err := e.Bus(c.Context)
					if err != nil {
						return err
					}
					dls, err := dlq.List(c.Context, dlq.Config{Bus: bcfg, Store: st, Org: c.String("org"), Reason: c.String("reason")})
					if err != nil {
						return err
					}
					return printDeadLetters(dls, c.String("format"))
				}),
			},
			{
				Name:  "replay",
				Usage: "publish dead letters to the raw topic again (each once); `run` then loads them",
				Description: "Replay after fixing the cause (upgrading a decoder, restoring the right master key).\n" +
					"Each dead letter is replayed once: a second replay publishes nothing. A replayed record that\n" +
					"fails again becomes a new dead letter with its new reason.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "org", Usage: "only " + orgUsage + "; default every org"},
					&cli.StringFlag{Name: "since", Usage: "only dead letters written since `WHEN`: a duration back from now (24h) or a date (RFC 3339 or YYYY-MM-DD)"},
				},
				Action: func(c *cli.Context) error {
					since, err := parseSince(c.String("since"), time.Now().UTC())
					if err != nil {
						return err
					}
					e := newEnv(c)
					defer e.close()
					st, err := e.Store(c.Context)
					if err != nil {
						return err
					}
					bcfg, err := e.Bus(c.Context)
					if err != nil {
						return err
					}
					res, err := dlq.Replay(c.Context, dlq.Config{Bus: bcfg, Store: st, Org: c.String("org"), Since: since})
					if err != nil {
						return err
					}
					fmt.Printf("replayed %d dead letters (%d already replayed)\n", res.Replayed, res.AlreadyReplayed)
					if res.Replayed > 0 {
						fmt.Println("run `phonesignals run --until-idle` to load them; those that fail again are listed by `phonesignals dlq list`")
					}
					return nil
				},
			},
		},
	}
}

// parseSince reads --since: empty for all, a duration back from now, or a
// date.
func parseSince(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	t, err := syncjob.ParseTime("since", v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want a duration such as 24h, or RFC 3339 or YYYY-MM-DD", v)
	}
	return t, nil
}

// printDeadLetters prints the dead letters in format; text adds a count
// and the next step, or says there are none.
func printDeadLetters(dls []dlq.Letter, format string) error {
	if len(dls) == 0 && format == formatText {
		fmt.Println("no dead letters")
		return nil
	}
	t := table{columns: []column{{key: "dead_lettered_at", head: "AT"}, {key: "org"}, {key: "provider"}, {key: "call_id"},
		{key: "record"}, {key: "first_record"}, {key: "replayed_at", head: "REPLAYED"}, {key: "reason"}}}
	pending := 0
	for _, d := range dls {
		replayed := shown{value: d.ReplayedAt, text: "no"}
		if !d.ReplayedAt.IsZero() {
			replayed.text = d.ReplayedAt.UTC().Format(time.RFC3339)
		} else {
			pending++
		}
		// The reason names fields, never bodies.
		t.add(d.At, d.Org, d.Provider, d.CallID, d.Origin, d.Root(), replayed, d.Reason)
	}
	if err := t.write(os.Stdout, format); err != nil {
		return err
	}
	if format == formatText {
		fmt.Printf("%d dead letters, %d not replayed (`phonesignals dlq replay` after fixing the cause)\n", len(dls), pending)
	}
	return nil
}
