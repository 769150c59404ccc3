package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load/aggregate"
)

// loaderClock is the clock of the loaders this process runs: tests step it
// back to prove that no aggregate version depends on it.
var loaderClock = time.Now

// aggregatesCommand checks and repairs the per-day aggregates.
func aggregatesCommand() *cli.Command {
	flags := func() []cli.Flag {
		return []cli.Flag{
			&cli.StringFlag{Name: "org", Usage: "only this org's `NAME` (see phonesignals org list; default: every org)"},
			&cli.StringFlag{Name: "from", Usage: "first UTC day, `YYYY-MM-DD` (default: the first call)"},
			&cli.StringFlag{Name: "to", Usage: "day after the last, `YYYY-MM-DD` (default: the last call)"},
		}
	}
	return &cli.Command{
		Name:  "aggregates",
		Usage: "check or repair the per-day aggregates (user_day_metrics) the reviews read",
		Subcommands: []*cli.Command{
			{
				Name: "verify",
				Usage: "recompute the per-day numbers from raw_signals and list every key that differs from user_day_metrics " +
					"(exit 1 if any does; days still pending a refresh are counted, not compared)",
				Flags:  append(flags(), formatFlag(formatText, formatText, formatJSON)),
				Action: readAction(aggregatesVerify),
			},
			{
				Name:   "rebuild",
				Usage:  "recompute the per-day aggregates from raw_signals (idempotent, safe while run streams)",
				Flags:  flags(),
				Action: storeAction(aggregatesRebuild),
			},
		},
	}
}

// aggregatesScope reads --org (or every org) and the day range.
func aggregatesScope(c *cli.Context, st *store.Store) ([]string, aggregate.Range, error) {
	var r aggregate.Range
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"from", &r.From}, {"to", &r.To}} {
		if v := c.String(f.name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return nil, r, fmt.Errorf("--%s %q is not a day: write YYYY-MM-DD", f.name, v)
			}
			*f.to = t
		}
	}
	if !r.From.IsZero() && !r.To.IsZero() && !r.From.Before(r.To) {
		return nil, r, fmt.Errorf("--from %s is not before --to %s", c.String("from"), c.String("to"))
	}
	if org := c.String("org"); org != "" {
		if _, err := st.GetOrg(c.Context, org); err != nil {
			return nil, r, err
		}
		return []string{org}, r, nil
	}
	orgs, err := st.ListOrgs(c.Context)
	return orgs, r, err
}

func aggregatesVerify(c *cli.Context, _ *env, st *store.Store) error {
	orgs, r, err := aggregatesScope(c, st)
	if err != nil {
		return err
	}
	agg, err := aggregate.New(st.Conn(), nil)
	if err != nil {
		return err
	}
	var reps []aggregate.VerifyReport
	wrong := 0
	for _, org := range orgs {
		rep, err := agg.Verify(c.Context, org, r)
		if err != nil {
			return err
		}
		reps = append(reps, rep)
		wrong += len(rep.Diffs)
	}
	if c.String("format") == "json" {
		if err := printVerifyJSON(reps); err != nil {
			return err
		}
	} else {
		printVerifyText(reps)
	}
	if wrong > 0 {
		return cli.Exit(fmt.Sprintf("%d per-day keys differ from raw_signals: phonesignals aggregates rebuild%s repairs them", wrong, orgArg(c)), exitFailed)
	}
	return nil
}

// orgArg is " --org NAME" when --org was given.
func orgArg(c *cli.Context) string {
	if org := c.String("org"); org != "" {
		return " --org " + org
	}
	return ""
}

func printVerifyText(reps []aggregate.VerifyReport) {
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	for _, rep := range reps {
		for _, d := range rep.Diffs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tstored %s\traw_signals %s\n", rep.Org, d.Day.Format(time.DateOnly), d.Provider, d.UserID,
				numbers(d.Stored), numbers(d.Recomputed))
		}
	}
	tw.Flush()
	for _, rep := range reps {
		status := "exact"
		if len(rep.Diffs) > 0 {
			status = fmt.Sprintf("%d keys differ", len(rep.Diffs))
		}
		fmt.Printf("org %s: %s (%d days pending a refresh, not compared)\n", rep.Org, status, rep.Dirty)
	}
}

// numbers writes a key's seven numbers in user_day_metrics' column order.
func numbers(n aggregate.DayNumbers) string {
	return fmt.Sprintf("calls=%d inbound=%d outbound=%d duration_sum=%d after_hours=%d escalated=%d resolved=%d",
		n.Calls, n.Inbound, n.Outbound, n.DurationSum, n.AfterHours, n.Escalated, n.Resolved)
}

func printVerifyJSON(reps []aggregate.VerifyReport) error {
	type diff struct {
		Day        string               `json:"day"`
		Provider   string               `json:"provider"`
		UserID     string               `json:"user_id"`
		Stored     aggregate.DayNumbers `json:"stored"`
		Recomputed aggregate.DayNumbers `json:"raw_signals"`
	}
	type org struct {
		Org   string `json:"org"`
		Exact bool   `json:"exact"`
		Diffs []diff `json:"diffs"`
		Dirty int    `json:"days_pending"`
	}
	out := []org{}
	for _, rep := range reps {
		o := org{Org: rep.Org, Exact: len(rep.Diffs) == 0, Diffs: []diff{}, Dirty: rep.Dirty}
		for _, d := range rep.Diffs {
			o.Diffs = append(o.Diffs, diff{Day: d.Day.Format(time.DateOnly), Provider: d.Provider, UserID: d.UserID, Stored: d.Stored, Recomputed: d.Recomputed})
		}
		out = append(out, o)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func aggregatesRebuild(c *cli.Context, _ *env, st *store.Store) error {
	orgs, r, err := aggregatesScope(c, st)
	if err != nil {
		return err
	}
	agg, err := aggregate.New(st.Conn(), loaderClock)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		start := time.Now()
		n, err := agg.Rebuild(c.Context, org, r)
		if err != nil {
			return fmt.Errorf("rebuilding the aggregates of org %s: %w", org, err)
		}
		fmt.Printf("org %s: recomputed %d days in %s\n", org, n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
