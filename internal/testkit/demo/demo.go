package demo

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/transform"
)

// Env is what the demo runs on: a migrated store and a Kafka broker with
// its topics.
type Env struct {
	Store *store.Store
	Bus   bus.Config
	// Embedded says the broker runs in this process.
	Embedded bool
}

// Config wires the demo to the product. Every field is required except
// Seed and Out.
type Config struct {
	// Open starts (or reuses) ClickHouse and Kafka and applies the schema.
	Open func(ctx context.Context) (Env, error)
	// Box seals credentials and the raw calls on Kafka.
	Box *secret.Box
	// Providers is the provider registry the orgs' connectors come from.
	Providers *ingest.Registry
	// DataDir is where the demo writes its roster files.
	DataDir string
	// Seed seeds the generated orgs. Default 0 (the CLI passes 1).
	Seed int64
	// Sync runs one recorded sync job into sink and prints what it did.
	Sync func(ctx context.Context, st *store.Store, src ingest.Source, o store.Org, w ingest.Window, sink ingest.Sink) error
	// Transform transforms and loads everything published so far.
	Transform func(ctx context.Context, env Env) (transform.Stats, error)
	// Out receives the demo's report. Default os.Stdout.
	Out io.Writer
}

// Validate reports every missing field, each named.
func (c Config) Validate() error {
	var errs []error
	for name, missing := range map[string]bool{"Open": c.Open == nil, "Box": c.Box == nil, "Providers": c.Providers == nil,
		"DataDir": c.DataDir == "", "Sync": c.Sync == nil, "Transform": c.Transform == nil} {
		if missing {
			errs = append(errs, fmt.Errorf("demo: %s is not set", name))
		}
	}
	return errors.Join(errs...)
}

// demoOrg is one generated org and how it is served.
type demoOrg struct {
	org     *fixture.Org
	url     string
	creds   map[string]string
	setting map[string]string
}

// run is one demo run.
type run struct {
	cfg   Config
	out   io.Writer
	start time.Time
	env   Env
	acme  *fixture.Org
	fake  *aircalltest.Fake
	orgs  []demoOrg
}

func (r *run) step(n int, s string) {
	fmt.Fprintf(r.out, "\n[%d/6] %s (%s)\n", n, s, time.Since(r.start).Round(100*time.Millisecond))
}

// Run runs the demo; it fails when any review number differs from the
// independent computation.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	r := &run{cfg: cfg, out: cfg.Out, start: time.Now()}
	if r.out == nil {
		r.out = os.Stdout
	}
	fmt.Fprintln(r.out, "phonesignals demo")
	if err := r.open(ctx); err != nil {
		return err
	}
	stop, err := r.serve()
	if err != nil {
		return err
	}
	defer stop()
	r.step(3, "configuring orgs: credentials (encrypted), employees, cycles")
	for _, d := range r.orgs {
		if err := r.configure(ctx, d); err != nil {
			return err
		}
	}
	if err := r.syncAll(ctx); err != nil {
		return err
	}
	r.step(5, "transforming (Arrow, rules "+transform.RulesVersion+") and loading into ClickHouse")
	stats, err := cfg.Transform(ctx, r.env)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out, "  loaded %d rows from %d records in %d batches, %d dead-lettered\n", stats.Rows, stats.Records, stats.Batches, stats.DeadLetters)
	return r.reviews(ctx)
}

// open starts the store and the broker.
func (r *run) open(ctx context.Context) error {
	r.step(1, "starting ClickHouse and Kafka, applying the schema")
	env, err := r.cfg.Open(ctx)
	if err != nil {
		return err
	}
	r.env = env
	st := env.Store
	v, _ := st.SchemaVersion(ctx)
	fmt.Fprintf(r.out, "  ClickHouse %s, database %s, schema version %d\n", st.Config().Addr, st.Config().Database, v)
	fmt.Fprintf(r.out, "  Kafka %s (embedded: %v), topic %s\n", strings.Join(env.Bus.Brokers, ","), env.Embedded, bus.TopicRaw)
	return nil
}

