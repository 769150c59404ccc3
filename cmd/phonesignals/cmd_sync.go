package main

import (
	"errors"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/app/syncjob"
	"github.com/phonesignals/phonesignals/internal/bus"
)

func syncCommand() *cli.Command {
	return &cli.Command{
		Name:        "sync",
		Usage:       "extract calls from the org's provider and publish them to Kafka",
		Subcommands: []*cli.Command{syncStatusCommand()},
		Description: "Exactly one of --cycle, --from/--to or --since-days picks the window (default --since-days 30).\n" +
			"A backfill killed at any point resumes from its last finished window when run again with the same window;\n" +
			"--restart fetches everything again (to pick up notes and tags added later, prefer --follow).",
		Flags: []cli.Flag{
			// Not Required: urfave checks a parent's required flags before
			// dispatching to `sync status`; the action checks it instead.
			&cli.StringFlag{Name: "org", Usage: orgUsage + " (required)"},
			&cli.StringFlag{Name: "cycle", Usage: "sync the cycle's [period_start, period_end)"},
			&cli.StringFlag{Name: "from", Usage: "window start, RFC 3339 or YYYY-MM-DD (UTC)"},
			&cli.StringFlag{Name: "to", Usage: "window end (exclusive), RFC 3339 or YYYY-MM-DD (UTC)"},
			&cli.IntFlag{Name: "since-days", Usage: "look back N days from now", DefaultText: "30"},
			&cli.BoolFlag{Name: "restart", Usage: "ignore checkpoints of an earlier run of the same window"},
			&cli.BoolFlag{Name: "follow", Usage: "after the window, keep polling for new and updated calls until stopped"},
			&cli.DurationFlag{Name: "every", Value: time.Minute, Usage: "poll interval of --follow"},
		},
		Action: syncAction,
	}
}

func syncAction(c *cli.Context) error {
	if _, err := requireFlag(c, "org"); err != nil {
		return err
	}
	w, cycle, err := syncjob.Window(syncWindowSpec(c), time.Now().UTC())
	if err != nil {
		return err
	}
	e := newEnv(c)
	defer e.close()
	release, err := syncjob.Lock(e.DataDir(), c.String("org"))
	var held *syncjob.LockHeldError
	if errors.As(err, &held) {
		return cli.Exit(held.Error(), exitLocked)
	}
	if err != nil {
		return err
	}
	defer release()
	box, st, bcfg, err := e.pipeline(c.Context)
	if err != nil {
		return err
	}
	if c.Bool("follow") {
		stopOps, err := serveOps(c, readiness(st, bcfg), nil)
		if err != nil {
			return err
		}
		defer stopOps()
	}
	pub, err := bus.NewPublisher(bcfg, box, bus.TopicRaw)
	if err != nil {
		return err
	}
	defer pub.Close()
	o, err := st.GetOrg(c.Context, c.String("org"))
	if err != nil {
		return err
	}
	if c.IsSet("cycle") {
		if w, err = syncjob.CycleWindow(c.Context, st, o.Name, cycle); err != nil {
			return err
		}
	}
	src, err := orgs.NewSource(providersOf(c), box, o, nil)
	if err != nil {
		return err
	}
	cfg := syncjob.Config{Store: st, Source: src, Org: o, Window: w, Restart: c.Bool("restart"), Sink: pub}
	status := statusWriter(c)
	if err := syncjob.RunReported(c.Context, cfg, os.Stdout, status); err != nil {
		return err
	}
	if c.Bool("follow") {
		return syncjob.Follow(c.Context, st, src, o, w.To, pub, c.Duration("every"), status)
	}
	return nil
}

// syncWindowSpec reads the window flags of sync.
func syncWindowSpec(c *cli.Context) syncjob.WindowSpec {
	return syncjob.WindowSpec{
		Cycle: c.String("cycle"), CycleSet: c.IsSet("cycle"),
		From: c.String("from"), FromSet: c.IsSet("from"),
		To: c.String("to"), ToSet: c.IsSet("to"),
		SinceDays: c.Int("since-days"), SinceDaysSet: c.IsSet("since-days"),
	}
}
