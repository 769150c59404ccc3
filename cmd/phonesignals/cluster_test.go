package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/localserver/chcluster"
	"github.com/phonesignals/phonesignals/internal/localserver/chcluster/chclustertest"
	"github.com/phonesignals/phonesignals/internal/store"
)

// TestClusterCLI runs the CLI with --cluster against a 2 × 2 ClickHouse
// 18.16 cluster: migrate twice (the second a no-op), an org added and
// connected through one node and read back through every other, its row
// on exactly one shard (both of its replicas), none on the other.
func TestClusterCLI(t *testing.T) {
	c := chclustertest.ForTest(t)
	t.Setenv("PHONESIGNALS_MASTER_KEY", testMasterKey)
	dataDir := t.TempDir()
	run := func(addr string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		app := newApp()
		app.ExitErrHandler = func(*cli.Context, error) {}
		full := append([]string{"phonesignals", "--clickhouse", addr, "--cluster", chcluster.Name, "--data-dir", dataDir, "--log-level", "warn"}, args...)
		var err error
		out := captureStdout(t, func() { err = runApp(ctx, app, full) })
		if err != nil {
			t.Fatalf("phonesignals %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	nodes := c.Nodes()
	mustContain(t, "first migrate", run(nodes[0].Addr(), "migrate"), "applied migrations")
	mustContain(t, "second migrate", run(nodes[1].Addr(), "migrate"), "is up to date")
	if out := run(nodes[0].Addr(), "org", "add", "--org", "acme", "--provider", "aircall"); out != "org acme added with provider aircall\n" {
		t.Fatalf("org add printed %q", out)
	}
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", "tok-secret\n")
	run(nodes[2].Addr(), "org", "connect", "--org", "acme", "--api-id", "id-1", "--api-token-file", tokenFile, "--api-url", "http://127.0.0.1:9/v1", "--no-verify")

	ctx := context.Background()
	holders := map[int]uint64{}
	for i, n := range nodes {
		st, err := store.Open(ctx, store.Config{Addr: n.Addr(), NoCreate: true, Cluster: chcluster.Name})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		o, err := st.GetOrg(ctx, "acme")
		if err != nil {
			t.Fatalf("node %s: reading org acme through Distributed: %v", n.Name(), err)
		}
		if o.APIURL != "http://127.0.0.1:9/v1" || o.Credentials == "" {
			t.Errorf("node %s: org acme = %+v, want it connected", n.Name(), o)
		}
		if err := st.Conn().Exec(ctx, "SYSTEM SYNC REPLICA phonesignals_local.orgs"); err != nil {
			t.Fatal(err)
		}
		var local uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM phonesignals_local.orgs WHERE org = 'acme'").Scan(&local); err != nil {
			t.Fatal(err)
		}
		holders[i] = local
	}
	var shards []string
	for i, n := range nodes {
		shards = append(shards, fmt.Sprintf("%s:%d", n.Name(), holders[i]))
	}
	s1, s2 := holders[0] > 0 && holders[1] > 0, holders[2] > 0 && holders[3] > 0
	if s1 == s2 || holders[0] != holders[1] || holders[2] != holders[3] {
		t.Errorf("org acme's rows per node %v: want them on both replicas of one shard and nowhere else", shards)
	}
}