// serve generates the orgs and serves the simulated provider APIs.
func (r *run) serve() (stop func(), err error) {
	r.step(2, "generating orgs and serving simulated provider APIs")
	seed := r.cfg.Seed
	acme := fixture.Generate(fixture.Spec{Seed: seed, Org: "acme", Provider: fixture.Aircall})
	globex := fixture.Generate(fixture.Spec{Seed: seed + 1, Org: "globex", Provider: fixture.RingCentral,
		Employees: 14, UnmappedUsers: 2, CallsPerDay: 12, Cohorts: []string{"sdr", "inside_sales", "support"}})
	now := acme.End.Add(24 * time.Hour)
	clock := func() time.Time { return now }
	r.acme = acme
	r.fake = aircalltest.NewFake(acme, aircalltest.FakeOptions{APIID: "demo-id", APIToken: "demo-token",
		RateLimitPerMinute: 100000, Now: clock})
	globexFake := ringcentraltest.NewFake(globex, ringcentraltest.FakeOptions{ClientID: "demo-client", ClientSecret: "demo-secret",
		JWT: "demo.jwt.credential", HeavyLimit: 100000, HeavyWindow: time.Minute, AuthLimit: 1000, Now: clock})
	acmeURL, stop1, err := serveLocal(r.fake)
	if err != nil {
		return nil, err
	}
	globexURL, stop2, err := serveLocal(globexFake)
	if err != nil {
		stop1()
		return nil, err
	}
	r.orgs = []demoOrg{
		{org: acme, url: acmeURL + "/v1", creds: map[string]string{"api_id": "demo-id", "api_token": "demo-token"},
			setting: map[string]string{"rate_limit": "100000"}},
		{org: globex, url: globexURL, creds: map[string]string{"client_id": "demo-client", "client_secret": "demo-secret", "jwt": "demo.jwt.credential"},
			setting: map[string]string{"heavy_limit": "100000", "heavy_window": "1m", "auth_limit": "1000", "mode": "account"}},
	}
	for _, d := range r.orgs {
		fmt.Fprintf(r.out, "  %-7s %-11s %s  %d employees, %d cohorts, %d calls over %d days\n", d.org.Name, d.org.Provider, d.url,
			len(d.org.Employees), countCohorts(d.org), len(d.org.Calls), int(d.org.End.Sub(d.org.Start).Hours()/24))
	}
	return func() { stop2(); stop1() }, nil
}

// syncAll syncs every org from its simulated API, then has the simulated
// Aircall deliver webhooks.
func (r *run) syncAll(ctx context.Context) error {
	r.step(4, "syncing from the provider APIs into Kafka")
	st := r.env.Store
	pub, err := bus.NewPublisher(r.env.Bus, r.cfg.Box, bus.TopicRaw)
	if err != nil {
		return err
	}
	defer pub.Close()
	for _, d := range r.orgs {
		o, err := st.GetOrg(ctx, d.org.Name)
		if err != nil {
			return err
		}
		src, err := orgs.NewSource(r.cfg.Providers, r.cfg.Box, o, nil)
		if err != nil {
			return err
		}
		if err := r.cfg.Sync(ctx, st, src, o, ingest.Window{From: d.org.Start, To: d.org.End}, pub); err != nil {
			return err
		}
	}
	return r.webhooks(ctx, pub)
}

