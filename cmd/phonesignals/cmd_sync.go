package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/app/progress"
	"github.com/phonesignals/phonesignals/internal/app/syncjob"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/lock"
	"github.com/phonesignals/phonesignals/internal/store"
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
	w, label, err := syncWindow(c, time.Now().UTC())
	if err != nil {
		return err
	}
	e := newEnv(c)
	defer e.close()
	release, err := e.syncLock(c.String("org"))
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
	if id, ok := strings.CutPrefix(label, "cycle:"); ok {
		cy, err := st.GetCycle(c.Context, o.Name, id)
		if err != nil {
			return err
		}
		w = ingest.Window{From: cy.Start, To: cy.End}
	}
	src, err := orgs.NewSource(providersOf(c), box, o, nil)
	if err != nil {
		return err
	}
	if err := runSync(c.Context, st, src, o, w, c.Bool("restart"), pub); err != nil {
		return err
	}
	if c.Bool("follow") {
		return follow(c, st, src, o, w.To, pub)
	}
	return nil
}

// follow keeps polling for new and updated calls from the end of what was
// just synced (never the future), re-reading a day so late edits are
// caught.
func follow(c *cli.Context, st *store.Store, src ingest.Source, o store.Org, end time.Time, sink ingest.Sink) error {
	fmt.Fprintf(os.Stderr, "following org %s every %s; Ctrl-C to stop\n", o.Name, c.Duration("every"))
	users, err := syncjob.MappedUsers(c.Context, st, o.Name)
	if err != nil {
		return err
	}
	if now := time.Now().UTC(); end.After(now) {
		end = now
	}
	req := ingest.SyncRequest{Org: o.Name, Window: ingest.Window{From: end.Add(-24 * time.Hour), To: end}, UserIDs: users}
	if err := src.Follow(c.Context, req, sink, c.Duration("every")); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// syncLock takes the org's sync lock under the data dir: a second sync of
// the same org at once would spend the provider's API quota twice.
func (e *env) syncLock(org string) (func(), error) {
	l, err := lock.Try(filepath.Join(e.dataDir, "locks", "sync-"+lockName(org)+".lock"))
	var he *lock.HeldError
	if errors.As(err, &he) {
		holder := ""
		if he.Holder != "" {
			holder = " (" + he.Holder + ")"
		}
		return nil, cli.Exit(fmt.Sprintf("another sync of org %s is running%s: wait for it to finish, or stop it, then run sync again (lock %s)", org, holder, he.Path), 3)
	}
	if err != nil {
		return nil, err
	}
	return l.Release, nil
}

// lockName keeps an org name usable as a file name: plain names as they
// are, others hex-encoded.
func lockName(org string) string {
	for _, r := range org {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "x" + hex.EncodeToString([]byte(org))
		}
	}
	return org
}

// parseTime accepts RFC 3339 or a UTC date.
func parseTime(flag, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want RFC 3339 (2026-08-01T00:00:00Z) or YYYY-MM-DD", flag, v)
}

// syncWindow resolves --from/--to or --since-days; for --cycle it returns
// the label "cycle:ID" and the caller reads the cycle from ClickHouse.
func syncWindow(c *cli.Context, now time.Time) (ingest.Window, string, error) {
	n := 0
	for _, f := range []string{"cycle", "since-days"} {
		if c.IsSet(f) {
			n++
		}
	}
	if c.IsSet("from") || c.IsSet("to") {
		n++
	}
	if n > 1 {
		return ingest.Window{}, "", errors.New("give only one of --cycle, --from/--to and --since-days")
	}
	switch {
	case c.IsSet("cycle"):
		return ingest.Window{}, "cycle:" + c.String("cycle"), nil
	case c.IsSet("from") || c.IsSet("to"):
		if !c.IsSet("from") || !c.IsSet("to") {
			return ingest.Window{}, "", errors.New("--from and --to go together")
		}
		from, err1 := parseTime("from", c.String("from"))
		to, err2 := parseTime("to", c.String("to"))
		if err := errors.Join(err1, err2); err != nil {
			return ingest.Window{}, "", err
		}
		if !to.After(from) {
			return ingest.Window{}, "", fmt.Errorf("--to %s must be after --from %s", c.String("to"), c.String("from"))
		}
		return ingest.Window{From: from, To: to}, "range", nil
	}
	days := 30
	if c.IsSet("since-days") {
		days = c.Int("since-days")
		if days <= 0 {
			return ingest.Window{}, "", fmt.Errorf("--since-days %d: want a positive number of days", days)
		}
	}
	// Day-aligned start, so the finished base windows of a rerun have the
	// same checkpoint keys and are skipped.
	from := now.AddDate(0, 0, -days).Truncate(24 * time.Hour)
	return ingest.Window{From: from, To: now.Truncate(time.Minute)}, "since", nil
}

// runSync runs the recorded sync job of window w with a progress display
// and prints what it did.
func runSync(ctx context.Context, st *store.Store, src ingest.Source, o store.Org, w ingest.Window, restart bool, sink ingest.Sink) error {
	rep := progress.New(os.Stderr, fmt.Sprintf("sync %s (%s) %s", o.Name, o.Provider, w))
	res, err := syncjob.Run(ctx, syncjob.Config{Store: st, Source: src, Org: o, Window: w, Restart: restart, Sink: sink, Progress: rep})
	// The summary follows; Done only settles the bar.
	rep.Done("")
	if err != nil {
		return err
	}
	sum, err := syncjob.Summarize(ctx, st, o.Name, res)
	if err != nil {
		return err
	}
	syncjob.Print(os.Stdout, o.Name, w, res, sum)
	return nil
}
