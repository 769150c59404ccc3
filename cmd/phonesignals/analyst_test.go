package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
)

// TestCLIMigrateLocalAnalyst: `migrate` on the local server leaves a
// read-only analyst user (users.xml) reading the analyst views from its
// own database, with a 0600 clickhouse-client config, refused on orgs and
// the operations tables; a second migrate keeps it. Before, nothing in the
// product created the analyst user.
func TestCLIMigrateLocalAnalyst(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel) // after the server's stop below: cleanups run last first
	t.Setenv("PHONESIGNALS_MASTER_KEY", testMasterKey)
	run := func(args ...string) string {
		t.Helper()
		app := newApp()
		app.ExitErrHandler = func(*cli.Context, error) {}
		var err error
		out := captureStdout(t, func() {
			err = runApp(ctx, app, append([]string{"phonesignals", "--data-dir", dataDir, "--log-level", "warn"}, args...))
		})
		if err != nil {
			t.Fatalf("phonesignals %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	t.Cleanup(func() { run("clickhouse", "stop") })
	cfgPath := filepath.Join(dataDir, "clickhouse", "analyst-client.xml")
	for i := range 2 {
		out := run("migrate")
		mustContain(t, "migrate", out, "read-only analyst user: clickhouse-client --config-file "+cfgPath+" -d phonesignals_analyst")
		if fi, err := os.Stat(cfgPath); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("migrate %d: %s: %v, mode %v; want 0600", i+1, cfgPath, err, fi.Mode().Perm())
		}
	}
	run("org", "add", "--org", "acme", "--provider", "aircall")
	run("cycles", "add", "--org", "acme", "--cycle", "2026-09", "--start", "2026-09-01", "--end", "2026-10-01")

	srv, err := chserver.Lookup(ctx, filepath.Join(dataDir, "clickhouse"))
	if err != nil {
		t.Fatal(err)
	}
	pw, err := os.ReadFile(filepath.Join(dataDir, "clickhouse", "analyst.password"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(cfgPath)
	if err != nil || !strings.Contains(string(cfg), "<user>analyst</user>") || !strings.Contains(string(cfg), strings.TrimSpace(string(pw))) {
		t.Fatalf("%s does not connect as analyst (%v):\n%s", cfgPath, err, cfg)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{srv.Addr()},
		Auth: clickhouse.Auth{Database: "phonesignals_analyst", Username: "analyst", Password: strings.TrimSpace(string(pw))}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM cycles_current WHERE org = 'acme'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("analyst reading cycles_current: %d rows, %v; want 1", n, err)
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM employee_cycle_metrics WHERE org = 'acme' AND cycle_id = '2026-09'").Scan(&n); err != nil {
		t.Fatalf("analyst reading employee_cycle_metrics: %v", err)
	}
	for _, q := range []string{"SELECT count() FROM phonesignals.orgs", "SELECT count() FROM phonesignals.sync_runs", "DROP TABLE cycles_current"} {
		if err := conn.Exec(ctx, q); err == nil {
			t.Errorf("analyst: %s was allowed", q)
		}
	}
}

// TestCLIMigrateAnalystUserNeedsAccessControl: with --clickhouse, a given
// analyst password makes migrate create user analyst by SQL; ClickHouse
// 18.16 has no CREATE USER, and the error says where the user goes there.
// Without a password migrate creates no user.
func TestCLIMigrateAnalystUserNeedsAccessControl(t *testing.T) {
	e := newCLIEnv(t)
	if out := e.ok(t, "migrate"); strings.Contains(out, "analyst") {
		t.Fatalf("migrate without an analyst password mentions an analyst user:\n%s", out)
	}
	_, err := e.fail(t, "migrate", "--analyst-password-file", writeFile(t, t.TempDir(), "pw", "analyst-pw-1\n"))
	mustContain(t, "migrate --analyst-password-file on 18.16", err.Error(), "creating the analyst user", "SQL access control", "users.xml")
	if strings.Contains(err.Error(), "analyst-pw-1") {
		t.Errorf("the error shows the analyst password: %v", err)
	}
}
