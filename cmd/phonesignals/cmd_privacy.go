package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load/aggregate"
)

// orgPrivacyCommand shows or sets an org's privacy floor and retention.
func orgPrivacyCommand() *cli.Command {
	return &cli.Command{
		Name:  "privacy",
		Usage: "show or set the org's minimum cohort size (medians of smaller cohorts are n/a) and call retention, and list its erasures",
		Description: "Without --min-cohort or --retention it prints the settings and the erasure log.\n" +
			"The retention is applied by `phonesignals retention apply` (ClickHouse 18.16 has no per-row TTL).",
		Flags: []cli.Flag{
			newOrgFlag(),
			&cli.IntFlag{Name: "min-cohort", Usage: "smallest cohort `N` whose medians are shown (1 shows every median)", Value: store.DefaultMinCohort},
			&cli.StringFlag{Name: "retention", Usage: "keep calls for `SPAN`: 730d, 104w, 24mo, 2y, or off (forever, the default)"},
		},
		Action: storeAction(orgPrivacy),
	}
}

func orgPrivacy(c *cli.Context, _ *env, st *store.Store) error {
	org := c.String("org")
	if err := orgs.ValidateName(org); err != nil {
		return err
	}
	var ch store.PrivacyChange
	if c.IsSet("min-cohort") {
		n := c.Int("min-cohort")
		ch.MinCohort = &n
	}
	if c.IsSet("retention") {
		r, err := store.ParseRetention(c.String("retention"))
		if err != nil {
			return fmt.Errorf("--retention: %w", err)
		}
		ch.Retention = &r
	}
	p, err := st.SetPrivacy(c.Context, org, ch)
	if err != nil {
		return err
	}
	verb := "org %s: "
	if ch.MinCohort != nil || ch.Retention != nil {
		verb = "org %s set: "
	}
	fmt.Printf(verb+"min cohort %d (medians of smaller cohorts are n/a), retention %s", org, p.MinCohort, p.Retention)
	if !p.Retention.IsZero() {
		fmt.Printf(" (calls started before %s go at the next `phonesignals retention apply`)", p.Retention.Cutoff(time.Now()).Format(time.DateOnly))
	}
	fmt.Println()
	for _, pr := range p.Problems {
		fmt.Println("  WARN  " + pr)
	}
	if ch.MinCohort != nil || ch.Retention != nil {
		return nil
	}
	return printErasures(c.Context, st, org)
}

