package plugin_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// TestSyncStatusServeOwner: the freshness dashboard's owner columns name
// the replica of the org's newest serve status run (not an older
// replica's, not a manual sync's), its last success and how far behind it
// is, mark an owner that stopped writing stale, and say when no replica
// follows the org.
func TestSyncStatusServeOwner(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := chservertest.Shared(t)
	db := chservertest.Database(t, srv)
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	runs := map[string][]store.Run{
		// replica-a followed acme until it died; replica-b took over and
		// writes every minute; a manual sync ran after both.
		"acme": {
			{ID: "serve/replica-a/s1", Started: at(0), Finished: at(20), Window: model.Window{From: at(0), To: at(19)}, Status: "ok"},
			{ID: "serve/replica-b/s7", Started: at(21), Finished: at(40), Window: model.Window{From: at(0), To: at(38)}, Status: "error", Error: "timeout: round took too long (fix: check the provider)"},
			{ID: "sync-manual-1", Started: at(41), Finished: at(42), Window: model.Window{From: at(0), To: at(41)}, Status: "ok"},
		},
		// Only a manual sync: no replica follows globex.
		"globex": {{ID: "sync-manual-2", Started: at(0), Finished: at(5), Window: model.Window{From: at(0), To: at(5)}, Status: "ok"}},
	}
	for org, rs := range runs {
		if _, err := st.AddOrg(ctx, org, fixture.Aircall); err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			r.Org, r.Provider = org, fixture.Aircall
			if err := st.RecordRun(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name, org string
		now       time.Time
		owner     string
		behind    *float64
		status    string
	}{
		{"newest replica wins", "acme", at(41), "replica-b", ptr(3 * 60), "error"},
		{"owner silent for over 3 minutes", "acme", at(44), "replica-b (stale)", ptr(6 * 60), "error"},
		{"not followed", "globex", at(41), "not followed by serve", nil, "-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, _ := json.Marshal(map[string]string{"clickhouse": srv.Addr(), "database": db, "org": c.org})
			inst, err := plugin.NewDatasource(ctx, backend.DataSourceInstanceSettings{Name: c.org, JSONData: raw})
			if err != nil {
				t.Fatal(err)
			}
			d := inst.(*plugin.Datasource)
			defer d.Dispose()
			resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "S",
				JSON: json.RawMessage(`{"queryType":"` + plugin.QuerySyncStatus + `"}`), TimeRange: backend.TimeRange{From: base, To: c.now}}}})
			if err != nil {
				t.Fatal(err)
			}
			f := frame(t, resp, "S")
			col := func(n string) any {
				fl, _ := f.FieldByName(n)
				if fl == nil {
					t.Fatalf("no field %s in %v", n, f.Fields)
				}
				return fl.At(0)
			}
			behind := col("serve_seconds_behind").(*float64)
			if col("owner_replica") != c.owner || col("serve_status") != c.status || (behind == nil) != (c.behind == nil) ||
				(behind != nil && *behind != *c.behind) {
				t.Errorf("owner %v, status %v, behind %v; want %s, %s, %v", col("owner_replica"), col("serve_status"), derefF(behind), c.owner, c.status, derefF(c.behind))
			}
		})
	}
}

func ptr(f float64) *float64 { return &f }
