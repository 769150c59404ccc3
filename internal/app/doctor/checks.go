package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load/aggregate"
)

// schema compares the live schema with the migrations': a column retyped
// by hand stops `run` on every batch.
func (d *diagnosis) schema(ctx context.Context) {
	drift, err := d.st.SchemaDrift(ctx)
	switch {
	case err != nil:
		d.add(Warn, "", "cannot compare the live schema with the expected one: %v", err)
	case len(drift) == 0:
		d.add(OK, "", "schema matches the migrations")
	default:
		for _, dr := range drift {
			d.add(Fail, dr.Fix(), "schema drift: %s", dr)
		}
	}
}

// credentials makes one real, minimal request with the stored credentials
// (a one-minute window into a sink that keeps nothing).
func (d *diagnosis) credentials(ctx context.Context) bool {
	o, p := d.o, d.p
	if o.Credentials == "" {
		d.add(Fail, fmt.Sprintf("phonesignals org connect --org %s ...", o.Name), "no credentials stored")
		return false
	}
	if d.cfg.Offline {
		last, ok, _ := d.st.LastRun(ctx, o.Name)
		if ok && last.Status == "auth_error" {
			d.add(Fail, "", "the last sync was refused: %s", last.Error)
			return false
		}
		d.add(OK, "", "credentials stored (not checked: --offline)")
		return true
	}
	box, err := d.cfg.Box()
	if err != nil {
		d.add(Fail, "", "cannot open the stored credentials: %v", err)
		return false
	}
	cr, err := orgs.OpenCredentials(box, o)
	if err != nil {
		d.add(Fail, "", "%v", err)
		return false
	}
	oc := orgs.Config(o, cr, d.cfg.HTTPClient)
	src, err := p.NewSource(oc)
	if err != nil {
		d.add(Fail, "", "%v", err)
		return false
	}
	err = d.probe(ctx, src)
	var ae *ingest.AuthError
	switch {
	case err == nil:
		d.add(OK, "", "%s accepted the stored credentials (%s)", o.Provider, apiName(o))
		return true
	case errors.As(err, &ae):
		d.add(Fail, ae.Hint, "%s rejected the credentials (HTTP %d)", o.Provider, ae.Status)
		return false
	}
	if p.Diagnose != nil {
		if problem, fix, ok := p.Diagnose(err, oc); ok {
			d.add(Fail, fix, "%s", problem)
			return false
		}
	}
	d.add(Fail, "", "could not reach %s at %s: %v", o.Provider, apiName(o), err)
	return false
}

// probe syncs the last minute for one mapped user (per-user listing modes
// need one) and keeps nothing.
func (d *diagnosis) probe(ctx context.Context, src ingest.Source) error {
	emps, _ := d.st.Employees(ctx, d.o.Name)
	var users []string
	for _, em := range emps {
		if em.ProviderUserID != "" {
			users = append(users, em.ProviderUserID)
			break
		}
	}
	now := time.Now().UTC().Truncate(time.Minute)
	pctx, cancel := context.WithTimeout(ctx, cmp.Or(d.cfg.ProbeTimeout, 90*time.Second))
	defer cancel()
	req := ingest.SyncRequest{Org: d.o.Name, Window: ingest.Window{From: now.Add(-time.Minute), To: now}, UserIDs: users}
	_, err := src.Sync(pctx, req, &ingest.CountSink{}, nil, ingest.NoProgress)
	return err
}

// mapping checks the roster and lists provider users with calls but no
// employee.
func (d *diagnosis) mapping(ctx context.Context) error {
	o, who := d.o, d.p.UserIDName
	emps, err := d.st.Employees(ctx, o.Name)
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
		d.add(Fail, fmt.Sprintf("phonesignals employees import --org %s FILE.csv (header employee_id,name,email,cohort,provider_user_id)%s", o.Name, d.matchHint()),
			"no employees imported: no call can count for anybody")
	case mapped == 0:
		d.add(Fail, d.mapFix(),
			"%d employees but none has a provider_user_id: a missing mapping returns no calls", len(emps))
	default:
		d.add(OK, "", "%d employees, %d mapped to their %s id", len(emps), mapped, who)
	}
	far := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	un, err := d.st.UnmappedUsers(ctx, o.Name, far, time.Now().AddDate(10, 0, 0))
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
		d.add(Warn, "add them to the roster if they are employees under review; their calls are kept and count once mapped"+d.discoverHint(),
			"%d %ss have calls but no employee mapping: %v", len(unmappedUsers), who, firstN(unmappedUsers, 8))
	}
	if noUser > 0 {
		d.add(OK, "", "%d calls have no user (unanswered inbound calls); they count for nobody", noUser)
	}
	return nil
}

