package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/fixture"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/transform"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run the whole pipeline on simulated Aircall and RingCentral orgs, end to end",
		Description: "Starts (or reuses) a local ClickHouse and the embedded Kafka broker under --data-dir, serves a\n" +
			"generated Aircall org and RingCentral org over HTTP, syncs, transforms and loads everything, checks\n" +
			"every review number against an independent computation, and prints reviews and a summary.\n" +
			"Safe to run again: the same calls load again and still count once.",
		Flags: []cli.Flag{
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "generation seed"},
		},
		Action: runDemo,
	}
}

type demoOrg struct {
	org     *fixture.Org
	url     string
	creds   map[string]string
	setting map[string]string
}

func runDemo(c *cli.Context) error {
	ctx := c.Context
	start := time.Now()
	e := newEnv(c)
	defer e.close()
	if os.Getenv(secret.EnvKey) == "" && c.String("master-key-file") == "" {
		if err := secret.EnsureKeyFile(filepath.Join(e.dataDir, "master.key")); err != nil {
			return err
		}
	}
	box, err := e.box()
	if err != nil {
		return err
	}
	fmt.Println("phonesignals demo")
	step := func(n int, s string) {
		fmt.Printf("\n[%d/6] %s (%s)\n", n, s, time.Since(start).Round(100*time.Millisecond))
	}

	step(1, "starting ClickHouse and Kafka, applying the schema")
	st, err := e.store(ctx)
	if err != nil {
		return err
	}
	chAddr := st.Config().Addr
	bcfg, err := e.bus(ctx)
	if err != nil {
		return err
	}
	v, _ := st.SchemaVersion(ctx)
	fmt.Printf("  ClickHouse %s, database %s, schema version %d\n", chAddr, st.Config().Database, v)
	fmt.Printf("  Kafka %s (embedded: %v), topic %s\n", strings.Join(bcfg.Brokers, ","), e.embedded != nil, bus.TopicRaw)

	step(2, "generating orgs and serving simulated provider APIs")
	seed := c.Int64("seed")
	acme := fixture.Generate(fixture.Spec{Seed: seed, Org: "acme", Provider: model.ProviderAircall})
	globex := fixture.Generate(fixture.Spec{Seed: seed + 1, Org: "globex", Provider: model.ProviderRingCentral,
		Employees: 14, UnmappedUsers: 2, CallsPerDay: 12, Cohorts: []string{"sdr", "inside_sales", "support"}})
	now := acme.End.Add(24 * time.Hour)
	clock := func() time.Time { return now }
	acmeFake := aircalltest.NewFake(acme, aircalltest.FakeOptions{APIID: "demo-id", APIToken: "demo-token",
		RateLimitPerMinute: 100000, Now: clock})
	globexFake := ringcentraltest.NewFake(globex, ringcentraltest.FakeOptions{ClientID: "demo-client", ClientSecret: "demo-secret",
		JWT: "demo.jwt.credential", HeavyLimit: 100000, HeavyWindow: time.Minute, AuthLimit: 1000, Now: clock})
	acmeURL, stop1, err := serveLocal(acmeFake)
	if err != nil {
		return err
	}
	defer stop1()
	globexURL, stop2, err := serveLocal(globexFake)
	if err != nil {
		return err
	}
	defer stop2()
	orgs := []demoOrg{
		{org: acme, url: acmeURL + "/v1", creds: map[string]string{"api_id": "demo-id", "api_token": "demo-token"},
			setting: map[string]string{"rate_limit": "100000"}},
		{org: globex, url: globexURL, creds: map[string]string{"client_id": "demo-client", "client_secret": "demo-secret", "jwt": "demo.jwt.credential"},
			setting: map[string]string{"heavy_limit": "100000", "heavy_window": "1m", "auth_limit": "1000", "mode": "account"}},
	}
	for _, d := range orgs {
		fmt.Printf("  %-7s %-11s %s  %d employees, %d cohorts, %d calls over %d days\n", d.org.Name, d.org.Provider, d.url,
			len(d.org.Employees), countCohorts(d.org), len(d.org.Calls), int(d.org.End.Sub(d.org.Start).Hours()/24))
	}

	step(3, "configuring orgs: credentials (encrypted), employees, cycles")
	for _, d := range orgs {
		if err := demoConfigure(ctx, st, box, e.dataDir, d); err != nil {
			return err
		}
	}

	step(4, "syncing from the provider APIs into Kafka")
	pub, err := bus.NewPublisher(bcfg, box, bus.TopicRaw)
	if err != nil {
		return err
	}
	defer pub.Close()
	for _, d := range orgs {
		o, err := st.GetOrg(ctx, d.org.Name)
		if err != nil {
			return err
		}
		src, err := newSource(providersOf(c), box, o, nil)
		if err != nil {
			return err
		}
		w := ingest.Window{From: d.org.Start, To: d.org.End}
		res, err := runSync(ctx, st, src, o, w, true, pub)
		if err != nil {
			return err
		}
		if err := printSyncResult(ctx, st, o.Name, w, res); err != nil {
			return err
		}
	}
	if err := demoWebhooks(ctx, st, box, pub, acme, acmeFake); err != nil {
		return err
	}

	step(5, "transforming (Arrow, rules "+transform.RulesVersion+") and loading into ClickHouse")
	stats, err := transformUntil(ctx, providersOf(c), bcfg, box, st, 20000, true)
	if err != nil {
		return err
	}
	fmt.Printf("  loaded %d rows from %d records in %d batches, %d dead-lettered\n", stats.Rows, stats.Records, stats.Batches, stats.DeadLetters)

	step(6, "reviews")
	var checked, mismatches int
	for _, d := range orgs {
		n, bad, err := verifyOrg(ctx, st, d.org)
		if err != nil {
			return err
		}
		checked += n
		mismatches += bad
	}
	for _, pick := range []struct {
		o   *fixture.Org
		emp int
	}{{acme, 0}, {acme, 4}, {globex, 1}} {
		cy := pick.o.Cycles[1].ID
		emp := pick.o.Employees[pick.emp]
		b, err := review.Load(ctx, st, pick.o.Name, cy, emp.ID)
		if err != nil {
			return err
		}
		fmt.Printf("\n--- %s / %s (%s, %s) / cycle %s ---\n", pick.o.Name, emp.ID, emp.Name, pick.o.Provider, cy)
		fmt.Print(b.Text())
	}

	fmt.Printf("\nSummary\n")
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  org\tprovider\tcycle\temployees\tcalls counted\tcalls (all)\tunmapped users\tcohort medians")
	for _, d := range orgs {
		for _, cy := range d.org.Cycles {
			ms, err := st.CycleMetrics(ctx, d.org.Name, cy.ID)
			if err != nil {
				return err
			}
			var counted uint64
			for _, m := range ms {
				counted += m.TotalCalls
			}
			cc, err := st.OrgCalls(ctx, d.org.Name, cy.Start, cy.End)
			if err != nil {
				return err
			}
			un, err := st.UnmappedUsers(ctx, d.org.Name, cy.Start, cy.End)
			if err != nil {
				return err
			}
			nUnmapped := 0
			for _, u := range un {
				if u.UserID != "" {
					nUnmapped++
				}
			}
			bs, err := st.CycleBaselines(ctx, d.org.Name, cy.ID)
			if err != nil {
				return err
			}
			var meds []string
			for _, b := range bs {
				meds = append(meds, b.Cohort+"="+review.FormatMedian(b.MedianTotalCalls))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", d.org.Name, d.org.Provider, cy.ID, len(ms), counted, cc.Calls, nUnmapped, strings.Join(meds, " "))
		}
	}
	tw.Flush()
	if mismatches > 0 {
		return fmt.Errorf("%d of %d review numbers differ from the independent computation", mismatches, checked)
	}
	fmt.Printf("\nverified: all %d review numbers (every employee, metric and cycle, plus cohort sizes and medians) equal an independent computation over the generated calls\n", checked)
	fmt.Printf("done in %s\n", time.Since(start).Round(100*time.Millisecond))
	port := chAddr[strings.LastIndex(chAddr, ":")+1:]
	client := "clickhouse-client --port " + port
	if st.Config().Password != "" {
		// The shell reads the password from its 0600 file; it is never printed.
		client += ` --password "$(cat ` + filepath.Join(e.dataDir, "clickhouse", "password") + `)"`
	}
	fmt.Printf(`
Query it:
  %[1]s -d %[2]s -q "SELECT employee_id, total_calls, avg_duration_sec, resolved_calls FROM employee_cycle_metrics WHERE org = 'acme' AND cycle_id = '%[3]s' ORDER BY total_calls DESC LIMIT 5"
  %[1]s -d %[2]s -q "SELECT * FROM cohort_cycle_baselines WHERE org = 'acme'"
  ./bin/phonesignals --data-dir %[5]s review --org acme --employee E001 --cycle %[3]s --format json
The local ClickHouse server keeps running (data in %[4]s); stop it with: ./bin/phonesignals clickhouse stop
`, client, st.Config().Database, acme.Cycles[1].ID, filepath.Join(e.dataDir, "clickhouse"), e.dataDir)
	return nil
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

// demoConfigure sets an org up through the same code paths as the CLI:
// org add, connect (sealed credentials), a CSV roster import and cycles.
func demoConfigure(ctx context.Context, st *store.Store, box *secret.Box, dataDir string, d demoOrg) error {
	if _, err := st.AddOrg(ctx, d.org.Name, d.org.Provider); err != nil {
		return err
	}
	o, err := st.GetOrg(ctx, d.org.Name)
	if err != nil {
		return err
	}
	o.APIURL, o.Settings = d.url, d.setting
	if err := sealCredentials(box, &o, d.creds); err != nil {
		return err
	}
	if o.Provider == model.ProviderAircall {
		o.WebhookToken = box.SealString(demoWebhookToken, webhookTokenAAD(o.Name))
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
	fmt.Printf("  %s: %s connected (credentials sealed), %d employees imported from %s, cycles %s\n",
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
func verifyOrg(ctx context.Context, st *store.Store, o *fixture.Org) (checked, bad int, err error) {
	for _, cy := range o.Cycles {
		want, wantBase := o.Truth(cy.Start, cy.End)
		ms, err := st.CycleMetrics(ctx, o.Name, cy.ID)
		if err != nil {
			return checked, bad, err
		}
		if len(ms) != len(want) {
			bad++
			fmt.Printf("  MISMATCH %s %s: %d employees in ClickHouse, %d expected\n", o.Name, cy.ID, len(ms), len(want))
		}
		for _, m := range ms {
			w := want[m.EmployeeID]
			got := []uint64{m.TotalCalls, m.InboundCalls, m.OutboundCalls, m.AvgDurationSec, m.AfterHoursCalls, m.EscalatedCalls, m.ResolvedCalls}
			exp := []int{w.TotalCalls, w.InboundCalls, w.OutboundCalls, w.AvgDurationSec, w.AfterHoursCalls, w.EscalatedCalls, w.ResolvedCalls}
			for i := range got {
				checked++
				if got[i] != uint64(exp[i]) {
					bad++
					fmt.Printf("  MISMATCH %s %s %s metric %d: got %d want %d\n", o.Name, cy.ID, m.EmployeeID, i, got[i], exp[i])
				}
			}
		}
		bs, err := st.CycleBaselines(ctx, o.Name, cy.ID)
		if err != nil {
			return checked, bad, err
		}
		for _, b := range bs {
			w := wantBase[b.Cohort]
			checked += 2
			if b.Size != uint64(w.Size) || b.MedianTotalCalls != w.MedianTotalCall {
				bad++
				fmt.Printf("  MISMATCH %s %s cohort %s: size %d median %v, want %d %v\n", o.Name, cy.ID, b.Cohort, b.Size, b.MedianTotalCalls, w.Size, w.MedianTotalCall)
			}
		}
	}
	return checked, bad, nil
}

// demoWebhookToken is the simulated Aircall webhook's token.
const demoWebhookToken = "demo-webhook-token"

// demoWebhooks has the simulated Aircall deliver the call events of the
// org's last two days, a quarter of them twice and all out of order, to the
// real webhook receiver: the calls converge with the polled versions.
func demoWebhooks(ctx context.Context, st *store.Store, box *secret.Box, sink ingest.Sink, o *fixture.Org, fake *aircalltest.Fake) error {
	deliveries := st.NewDeliveryBuffer(time.Second)
	defer deliveries.Close(context.WithoutCancel(ctx))
	ws, err := aircall.NewWebhookServer(aircall.WebhookConfig{Listen: "127.0.0.1:0", Orgs: &orgDirectory{st: st, box: box},
		Sink: sink, TranscriptSink: &ingesttest.MemSink{}, Deliveries: deliveryLog{deliveries}})
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
	fmt.Printf("  webhooks: %d events of the last 2 days delivered %d times (duplicated, out of order) to the receiver, each acknowledged after Kafka\n",
		rep.Events, rep.Deliveries)
	return nil
}