// reviews verifies every number, prints a few review blocks and the
// summary; it fails on any mismatch.
func (r *run) reviews(ctx context.Context) error {
	r.step(6, "reviews")
	st := r.env.Store
	var checked, mismatches int
	for _, d := range r.orgs {
		n, bad, err := r.verifyOrg(ctx, d.org)
		if err != nil {
			return err
		}
		checked += n
		mismatches += bad
	}
	if err := r.printReviews(ctx); err != nil {
		return err
	}
	if err := r.printSummary(ctx); err != nil {
		return err
	}
	if mismatches > 0 {
		return fmt.Errorf("%d of %d review numbers differ from the independent computation", mismatches, checked)
	}
	fmt.Fprintf(r.out, "\nverified: all %d review numbers (every employee, metric and cycle, plus cohort sizes and medians) equal an independent computation over the generated calls\n", checked)
	fmt.Fprintf(r.out, "done in %s\n", time.Since(r.start).Round(100*time.Millisecond))
	client := r.clientCommand(st.Config())
	fmt.Fprintf(r.out, `
Query it:
  %[1]s -d %[2]s -q "SELECT employee_id, total_calls, avg_duration_sec, resolved_calls FROM employee_cycle_metrics WHERE org = 'acme' AND cycle_id = '%[3]s' ORDER BY total_calls DESC LIMIT 5"
  %[1]s -d %[2]s -q "SELECT * FROM cohort_cycle_baselines WHERE org = 'acme'"
  ./bin/phonesignals --data-dir %[5]s review --org acme --employee E001 --cycle %[3]s --format json
The local ClickHouse server keeps running (data in %[4]s); stop it with: ./bin/phonesignals clickhouse stop
`, client, st.Config().Database, r.acme.Cycles[1].ID, filepath.Join(r.cfg.DataDir, "clickhouse"), r.cfg.DataDir)
	return nil
}

// clientCommand is the clickhouse-client command that connects to the
// demo's ClickHouse. With a password it writes a client configuration
// file (0600) under the data dir and names it: a password flag on a command
// line is readable by every user of the machine (/proc/PID/cmdline).
func (r *run) clientCommand(cfg store.Config) string {
	port := cfg.Addr[strings.LastIndex(cfg.Addr, ":")+1:]
	if cfg.Password == "" {
		return "clickhouse-client --port " + port
	}
	path := filepath.Join(r.cfg.DataDir, "clickhouse", "client.xml")
	c, err := chserver.ClientFor(cfg.Addr, cfg.Username, cfg.Password)
	if err == nil {
		err = c.WriteConfig(path)
	}
	if err != nil {
		fmt.Fprintf(r.out, "\n(writing the clickhouse-client configuration %s failed: %v; the password is in %s)\n",
			path, err, filepath.Join(r.cfg.DataDir, "clickhouse", "password"))
		return "clickhouse-client --port " + port
	}
	return chserver.ConnectCommand(path, "")
}

// printReviews prints the review blocks of a few employees.
func (r *run) printReviews(ctx context.Context) error {
	globex := r.orgs[1].org
	for _, pick := range []struct {
		o   *fixture.Org
		emp int
	}{{r.acme, 0}, {r.acme, 4}, {globex, 1}} {
		cy := pick.o.Cycles[1].ID
		emp := pick.o.Employees[pick.emp]
		b, err := review.Load(ctx, r.env.Store, pick.o.Name, cy, emp.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.out, "\n--- %s / %s (%s, %s) / cycle %s ---\n", pick.o.Name, emp.ID, emp.Name, pick.o.Provider, cy)
		fmt.Fprint(r.out, b.Text())
	}
	return nil
}