// mapFix says how to map employees to their provider users: from the
// provider's own list where it has one, else by hand.
func (d *diagnosis) mapFix() string {
	if d.p.Users == nil {
		return fmt.Sprintf("fill provider_user_id (%s) in the CSV and import it again", d.p.UserIDName)
	}
	return fmt.Sprintf("phonesignals employees import --org %s --match email fills provider_user_id from %s's users by e-mail "+
		"(phonesignals employees discover --org %s lists them with their calls); or fill it in the CSV and import it again", d.o.Name, d.p.Title, d.o.Name)
}

// matchHint adds --match email to the import fix where the provider lists
// its users.
func (d *diagnosis) matchHint() string {
	if d.p.Users == nil {
		return ""
	}
	return fmt.Sprintf("; leave provider_user_id empty and add --match email to fill it from %s's users by e-mail", d.p.Title)
}

// discoverHint names `employees discover` where the provider lists its
// users.
func (d *diagnosis) discoverHint() string {
	if d.p.Users == nil {
		return ""
	}
	return fmt.Sprintf(": phonesignals employees discover --org %s lists them with their names and e-mails, and phonesignals employees import --org %s --match email maps roster rows to them by e-mail", d.o.Name, d.o.Name)
}

// cycles explains every cycle with zero calls, or none counted.
func (d *diagnosis) cycles(ctx context.Context, credsOK bool) error {
	o := d.o
	cycles, err := d.st.Cycles(ctx, o.Name)
	if err != nil {
		return err
	}
	if d.cfg.Cycle != "" {
		cy, err := d.st.GetCycle(ctx, o.Name, d.cfg.Cycle)
		if err != nil {
			return err
		}
		cycles = []store.Cycle{cy}
	}
	if len(cycles) == 0 {
		d.add(Warn, fmt.Sprintf("phonesignals cycles add --org %s --cycle ID --start YYYY-MM-DD --end YYYY-MM-DD", o.Name), "no review cycles")
	}
	last, synced, err := d.st.LastRun(ctx, o.Name)
	if err != nil {
		return err
	}
	for _, cy := range cycles {
		if err := d.cycle(ctx, cy, credsOK, last, synced); err != nil {
			return err
		}
	}
	return nil
}

func (d *diagnosis) cycle(ctx context.Context, cy store.Cycle, credsOK bool, last store.Run, synced bool) error {
	o := d.o
	cc, err := d.st.OrgCalls(ctx, o.Name, cy.Start, cy.End)
	if err != nil {
		return err
	}
	ms, err := d.st.CycleMetrics(ctx, o.Name, cy.ID)
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
		d.add(Fail, zeroCallsFix(o, cy, credsOK, last, synced, d.mapFix()), "cycle %s (%s): zero calls loaded", cy.ID, span)
	case counted == 0:
		d.add(Fail, fmt.Sprintf("map the %ss listed above to employees: %s", d.p.UserIDName, d.mapFix()),
			"cycle %s (%s): %d calls loaded but none belongs to a mapped employee", cy.ID, span, cc.Calls)
	default:
		d.add(OK, "", "cycle %s (%s): %d calls loaded, %d count for mapped employees", cy.ID, span, cc.Calls, counted)
	}
	return nil
}

