package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load/aggregate"
)

// rulePickup is how long `org set` waits before it re-rates stored calls:
// every transform has read the new rule by then (store.HoursCacheTTL, twice
// for a poll being decoded as the rule was written).
var rulePickup = 2*store.HoursCacheTTL + time.Second

// orgSetCommand sets an org's working hours, the after-hours rule.
func orgSetCommand() *cli.Command {
	return &cli.Command{
		Name:  "set",
		Usage: "set the org's working hours (after hours is outside them; default 08:00-18:00 UTC every day)",
		Description: "A rule takes effect at 00:00 of --from in its time zone (default: today) and applies to calls from then on; " +
			"earlier calls keep the rule they were rated by. Calls already stored from then on are re-rated and their " +
			"aggregates recomputed, and the command says how many days.",
		Flags: []cli.Flag{
			newOrgFlag(),
			&cli.StringFlag{Name: "timezone", Usage: "IANA time zone `NAME` of the working hours (America/Los_Angeles, Europe/Paris, UTC)"},
			&cli.StringFlag{Name: "hours", Usage: "working hours, `HH:MM-HH:MM[,HH:MM-HH:MM]` local time"},
			&cli.StringFlag{Name: "days", Usage: "working days, `DAYS` such as Mon-Fri, Mon,Wed,Fri or every"},
			&cli.StringFlag{Name: "from", Usage: "the local `YYYY-MM-DD` the rule takes effect (default: today)"},
			&cli.StringFlag{Name: "cycle", Usage: "take effect at the start of cycle `ID` instead of --from"},
			&cli.BoolFlag{Name: "seed", Usage: "return to the seed's rule (08:00-18:00 UTC every day) from --from"},
		},
		Action: storeAction(orgSet),
	}
}

// hoursRule reads the rule of the flags (the seed's with --seed).
func hoursRule(c *cli.Context) (model.WorkingHours, error) {
	if c.Bool("seed") {
		if c.IsSet("timezone") || c.IsSet("hours") || c.IsSet("days") {
			return model.WorkingHours{}, errors.New("--seed returns to the seed's rule: leave out --timezone, --hours and --days")
		}
		return model.SeedHours, nil
	}
	var missing []error
	for _, f := range []string{"timezone", "hours", "days"} {
		if c.String(f) == "" {
			missing = append(missing, fmt.Errorf("--%s is required (or --seed)", f))
		}
	}
	if len(missing) > 0 {
		return model.WorkingHours{}, errors.Join(missing...)
	}
	return model.ParseWorkingHours(c.String("timezone"), c.String("hours"), c.String("days"))
}

// ruleStart is the instant the rule takes effect: the start of --cycle,
// or 00:00 of --from (default today) in the rule's zone.
func ruleStart(c *cli.Context, st *store.Store, w model.WorkingHours) (time.Time, error) {
	loc := w.Location()
	if id := c.String("cycle"); id != "" {
		if c.IsSet("from") {
			return time.Time{}, errors.New("give --from or --cycle, not both")
		}
		cy, err := st.GetCycle(c.Context, c.String("org"), id)
		if err != nil {
			return time.Time{}, err
		}
		return cy.Start, nil
	}
	if v := c.String("from"); v != "" {
		d, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("--from %q is not a day: write YYYY-MM-DD", v)
		}
		return d, nil
	}
	now := time.Now().In(loc)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc), nil
}

func orgSet(c *cli.Context, _ *env, st *store.Store) error {
	org := c.String("org")
	w, err := hoursRule(c)
	if err != nil {
		return err
	}
	if _, err := st.GetOrg(c.Context, org); err != nil {
		return err
	}
	from, err := ruleStart(c, st, w)
	if err != nil {
		return err
	}
	sched, err := st.Hours(c.Context, org)
	if err != nil {
		return err
	}
	until := time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC) // the next rule's start, if any
	for _, v := range sched {
		if v.From.After(from) && v.From.Before(until) {
			until = v.From
		}
	}
	if err := st.SetHours(c.Context, org, from, w, c.Bool("seed")); err != nil {
		return err
	}
	fmt.Printf("org %s: after hours is outside %s for calls from %s\n", org, w, from.In(w.Location()).Format("2006-01-02 15:04 MST"))
	if until.Before(time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)) {
		fmt.Printf("  until %s, when the next rule takes effect\n", until.In(w.Location()).Format("2006-01-02 15:04 MST"))
	}
	if from.After(time.Now().Add(rulePickup)) {
		return nil
	}
	return rerate(c.Context, st, org, from, until, w)
}

// rerate re-rates the org's stored calls of [from, until) once every
// transform uses the new rule, and recomputes their days' aggregates.
func rerate(ctx context.Context, st *store.Store, org string, from, until time.Time, w model.WorkingHours) error {
	fmt.Printf("  re-rating the calls stored from then on (waiting %s for running transforms to take the rule)\n", rulePickup)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(rulePickup):
	}
	if err := st.RerateAfterHours(ctx, org, from, until, w); err != nil {
		return err
	}
	agg, err := aggregate.New(st.Conn(), loaderClock)
	if err != nil {
		return err
	}
	n, err := agg.Rebuild(ctx, org, aggregate.Range{From: model.DayOf(from), To: model.DayOf(until).AddDate(0, 0, 1)})
	if err != nil {
		return fmt.Errorf("recomputing the aggregates of org %s after re-rating: %w", org, err)
	}
	fmt.Printf("  re-rated; recomputed %d days\n", n)
	return nil
}