// printErasures lists the org's erasure log.
func printErasures(ctx context.Context, st *store.Store, org string) error {
	es, err := st.Erasures(ctx, org)
	if err != nil {
		return err
	}
	if len(es) == 0 {
		fmt.Printf("no erasures in org %s\n", org)
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "erasure\tkind\treference\tcutoff\tcalls\trows\tdays recomputed\tfinished")
	for _, e := range es {
		cutoff := "-"
		if !e.Cutoff.IsZero() {
			cutoff = e.Cutoff.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\n", e.ID, e.Kind, dash(e.Reference), cutoff, e.Calls, rowsText(e.Rows), e.DaysRebuilt, e.FinishedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// rowsText lists the rows removed per table, largest first.
func rowsText(rows map[string]uint64) string {
	var parts []string
	for _, k := range sortedByCount(rows) {
		parts = append(parts, fmt.Sprintf("%s %d", k, rows[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func sortedByCount(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && (m[keys[j]] > m[keys[j-1]] || m[keys[j]] == m[keys[j-1]] && keys[j] < keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// employeesForgetCommand erases an employee and their calls.
func employeesForgetCommand() *cli.Command {
	return &cli.Command{
		Name:  "forget",
		Usage: "erase an employee and their provider user's calls from every table (rows, aggregates, transcripts, delivery records), recompute the cohorts, and log the erasure",
		Description: "--dry-run prints what would go and changes nothing. The erasure log (`org privacy --org NAME`) keeps when and how much, never whose.\n" +
			"Raw records stay on Kafka, sealed, until the topic's retention expires them (see the README).",
		Flags: []cli.Flag{
			newOrgFlag(),
			&cli.StringFlag{Name: "employee", Required: true, Usage: "employee `ID` (on the roster, or removed from it)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be erased; change nothing"},
			&cli.StringFlag{Name: "reference", Usage: "`TEXT` for the erasure log, such as the request's ticket number (never a name)"},
		},
		Action: storeAction(employeesForget),
	}
}

func employeesForget(c *cli.Context, _ *env, st *store.Store) error {
	org, emp := c.String("org"), strings.TrimSpace(c.String("employee"))
	if err := orgs.ValidateName(org); err != nil {
		return err
	}
	if emp == "" {
		return errors.New("--employee is empty: give the employee's id (`phonesignals employees list --org " + org + "` lists the roster)")
	}
	agg, err := aggregate.New(st.Conn(), loaderClock)
	if err != nil {
		return err
	}
	rep, err := st.Forget(c.Context, org, emp, store.ForgetOptions{DryRun: c.Bool("dry-run"), Reference: c.String("reference"),
		Rebuild: func(ctx context.Context, org string, from, to time.Time) (int, error) {
			return agg.Rebuild(ctx, org, aggregate.Range{From: from, To: to})
		}})
	if rep.Calls > 0 || rep.TotalRows() > 0 || err == nil {
		printForget(rep)
	}
	return err
}

func printForget(rep store.ErasureReport) {
	users := "no provider user"
	if len(rep.Users) > 0 {
		users = "provider user " + strings.Join(rep.Users, ", ")
	}
	head := "forgot"
	if rep.DryRun {
		head = "would forget (dry run, nothing changed):"
	}
	fmt.Printf("%s employee %s of org %s: %s, %d calls\n", head, rep.Employee, rep.Org, users, rep.Calls)
	fmt.Printf("  rows: %s\n", rowsText(rep.Rows))
	if !rep.FirstDay.IsZero() {
		fmt.Printf("  aggregates of %s to %s recomputed from what is left", rep.FirstDay.Format(time.DateOnly), rep.LastDay.Format(time.DateOnly))
		if !rep.DryRun {
			fmt.Printf(" (%d days)", rep.DaysRebuilt)
		}
		fmt.Println(": the cohort sizes and medians follow")
	}
	for _, k := range rep.Kept {
		fmt.Printf("  kept the calls of provider user %s: they count for that employee now\n", k)
	}
	if !rep.DryRun && len(rep.Remaining) == 0 {
		fmt.Printf("  logged as erasure %s (what and when, not whose); raw records stay sealed on Kafka until its retention expires them\n", rep.ID)
	}
}

// retentionCommand applies the orgs' retention.
func retentionCommand() *cli.Command {
	return &cli.Command{
		Name:  "retention",
		Usage: "delete calls older than each org's retention (`org privacy --retention`)",
		Subcommands: []*cli.Command{{
			Name:  "apply",
			Usage: "delete the calls started before each org's retention cutoff, with their transcripts, records and per-day aggregates",
			Description: "ClickHouse 18.16 has no per-row TTL, so retention is a mutation this command runs: schedule it (cron, or --every 24h).\n" +
				"Without --org it applies every org that has a retention.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "org", Usage: "only this org's `NAME` (see phonesignals org list; default: every org with a retention)"},
				&cli.BoolFlag{Name: "dry-run", Usage: "print what would be deleted; change nothing"},
				&cli.DurationFlag{Name: "every", Usage: "apply again every `DURATION` until stopped (0: once)"},
			},
			Action: storeAction(retentionApply),
		}},
	}
}

func retentionApply(c *cli.Context, _ *env, st *store.Store) error {
	if c.Duration("every") < 0 {
		return fmt.Errorf("--every %s: want a positive interval, or 0 to apply once", c.Duration("every"))
	}
	for {
		if err := retentionOnce(c, st); err != nil {
			return err
		}
		if c.Duration("every") == 0 {
			return nil
		}
		select {
		case <-c.Context.Done():
			return nil
		case <-time.After(c.Duration("every")):
		}
	}
}

func retentionOnce(c *cli.Context, st *store.Store) error {
	names := []string{c.String("org")}
	if names[0] == "" {
		var err error
		if names, err = st.ListOrgs(c.Context); err != nil {
			return err
		}
	} else if err := orgs.ValidateName(names[0]); err != nil {
		return err
	}
	applied := 0
	for _, org := range names {
		rep, err := st.ApplyRetention(c.Context, org, store.RetentionOptions{DryRun: c.Bool("dry-run")})
		if errors.Is(err, store.ErrNoRetention) && c.String("org") == "" {
			continue
		}
		if err != nil {
			return err
		}
		applied++
		printRetention(rep)
	}
	if applied == 0 {
		fmt.Println("no org has a retention: set one with `phonesignals org privacy --org NAME --retention 24mo`")
	}
	return nil
}

func printRetention(rep store.ErasureReport) {
	head := "deleted"
	if rep.DryRun {
		head = "would delete (dry run, nothing changed):"
	}
	fmt.Printf("org %s, %s: %s %d calls started before %s; rows: %s\n", rep.Org, rep.Reference, head, rep.Calls,
		rep.Cutoff.Format(time.DateOnly), rowsText(rep.Rows))
	if !rep.DryRun && rep.ID != "" {
		fmt.Printf("  logged as erasure %s\n", rep.ID)
	}
}