// zeroCallsFix says why a cycle has no calls, most likely cause first;
// mapFix is how to map employees (a sync listing calls per user fetches
// only mapped users' calls).
func zeroCallsFix(o store.Org, cy store.Cycle, credsOK bool, last store.Run, synced bool, mapFix string) string {
	switch {
	case !credsOK:
		return "the credentials are rejected (above); fix them, then sync the cycle"
	case !synced:
		return fmt.Sprintf("the org was never synced: phonesignals sync --org %s --cycle %s, then phonesignals run --until-idle", o.Name, cy.ID)
	case last.Window.To.Before(cy.Start) || last.Window.From.After(cy.End):
		return fmt.Sprintf("the last sync covered %s, outside this cycle (calls outside the synced window do not appear): phonesignals sync --org %s --cycle %s", last.Window, o.Name, cy.ID)
	default:
		return fmt.Sprintf("the provider returned no calls in this window; check the account (%s) and run `phonesignals run --until-idle` if calls are still in Kafka; "+
			"a sync listing calls per user fetches only mapped users' calls, so map the employees first (%s), then sync the cycle again", cmp.Or(o.AccountID, "~"), mapFix)
	}
}

// lastSync reports the latest sync run.
func (d *diagnosis) lastSync(ctx context.Context) error {
	last, synced, err := d.st.LastRun(ctx, d.o.Name)
	if err != nil {
		return err
	}
	switch {
	case !synced:
		d.add(Warn, fmt.Sprintf("phonesignals sync --org %s --since-days 30", d.o.Name), "never synced")
	case last.Status == "ok":
		d.add(OK, "", "last sync %s: %d calls in %d requests, window %s", last.Finished.Format(time.RFC3339), last.Calls, last.Requests, last.Window)
	case last.Status == "running":
		d.add(Warn, "", "last sync started %s has not finished (still running, or killed: run it again to resume)", last.Started.Format(time.RFC3339))
	default:
		d.add(Fail, "", "last sync %s failed (%s): %s", last.Finished.Format(time.RFC3339), last.Status, last.Error)
	}
	return nil
}

// unloadedWindows reports finished sync windows whose calls never reached
// ClickHouse: waiting for `run`, or lost with the Kafka data.
func (d *diagnosis) unloadedWindows(ctx context.Context) error {
	ws, err := d.st.UnloadedWindows(ctx, d.o.Name)
	if err != nil {
		return err
	}
	if len(ws) == 0 {
		return nil
	}
	missing := 0
	for _, w := range ws {
		missing += w.Missing
	}
	d.add(Fail, fmt.Sprintf("phonesignals run --until-idle; if they stay missing the Kafka data was lost: phonesignals sync --org %s fetches those windows again", d.o.Name),
		"%d finished sync windows have %d calls that never reached ClickHouse (first: %s)", len(ws), missing, ws[0].Window)
	return nil
}

// webhooks reports the deliveries of providers that push webhooks.
func (d *diagnosis) webhooks(ctx context.Context) error {
	if d.p.Webhooks == nil {
		return nil
	}
	ws, err := d.st.WebhookStats(ctx, d.o.Name)
	if err != nil {
		return err
	}
	if len(ws) == 0 {
		if d.o.WebhookToken == "" {
			d.add(OK, "", "webhooks not configured (polling only); set --webhook-token-file and run `phonesignals webhooks serve` for near real time")
		} else {
			d.add(Warn, "", "webhook token set but no deliveries seen: check the webhook URL in %s → Integrations & API → Webhook", d.p.Title)
		}
	}
	for _, w := range ws {
		if w.Label == "HTTP 200" {
			d.add(OK, "", "webhooks: %d delivered, last %s", w.N, w.Last.Format(time.RFC3339))
		} else {
			d.add(Warn, "", "webhooks: %d answered %s, last %s (%s)", w.N, w.Label, w.Last.Format(time.RFC3339), w.Note)
		}
	}
	return d.sharedWebhookToken(ctx)
}

