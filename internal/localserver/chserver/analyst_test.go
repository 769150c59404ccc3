package chserver

import (
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/queries"
)

// TestAnalystUser: on a migrated 18.16 server with Config.Analyst, user
// analyst reads the analyst objects (queries/analyst/local_table.sql in
// its own database, with the numbers the phonesignals views give) and is
// refused on orgs, on every other table of the phonesignals database, on
// table functions and on writes.
func TestAnalystUser(t *testing.T) {
	needBinary(t)
	ctx := testContext(t)
	const db, analystDB = "phonesignals", "phonesignals_analyst"
	s, err := Start(ctx, Config{Dir: t.TempDir(), Password: "default-secret",
		Analyst: &Analyst{Password: "analyst-secret", Database: analystDB}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	admin, err := clickhouse.Open(&clickhouse.Options{Addr: []string{s.Addr()},
		Auth: clickhouse.Auth{Database: "default", Username: "default", Password: "default-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, stmt := range []string{"CREATE DATABASE " + db, "CREATE DATABASE " + analystDB} {
		if err := admin.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	admin.Close()
	admin, err = clickhouse.Open(&clickhouse.Options{Addr: []string{s.Addr()},
		Auth: clickhouse.Auth{Database: db, Username: "default", Password: "default-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migs {
		for _, stmt := range m.Statements {
			if err := admin.Exec(ctx, stmt); err != nil {
				t.Fatalf("migration %03d_%s: %v\n%s", m.Version, m.Name, err, stmt)
			}
		}
	}
	for _, obj := range queries.AnalystObjects {
		for _, stmt := range queries.SplitStatements(queries.RenderAnalyst(queries.AnalystLocalTable, analystDB, db, obj)) {
			if err := admin.Exec(ctx, stmt); err != nil {
				t.Fatalf("analyst table %s: %v\n%s", obj, err, stmt)
			}
		}
	}
	if err := admin.Exec(ctx, `INSERT INTO cycles (org, cycle_id, period_start, period_end, version)
		SELECT 'acme', '2026-09', toDateTime('2026-09-01 00:00:00', 'UTC'), toDateTime('2026-10-01 00:00:00', 'UTC'), 1`); err != nil {
		t.Fatal(err)
	}

	analyst, err := clickhouse.Open(&clickhouse.Options{Addr: []string{s.Addr()},
		Auth: clickhouse.Auth{Database: analystDB, Username: "analyst", Password: "analyst-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer analyst.Close()
	for _, obj := range queries.AnalystObjects {
		var n uint64
		if err := analyst.QueryRow(ctx, "SELECT count() FROM "+obj+" WHERE org = 'acme'").Scan(&n); err != nil {
			t.Errorf("analyst reading %s.%s: %v", analystDB, obj, err)
		}
		if want := uint64(strings.Count(obj, "cycles_current")); n != want {
			t.Errorf("analyst: %s has %d rows of acme, want %d", obj, n, want)
		}
	}
	for _, tc := range []struct{ stmt, refusal string }{
		{"SELECT count() FROM " + db + ".orgs", "Access denied to database " + db},
		{"SELECT count() FROM " + db + ".employee_cycle_metrics", "Access denied to database " + db},
		{"SELECT count() FROM " + db + ".sync_runs", "Access denied to database " + db},
		{"SELECT count() FROM remote('127.0.0.1', " + db + ", orgs)", "readonly"},
		{"DROP TABLE cycles_current", "readonly"},
		{"SET readonly = 0", "readonly"},
	} {
		err := analyst.Exec(ctx, tc.stmt)
		if err == nil || !strings.Contains(err.Error(), tc.refusal) {
			t.Errorf("analyst: %s: got %v, want a refusal naming %q", tc.stmt, err, tc.refusal)
		}
	}
}
