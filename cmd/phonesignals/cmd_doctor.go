package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/store"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "diagnose an org: credentials, mapping, zero calls and why, last sync, webhooks, dead letters",
		Description: "Runs the troubleshooting list for real (it calls the provider once with the stored credentials)\n" +
			"and prints what it found with the fix. Exits 2 when something needs fixing.",
		Flags: []cli.Flag{
			newOrgFlag(),
			&cli.StringFlag{Name: "cycle", Usage: "check this cycle (default: every cycle)"},
			&cli.BoolFlag{Name: "offline", Usage: "do not call the provider"},
		},
		Action: runDoctor,
	}
}

type doctor struct {
	fails, warns int
}

func (d *doctor) ok(f string, a ...any) { fmt.Printf("  ok    "+f+"\n", a...) }
func (d *doctor) warn(f string, a ...any) {
	d.warns++
	fmt.Printf("  WARN  "+f+"\n", a...)
}
func (d *doctor) fail(f string, a ...any) {
	d.fails++
	fmt.Printf("  FAIL  "+f+"\n", a...)
}
func (d *doctor) fix(f string, a ...any) { fmt.Printf("        fix: "+f+"\n", a...) }

func runDoctor(c *cli.Context) error {
	ctx := c.Context
	e := newEnv(c)
	defer e.close()
	st, err := e.store(ctx)
	if err != nil {
		return err
	}
	o, err := st.GetOrg(ctx, c.String("org"))
	if err != nil {
		return err
	}
	p, err := providersOf(c).Lookup(o.Provider)
	if err != nil {
		return fmt.Errorf("org %s: %w", o.Name, err)
	}
	d := &doctor{}
	fmt.Printf("doctor: org %s (%s)\n", o.Name, o.Provider)

	// 0. The schema the pipeline writes into.
	d.checkSchema(ctx, st)

	// 1. Credentials, for real.
	credsOK := d.checkCredentials(ctx, e, st, p, o, c.Bool("offline"))

	// 2. Mapping.
	emps, err := st.Employees(ctx, o.Name)
	if err != nil {
		return err
	}
	mapped := 0
	for _, em := range emps {
		if em.ProviderUserID != "" {
			mapped++
		}
	}
	switch {
	case len(emps) == 0:
		d.fail("no employees imported: no call can count for anybody")
		d.fix("phonesignals employees import --org %s FILE.csv (header employee_id,name,email,cohort,provider_user_id)", o.Name)
	case mapped == 0:
		d.fail("%d employees but none has a provider_user_id: a missing mapping returns no calls", len(emps))
		d.fix("fill provider_user_id (%s) in the CSV and import it again", p.UserIDName)
	default:
		d.ok("%d employees, %d mapped to their %s id", len(emps), mapped, p.UserIDName)
	}
	far := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	un, err := st.UnmappedUsers(ctx, o.Name, far, time.Now().AddDate(10, 0, 0))
	if err != nil {
		return err
	}
	var unmappedUsers []string
	var noUser uint64
	for _, u := range un {
		if u.UserID == "" {
			noUser = u.Calls
			continue
		}
		unmappedUsers = append(unmappedUsers, fmt.Sprintf("%s (%d calls)", u.UserID, u.Calls))
	}
	if len(unmappedUsers) > 0 {
		d.warn("%d %ss have calls but no employee mapping: %v", len(unmappedUsers), p.UserIDName, firstN(unmappedUsers, 8))
		d.fix("add them to the roster if they are employees under review; their calls are kept and count once mapped")
	}
	if noUser > 0 {
		d.ok("%d calls have no user (unanswered inbound calls); they count for nobody", noUser)
	}

	// 3. Zero calls per cycle, and why.
	cycles, err := st.Cycles(ctx, o.Name)
	if err != nil {
		return err
	}
	if c.IsSet("cycle") {
		cy, err := st.GetCycle(ctx, o.Name, c.String("cycle"))
		if err != nil {
			return err
		}
		cycles = []store.Cycle{cy}
	}
	if len(cycles) == 0 {
		d.warn("no review cycles")
		d.fix("phonesignals cycles add --org %s --cycle ID --start YYYY-MM-DD --end YYYY-MM-DD", o.Name)
	}
	last, synced, err := st.LastRun(ctx, o.Name)
	if err != nil {
		return err
	}
	for _, cy := range cycles {
		cc, err := st.OrgCalls(ctx, o.Name, cy.Start, cy.End)
		if err != nil {
			return err
		}
		ms, err := st.CycleMetrics(ctx, o.Name, cy.ID)
		if err != nil {
			return err
		}
		var counted uint64
		for _, m := range ms {
			counted += m.TotalCalls
		}
		span := fmt.Sprintf("%s to %s", cy.Start.Format(time.DateOnly), cy.End.Format(time.DateOnly))
		switch {
		case cc.Calls == 0:
			d.fail("cycle %s (%s): zero calls loaded", cy.ID, span)
			switch {
			case !credsOK:
				d.fix("the credentials are rejected (above); fix them, then sync the cycle")
			case !synced:
				d.fix("the org was never synced: phonesignals sync --org %s --cycle %s, then phonesignals run --until-idle", o.Name, cy.ID)
			case last.Window.To.Before(cy.Start) || last.Window.From.After(cy.End):
				d.fix("the last sync covered %s, outside this cycle (calls outside the synced window do not appear): phonesignals sync --org %s --cycle %s", last.Window, o.Name, cy.ID)
			default:
				d.fix("the provider returned no calls in this window; check the account (%s) and run `phonesignals run --until-idle` if calls are still in Kafka", accountHint(o))
			}
		case counted == 0:
			d.fail("cycle %s (%s): %d calls loaded but none belongs to a mapped employee", cy.ID, span, cc.Calls)
			d.fix("map the %ss listed above to employees", p.UserIDName)
		default:
			d.ok("cycle %s (%s): %d calls loaded, %d count for mapped employees", cy.ID, span, cc.Calls, counted)
		}
	}

	// 4. Last sync.
	switch {
	case !synced:
		d.warn("never synced")
		d.fix("phonesignals sync --org %s --since-days 30", o.Name)
	case last.Status == "ok":
		d.ok("last sync %s: %d calls in %d requests, window %s", last.Finished.Format(time.RFC3339), last.Calls, last.Requests, last.Window)
	case last.Status == "running":
		d.warn("last sync started %s has not finished (still running, or killed: run it again to resume)", last.Started.Format(time.RFC3339))
	default:
		d.fail("last sync %s failed (%s): %s", last.Finished.Format(time.RFC3339), last.Status, last.Error)
	}

	// 5. Webhooks and 6. dead letters.
	if p.Webhooks {
		ws, err := st.WebhookStats(ctx, o.Name)
		if err != nil {
			return err
		}
		if len(ws) == 0 {
			if o.WebhookToken == "" {
				d.ok("webhooks not configured (polling only); set --webhook-token-file and run `phonesignals webhooks serve` for near real time")
			} else {
				d.warn("webhook token set but no deliveries seen: check the webhook URL in Aircall → Integrations & API → Webhook")
			}
		}
		for _, w := range ws {
			if w.Label == "HTTP 200" {
				d.ok("webhooks: %d delivered, last %s", w.N, w.Last.Format(time.RFC3339))
			} else {
				d.warn("webhooks: %d answered %s, last %s (%s)", w.N, w.Label, w.Last.Format(time.RFC3339), w.Note)
			}
		}
		ts, err := st.TranscriptStats(ctx, o.Name)
		if err != nil {
			return err
		}
		if o.Transcripts {
			d.ok("transcripts on (opt-in): fetched on transcription.created by `webhooks serve`")
		}
		for _, tr := range ts {
			switch tr.Label {
			case "saved":
				d.ok("transcripts: %d saved, last %s", tr.N, tr.Last.Format(time.RFC3339))
			case "disabled":
				if !o.Transcripts {
					d.warn("transcripts were turned off %s: %s", tr.Last.Format(time.RFC3339), tr.Note)
				}
			default:
				d.warn("transcripts: %d %s, last: %s", tr.N, tr.Label, tr.Note)
			}
		}
	}
	if p.NoEscalation != "" {
		d.ok("escalated_calls is not available for %s (%s); reviews show n/a, not 0", p.Title, p.NoEscalation)
	}
	dls, err := st.DeadLetterStats(ctx, o.Name)
	if err != nil {
		return err
	}
	for _, dl := range dls {
		d.warn("%d raw records dead-lettered: %s", dl.N, dl.Label)
	}
	if d.fails > 0 {
		return cli.Exit(fmt.Sprintf("doctor: %d problems to fix, %d warnings", d.fails, d.warns), 2)
	}
	fmt.Printf("doctor: no problems (%d warnings)\n", d.warns)
	return nil
}

