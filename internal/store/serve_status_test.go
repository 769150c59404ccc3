package store

import (
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// TestServeStatuses: one read gives every org, connected or not, with the
// newest row any serve replica wrote for it; other sync runs (a manual
// `sync`, written later) never stand in for a replica.
func TestServeStatuses(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	at := func(min int) time.Time { return time.Date(2026, 9, 20, 10, min, 0, 0, time.UTC) }
	type row struct {
		org, run, status, err string
		written, success      int // minutes past at(0)
	}
	orgs := []struct {
		name      string
		connected bool
		rows      []row
		want      row // the row serve status shows; run "" when none
	}{
		{name: "moved", connected: true, rows: []row{
			{"moved", "serve/r1/s1", "ok", "", 1, 0},
			{"moved", "serve/r1/s1", "error", "timeout: x (fix: y)", 3, 0},
			{"moved", "serve/r2/s9", "ok", "", 5, 4}, // r1 died, r2 took it
			{"moved", "cli-sync-1", "error", "manual", 9, 9},
		}, want: row{"moved", "serve/r2/s9", "ok", "", 5, 4}},
		{name: "failing", connected: true, rows: []row{
			{"failing", "serve/r3/s2", "auth_error", "auth: 401 (fix: org connect)", 2, 0},
		}, want: row{"failing", "serve/r3/s2", "auth_error", "auth: 401 (fix: org connect)", 2, 0}},
		{name: "manual", connected: true, rows: []row{{"manual", "cli-sync-2", "ok", "", 7, 7}}},
		{name: "unconnected"},
	}
	for _, o := range orgs {
		org := Org{Name: o.name, Provider: fixture.Aircall}
		if o.connected {
			org.Credentials = "sealed"
		}
		if err := ts.SaveOrg(ctx, org); err != nil {
			t.Fatal(err)
		}
		for _, r := range o.rows {
			if err := ts.RecordRun(ctx, Run{ID: r.run, Org: r.org, Provider: fixture.Aircall, Started: at(0), Finished: at(r.written),
				Window: model.Window{From: at(0), To: at(r.success)}, Status: r.status, Error: r.err}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := ts.ServeStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(orgs) {
		t.Fatalf("%d statuses, want one per org (%d): %+v", len(got), len(orgs), got)
	}
	byOrg := map[string]ServeStatus{}
	for i, g := range got {
		if i > 0 && got[i-1].Org >= g.Org {
			t.Errorf("statuses not ordered by org: %q before %q", got[i-1].Org, g.Org)
		}
		byOrg[g.Org] = g
	}
	for _, o := range orgs {
		g := byOrg[o.name]
		if g.Provider != fixture.Aircall || g.Connected != o.connected {
			t.Errorf("org %s: provider %q connected %v, want %q %v", o.name, g.Provider, g.Connected, fixture.Aircall, o.connected)
		}
		if g.RunID != o.want.run || g.Status != o.want.status || g.Error != o.want.err {
			t.Errorf("org %s: run %q status %q error %q, want %q %q %q", o.name, g.RunID, g.Status, g.Error, o.want.run, o.want.status, o.want.err)
		}
		if o.want.run != "" && (!g.Written.Equal(at(o.want.written)) || !g.LastSuccess.Equal(at(o.want.success))) {
			t.Errorf("org %s: written %s last success %s, want %s %s", o.name, g.Written, g.LastSuccess, at(o.want.written), at(o.want.success))
		}
	}
}