// printSummary prints one line per org and cycle.
func (r *run) printSummary(ctx context.Context) error {
	fmt.Fprintf(r.out, "\nSummary\n")
	tw := tabwriter.NewWriter(r.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  org\tprovider\tcycle\temployees\tcalls counted\tcalls (all)\tunmapped users\tcohort medians")
	for _, d := range r.orgs {
		for _, cy := range d.org.Cycles {
			line, err := r.summaryLine(ctx, d.org, cy)
			if err != nil {
				return err
			}
			fmt.Fprintln(tw, line)
		}
	}
	return tw.Flush()
}

func (r *run) summaryLine(ctx context.Context, o *fixture.Org, cy fixture.Cycle) (string, error) {
	st := r.env.Store
	ms, err := st.CycleMetrics(ctx, o.Name, cy.ID)
	if err != nil {
		return "", err
	}
	var counted uint64
	for _, m := range ms {
		counted += m.TotalCalls
	}
	cc, err := st.OrgCalls(ctx, o.Name, cy.Start, cy.End)
	if err != nil {
		return "", err
	}
	un, err := st.UnmappedUsers(ctx, o.Name, cy.Start, cy.End)
	if err != nil {
		return "", err
	}
	nUnmapped := 0
	for _, u := range un {
		if u.UserID != "" {
			nUnmapped++
		}
	}
	bs, err := st.CycleBaselines(ctx, o.Name, cy.ID)
	if err != nil {
		return "", err
	}
	var meds []string
	for _, b := range bs {
		meds = append(meds, b.Cohort+"="+review.FormatMedian(b.MedianTotalCalls))
	}
	return fmt.Sprintf("  %s\t%s\t%s\t%d\t%d\t%d\t%d\t%s", o.Name, o.Provider, cy.ID, len(ms), counted, cc.Calls, nUnmapped, strings.Join(meds, " ")), nil
}

func countCohorts(o *fixture.Org) int {
	m := map[string]bool{}
	for _, e := range o.Employees {
		m[e.Cohort] = true
	}
	return len(m)
}

// serveLocal serves h on a free loopback port until stop is called.
func serveLocal(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listening for a simulated provider: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// configure sets an org up through the same code paths as the CLI:
// org add, connect (sealed credentials), a CSV roster import and cycles.
func (r *run) configure(ctx context.Context, d demoOrg) error {
	st, box, dataDir := r.env.Store, r.cfg.Box, r.cfg.DataDir
	if _, err := st.AddOrg(ctx, d.org.Name, d.org.Provider); err != nil {
		return err
	}
	o, err := st.GetOrg(ctx, d.org.Name)
	if err != nil {
		return err
	}
	o.APIURL, o.Settings = d.url, d.setting
	if err := orgs.SealCredentials(box, &o, d.creds); err != nil {
		return err
	}
	if o.Provider == fixture.Aircall {
		orgs.SealWebhookToken(box, &o, demoWebhookToken)
	}
	if err := st.SaveOrg(ctx, o); err != nil {
		return err
	}
	dir := filepath.Join(dataDir, "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, d.org.Name+"-employees.csv")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(store.EmployeesHeader)
	for _, e := range d.org.Employees {
		_ = w.Write([]string{e.ID, e.Name, e.Email, e.Cohort, e.ProviderUserID})
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	rf, err := os.Open(path)
	if err != nil {
		return err
	}
	emps, err := store.ParseEmployeesCSV(rf)
	rf.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := st.ImportEmployees(ctx, o.Name, emps); err != nil {
		return err
	}
	for _, cy := range d.org.Cycles {
		if err := st.AddCycle(ctx, o.Name, store.Cycle{ID: cy.ID, Start: cy.Start, End: cy.End}); err != nil {
			return err
		}
	}
	fmt.Fprintf(r.out, "  %s: %s connected (credentials sealed), %d employees imported from %s, cycles %s\n",
		o.Name, o.Provider, len(emps), path, cycleIDs(d.org))
	return nil
}

func cycleIDs(o *fixture.Org) string {
	var ids []string
	for _, c := range o.Cycles {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ", ")
}

// verifyOrg compares every review number of every employee and cycle, and
// every cohort baseline, with fixture.Truth.
func (r *run) verifyOrg(ctx context.Context, o *fixture.Org) (checked, bad int, err error) {
	st := r.env.Store
	for _, cy := range o.Cycles {
		want, wantBase := o.Truth(cy.Start, cy.End)
		ms, err := st.CycleMetrics(ctx, o.Name, cy.ID)
		if err != nil {
			return checked, bad, err
		}
		if len(ms) != len(want) {
			bad++
			fmt.Fprintf(r.out, "  MISMATCH %s %s: %d employees in ClickHouse, %d expected\n", o.Name, cy.ID, len(ms), len(want))
		}
		for _, m := range ms {
			w := want[m.EmployeeID]
			t := m.Talk
			got := []uint64{m.TotalCalls, m.InboundCalls, m.OutboundCalls, m.AvgDurationSec, m.AfterHoursCalls, m.EscalatedCalls, m.ResolvedCalls,
				t.AnsweredCalls, t.MissedCalls, t.VoicemailCalls, t.TalkTimeSec, t.AvgTalkSec, t.AvgAnswerSec, b2u(t.AnswerTimeAvailable)}
			exp := []int{w.TotalCalls, w.InboundCalls, w.OutboundCalls, w.AvgDurationSec, w.AfterHoursCalls, w.EscalatedCalls, w.ResolvedCalls,
				w.AnsweredCalls, w.MissedCalls, w.VoicemailCalls, w.TalkTimeSec, w.AvgTalkSec, w.AvgAnswerSec, int(b2u(w.AnswerTimeAvailable))}
			for i := range got {
				checked++
				if got[i] != uint64(exp[i]) {
					bad++
					fmt.Fprintf(r.out, "  MISMATCH %s %s %s metric %d: got %d want %d\n", o.Name, cy.ID, m.EmployeeID, i, got[i], exp[i])
				}
			}
		}
		bs, err := st.CycleBaselines(ctx, o.Name, cy.ID)
		if err != nil {
			return checked, bad, err
		}
		for _, b := range bs {
			w := wantBase[b.Cohort]
			checked += 7
			t := b.TalkMedians
			if b.Size != uint64(w.Size) || b.MedianTotalCalls != w.MedianTotalCall {
				bad++
				fmt.Fprintf(r.out, "  MISMATCH %s %s cohort %s: size %d median %v, want %d %v\n", o.Name, cy.ID, b.Cohort, b.Size, b.MedianTotalCalls, w.Size, w.MedianTotalCall)
			}
			if g, x := [5]float64{t.AnsweredCalls, t.MissedCalls, t.VoicemailCalls, t.TalkTimeSec, t.AvgTalkSec},
				[5]float64{w.MedianAnsweredCalls, w.MedianMissedCalls, w.MedianVoicemailCalls, w.MedianTalkTimeSec, w.MedianAvgTalkSec}; g != x {
				bad++
				fmt.Fprintf(r.out, "  MISMATCH %s %s cohort %s: talk medians %v, want %v\n", o.Name, cy.ID, b.Cohort, g, x)
			}
		}
	}
	return checked, bad, nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// demoWebhookToken is the simulated Aircall webhook's token.
const demoWebhookToken = "demo-webhook-token"

// webhooks has the simulated Aircall deliver the call events of the
// org's last two days, a quarter of them twice and all out of order, to the
// real webhook receiver: the calls converge with the polled versions.
func (r *run) webhooks(ctx context.Context, sink ingest.Sink) error {
	st, o, fake := r.env.Store, r.acme, r.fake
	deliveries := st.NewDeliveryBuffer(time.Second)
	defer deliveries.Close(context.WithoutCancel(ctx))
	ws, err := aircall.NewWebhookServer(aircall.WebhookConfig{Listen: "127.0.0.1:0", Orgs: &orgs.WebhookDirectory{Store: st, Box: r.cfg.Box, Provider: aircall.Name},
		Sink: sink, TranscriptSink: &ingesttest.MemSink{}, Deliveries: orgs.DeliveryLog{Buffer: deliveries}})
	if err != nil {
		return err
	}
	url, stop, err := serveLocal(ws.Handler())
	if err != nil {
		return err
	}
	defer stop()
	rep, err := fake.SendWebhooks(ctx, url+"/", demoWebhookToken, aircalltest.SendOptions{From: o.End.AddDate(0, 0, -2), To: o.End,
		Duplicates: 0.25, Shuffle: true, Seed: 1})
	if err != nil {
		return fmt.Errorf("sending simulated webhooks: %w", err)
	}
	if rep.Acked != rep.Deliveries {
		return fmt.Errorf("webhooks: only %d of %d deliveries acknowledged", rep.Acked, rep.Deliveries)
	}
	fmt.Fprintf(r.out, "  webhooks: %d events of the last 2 days delivered %d times (duplicated, out of order) to the receiver, each acknowledged after Kafka\n",
		rep.Events, rep.Deliveries)
	return nil
}