// checkCredentials makes one real, minimal request with the stored
// credentials (a one-minute window into a throwaway sink).
func (d *doctor) checkCredentials(ctx context.Context, e *env, st *store.Store, p ingest.Provider, o store.Org, offline bool) bool {
	if o.Credentials == "" {
		d.fail("no credentials stored")
		d.fix("phonesignals org connect --org %s ...", o.Name)
		return false
	}
	if offline {
		last, ok, _ := st.LastRun(ctx, o.Name)
		if ok && last.Status == "auth_error" {
			d.fail("the last sync was refused: %s", last.Error)
			return false
		}
		d.ok("credentials stored (not checked: --offline)")
		return true
	}
	box, err := e.box()
	if err != nil {
		d.fail("cannot open the stored credentials: %v", err)
		return false
	}
	cr, err := openCredentials(box, o)
	if err != nil {
		d.fail("%v", err)
		return false
	}
	oc := orgConfig(o, cr, nil)
	src, err := p.NewSource(oc)
	if err != nil {
		d.fail("%v", err)
		return false
	}
	emps, _ := st.Employees(ctx, o.Name)
	var users []string
	for _, em := range emps {
		if em.ProviderUserID != "" {
			users = append(users, em.ProviderUserID)
			break
		}
	}
	now := time.Now().UTC().Truncate(time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	_, err = src.Sync(pctx, ingest.SyncRequest{Org: o.Name, Window: ingest.Window{From: now.Add(-time.Minute), To: now}, UserIDs: users}, &ingest.CountSink{}, nil, ingest.NoProgress)
	var ae *ingest.AuthError
	switch {
	case err == nil:
		d.ok("%s accepted the stored credentials (%s)", o.Provider, apiName(o))
		return true
	case errors.As(err, &ae):
		d.fail("%s rejected the credentials (HTTP %d)", o.Provider, ae.Status)
		d.fix("%s", ae.Hint)
	default:
		if p.Diagnose != nil {
			if problem, fix, ok := p.Diagnose(err, oc); ok {
				d.fail("%s", problem)
				d.fix("%s", fix)
				return false
			}
		}
		d.fail("could not reach %s at %s: %v", o.Provider, apiName(o), err)
	}
	return false
}

func accountHint(o store.Org) string {
	if o.AccountID == "" {
		return "~"
	}
	return o.AccountID
}

func apiName(o store.Org) string {
	if o.APIURL != "" {
		return o.APIURL
	}
	return "default API URL"
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

// checkSchema compares the live schema with the migrations': a column
// retyped by hand stops `run` on every batch.
func (d *doctor) checkSchema(ctx context.Context, st *store.Store) {
	drift, err := st.SchemaDrift(ctx)
	switch {
	case err != nil:
		d.warn("cannot compare the live schema with the expected one: %v", err)
	case len(drift) == 0:
		d.ok("schema matches the migrations")
	default:
		for _, dr := range drift {
			d.fail("schema drift: %s", dr)
			if f := dr.Fix(); f != "" {
				d.fix("%s", f)
			}
		}
	}
}
