package plugin_test

import (
	"context"
	"encoding/json"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load/aggregate"
)

// coverageSeed is org acme, cycle 2026-09, cohorts support (E1, E2) and sdr
// (E3, E4, E5), a sync that finished the first two weeks and then failed,
// a dead letter and a call of an unmapped user.
func coverageSeed(t *testing.T, ctx context.Context) (*store.Store, string, string) {
	t.Helper()
	srv := chservertest.Shared(t)
	db := chservertest.Database(t, srv)
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	sep := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	if _, err := st.AddOrg(ctx, "acme", fixture.Aircall); err != nil {
		t.Fatal(err)
	}
	if err := st.AddCycle(ctx, "acme", store.Cycle{ID: "2026-09", Start: sep, End: sep.AddDate(0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	var emps []store.Employee
	for i, c := range []string{"support", "support", "sdr", "sdr", "sdr"} {
		id := string(rune('1' + i))
		emps = append(emps, store.Employee{ID: "E" + id, Name: "N" + id, Cohort: c, ProviderUserID: "u" + id})
	}
	if err := st.ImportEmployees(ctx, "acme", emps); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string) {
		t.Helper()
		if err := st.Conn().Exec(ctx, sql); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	// 18.16 hangs on INSERT ... VALUES through the driver: a batch.
	batch, err := st.Conn().PrepareBatch(ctx, "INSERT INTO raw_signals (org, provider, call_id, user_id, started_at, direction, duration_sec, version)")
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range []string{"u1", "u3", "u3", "u9"} {
		if err := batch.Append("acme", "aircall", "c"+string(rune('1'+i)), u, sep.AddDate(0, 0, 1+i).Add(10*time.Hour), "inbound", uint32(60), uint64(1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	exec("INSERT INTO user_day_dirty (org, day, kind, value) SELECT DISTINCT org, toDate(started_at), 'loaded', 1 FROM raw_signals")
	agg, err := aggregate.New(st.Conn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := agg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	cp := st.Checkpoints("acme")
	for _, w := range []model.Window{{From: sep, To: sep.AddDate(0, 0, 7)}, {From: sep.AddDate(0, 0, 7), To: sep.AddDate(0, 0, 14)}} {
		if err := cp.RecordWindowCalls(ctx, "j", w, []string{"c1", "c2", "c3", "c4", "c5"}); err != nil {
			t.Fatal(err)
		}
		if err := cp.MarkDone(ctx, "j", w, 5); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecordDeadLetters(ctx, []model.DeadLetter{{Org: "acme", Provider: "aircall", CallID: "c5", Topic: "dead", Reason: "decode: bad"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordRun(ctx, store.Run{ID: "r1", Org: "acme", Provider: "aircall", Started: sep.AddDate(0, 1, 1), Finished: sep.AddDate(0, 1, 1).Add(time.Minute),
		Window: model.Window{From: sep, To: sep.AddDate(0, 1, 0)}, Status: "error", Error: "aircall: HTTP 503"}); err != nil {
		t.Fatal(err)
	}
	return st, srv.Addr(), db
}

// TestCoverageAndFloorFrames: the coverage query, and the coverage in the
// review frames' meta with a notice per gap; medians below the org's
// floor are null with the reason, read afresh on every query.
func TestCoverageAndFloorFrames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, addr, db := coverageSeed(t, ctx)
	raw, _ := json.Marshal(map[string]string{"clickhouse": addr, "database": db, "org": "acme"})
	inst, err := plugin.NewDatasource(ctx, backend.DataSourceInstanceSettings{Name: "acme", JSONData: raw})
	if err != nil {
		t.Fatal(err)
	}
	d := inst.(*plugin.Datasource)
	t.Cleanup(d.Dispose)
	ask := func(queryType string) *data.Frame {
		t.Helper()
		q, _ := json.Marshal(map[string]string{"queryType": queryType, "cycle": "2026-09", "employee": "E1"})
		resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: q}}})
		if err != nil || resp.Responses["A"].Error != nil {
			t.Fatalf("%s: %v %v", queryType, err, resp.Responses["A"].Error)
		}
		return resp.Responses["A"].Frames[0]
	}
	at := func(f *data.Frame, name string, row int) any {
		t.Helper()
		fl, i := f.FieldByName(name)
		if i < 0 {
			t.Fatalf("frame %s has no field %s", f.Name, name)
		}
		return fl.At(row)
	}

	c := ask(plugin.QueryCoverage)
	through := at(c, "complete_through", 0).(*time.Time)
	if at(c, "status", 0) != "incomplete" || through == nil || !through.Equal(time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC)) ||
		at(c, "windows_missing", 0) != uint64(1) || at(c, "windows_failed", 0) != uint64(1) || at(c, "dead_letter_calls", 0) != uint64(1) ||
		at(c, "unmapped_calls", 0) != uint64(1) || at(c, "last_webhook", 0).(*time.Time) != nil ||
		at(c, "fix", 0) != "phonesignals sync --org acme --cycle 2026-09" || !strings.Contains(at(c, "problems", 0).(string), "sync failed: aircall: HTTP 503") {
		t.Errorf("coverage frame: %v", c.Fields)
	}
	for _, qt := range []string{plugin.QueryTeamReview, plugin.QueryEmployeeReview} {
		f := ask(qt)
		cov, _ := json.Marshal(f.Meta.Custom)
		if !strings.Contains(string(cov), `"status":"incomplete"`) || !strings.Contains(string(cov), `"complete_through":"2026-09-15T00:00:00Z"`) {
			t.Errorf("%s: meta.custom %s, want the coverage", qt, cov)
		}
		var warned bool
		for _, n := range f.Meta.Notices {
			warned = warned || n.Severity == data.NoticeSeverityWarning && strings.Contains(n.Text, "fix: phonesignals sync --org acme --cycle 2026-09")
		}
		if !warned {
			t.Errorf("%s: no notice naming the fix: %+v", qt, f.Meta.Notices)
		}
	}
	// The floor (default 3): support (2) shows no median, sdr (3) does.
	checkFloor := func(floor int) {
		t.Helper()
		team := ask(plugin.QueryTeamReview)
		for i := 0; i < team.Rows(); i++ {
			below := at(team, "cohort", i) == "support" && floor > 2
			med := at(team, "total_calls_median", i).(*float64)
			reason := at(team, "median_na_reason", i).(string)
			if (med == nil) != below || (reason != "") != below {
				t.Errorf("floor %d, %s (%s): median %v reason %q", floor, at(team, "employee_id", i), at(team, "cohort", i), med, reason)
			}
		}
		base := ask(plugin.QueryCohortBaselines)
		for i := 0; i < base.Rows(); i++ {
			below := at(base, "cohort", i) == "support" && floor > 2
			med := at(base, "median_total_calls", i).(*float64)
			if (med == nil) != below || (at(base, "median_na_reason", i) != "") != below {
				t.Errorf("floor %d, baselines of %s: median %v reason %q", floor, at(base, "cohort", i), med, at(base, "median_na_reason", i))
			}
		}
	}
	checkFloor(store.DefaultMinCohort)
	one := 1
	if _, err := st.SetPrivacy(ctx, "acme", store.PrivacyChange{MinCohort: &one}); err != nil {
		t.Fatal(err)
	}
	checkFloor(1)

	// The sync finishes: complete, no notice about it.
	sep := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	if err := st.Checkpoints("acme").MarkDone(ctx, "j2", model.Window{From: sep.AddDate(0, 0, 14), To: sep.AddDate(0, 1, 0)}, 0); err != nil {
		t.Fatal(err)
	}
	c = ask(plugin.QueryCoverage)
	if at(c, "status", 0) != "complete" || at(c, "windows_missing", 0) != uint64(0) || at(c, "windows_failed", 0) != uint64(0) || at(c, "fix", 0) != "" {
		t.Errorf("coverage after the sync finished: %v", c.Fields)
	}
	for _, n := range ask(plugin.QueryTeamReview).Meta.Notices {
		if strings.Contains(n.Text, "incomplete") {
			t.Errorf("team review still warns: %s", n.Text)
		}
	}
}

// TestDashboardsShowCoverage: the team and employee dashboards show the
// cycle's coverage beside the numbers, and medians n/a when null.
func TestDashboardsShowCoverage(t *testing.T) {
	for _, d := range provisionedDashboards(t) {
		if d.UID != "phonesignals-team" && d.UID != "phonesignals-employee" {
			continue
		}
		var found bool
		for _, p := range d.Panels {
			for _, raw := range p.Targets {
				var q plugin.QueryModel
				if json.Unmarshal(raw, &q) == nil && q.QueryType == plugin.QueryCoverage {
					found = true
					if q.Cycle != "$cycle" || !strings.Contains(p.Description, "complete_through") {
						t.Errorf("%s: coverage panel %q reads cycle %q", d.file, p.Title, q.Cycle)
					}
				}
			}
			for _, o := range p.FieldConfig.Overrides {
				if !strings.HasSuffix(o.Matcher.Options, "_median") || strings.HasSuffix(o.Matcher.Options, "_vs_median") || p.Type == "timeseries" {
					continue // a difference shows empty; a null point is a gap
				}
				var na bool
				for _, pr := range o.Properties {
					na = na || pr.ID == "noValue" && string(pr.Value) == `"n/a"`
				}
				if !na {
					t.Errorf("%s panel %q: a null %s (below the privacy floor) does not show n/a", d.file, p.Title, o.Matcher.Options)
				}
			}
		}
		if !found {
			t.Errorf("%s shows no coverage", d.file)
		}
	}
}