// sharedWebhookToken names the other orgs whose stored webhook token is
// this org's: the receiver finds an org by its token alone, so every
// delivery with a shared token is refused (HTTP 500, "token matches N
// orgs") for all of them.
func (d *diagnosis) sharedWebhookToken(ctx context.Context) error {
	if d.o.WebhookToken == "" || d.cfg.Box == nil {
		return nil
	}
	box, err := d.cfg.Box()
	if err != nil {
		d.add(Warn, "", "cannot check whether another org shares the webhook token: %v", err)
		return nil
	}
	tok, err := orgs.OpenWebhookToken(box, d.o)
	if err != nil {
		d.add(Fail, fmt.Sprintf("store the token again: phonesignals org connect --org %s --webhook-token-file FILE", d.o.Name),
			"the stored webhook token does not open (sealed under another master key?): its deliveries get 401")
		return nil
	}
	owners, err := orgs.WebhookTokenOwners(ctx, d.st, box, tok, d.o.Name)
	if err != nil {
		return err
	}
	if len(owners) == 0 {
		d.add(OK, "", "the webhook token is this org's alone")
		return nil
	}
	d.add(Fail, fmt.Sprintf("give each org its own token: create a new webhook in %s for org %s (each webhook has its own token), then phonesignals org connect --org %s --webhook-token-file FILE",
		d.p.Title, d.o.Name, d.o.Name),
		"the webhook token is also the token of org %s: every delivery with it is refused with HTTP 500 (token matches %d orgs)",
		strings.Join(owners, ", "), len(owners)+1)
	return nil
}

// transcripts reports the transcript outcomes of providers with webhooks,
// and says when escalation cannot be detected at all.
func (d *diagnosis) transcripts(ctx context.Context) error {
	if d.p.NoEscalation != "" {
		defer d.add(OK, "", "escalated_calls is not available for %s (%s); reviews show n/a, not 0", d.p.Title, d.p.NoEscalation)
	}
	if d.p.Webhooks == nil {
		return nil
	}
	ts, err := d.st.TranscriptStats(ctx, d.o.Name)
	if err != nil {
		return err
	}
	if d.o.Transcripts {
		d.add(OK, "", "transcripts on (opt-in): fetched on transcription.created by `webhooks serve`")
	}
	for _, tr := range ts {
		switch tr.Label {
		case "saved":
			d.add(OK, "", "transcripts: %d saved, last %s", tr.N, tr.Last.Format(time.RFC3339))
		case "disabled":
			if !d.o.Transcripts {
				d.add(Warn, "", "transcripts were turned off %s: %s", tr.Last.Format(time.RFC3339), tr.Note)
			}
		default:
			d.add(Warn, "", "transcripts: %d %s, last: %s", tr.N, tr.Label, tr.Note)
		}
	}
	return nil
}

// deadLetters reports raw records the transform could not use.
func (d *diagnosis) deadLetters(ctx context.Context) error {
	dls, err := d.st.DeadLetterStats(ctx, d.o.Name)
	if err != nil {
		return err
	}
	for _, dl := range dls {
		d.add(Warn, "", "%d raw records dead-lettered: %s", dl.N, dl.Label)
	}
	return nil
}

// recentDays is how many of the org's last days of data doctor verifies
// against raw_signals: a month, the span reviews are read over.
const recentDays = 31

// aggregates verifies the org's recent per-day aggregates against
// raw_signals (`phonesignals aggregates verify` on the last recentDays).
func (d *diagnosis) aggregates(ctx context.Context) error {
	agg, err := aggregate.New(d.st.Conn(), nil)
	if err != nil {
		return err
	}
	rep, err := agg.VerifyRecent(ctx, d.o.Name, recentDays)
	if err != nil {
		return err
	}
	if len(rep.Diffs) > 0 {
		first := rep.Diffs[0]
		d.add(Fail, fmt.Sprintf("phonesignals aggregates rebuild --org %s (safe while run streams), then phonesignals aggregates verify --org %s", d.o.Name, d.o.Name),
			"%d per-day aggregate keys of the last %d days differ from raw_signals, so reviews over them are wrong (first: %s user %s: %d calls stored, %d in raw_signals)",
			len(rep.Diffs), recentDays, first.Day.Format(time.DateOnly), first.UserID, first.Stored.Calls, first.Recomputed.Calls)
		return nil
	}
	d.add(OK, "", "the per-day aggregates of the last %d days of data match raw_signals (%d days pending a refresh)", recentDays, rep.Dirty)
	return nil
}

func apiName(o store.Org) string {
	return cmp.Or(o.APIURL, "default API URL")
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
