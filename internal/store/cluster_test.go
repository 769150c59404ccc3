package store

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/localserver/chcluster"
	"github.com/phonesignals/phonesignals/internal/localserver/chcluster/chclustertest"
	"github.com/phonesignals/phonesignals/queries"
)

// TestClusterMigrate: migrate on a 2 × 2 cluster creates, on every node,
// a Replicated table in phonesignals_local and a Distributed table of the
// same name in phonesignals for every table of the single-server schema,
// and the views; a second migrate applies nothing.
func TestClusterMigrate(t *testing.T) {
	c := chclustertest.ForTest(t)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(c.Nodes()[0].Dir + "/log/server.err.log")
			t.Log(string(b[max(0, len(b)-3000):]))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := Config{Addr: c.Nodes()[0].Addr(), Cluster: chcluster.Name, ClusterAll: chcluster.AllName}
	st, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if len(applied) != len(migs) {
		t.Fatalf("first migrate applied %v, want all %d migrations", applied, len(migs))
	}
	again, err := st.Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v (err %v), want nothing", again, err)
	}
	var schema []string
	for i, n := range c.Nodes() {
		ns, err := Open(ctx, Config{Addr: n.Addr(), NoCreate: true, Cluster: chcluster.Name})
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		var rows []struct {
			Database string `ch:"database"`
			Name     string `ch:"name"`
			Engine   string `ch:"engine"`
		}
		if err := ns.Conn().Select(ctx, &rows, "SELECT database, name, engine FROM system.tables WHERE database IN ('phonesignals', 'phonesignals_local') ORDER BY database, name"); err != nil {
			t.Fatal(err)
		}
		var got []string
		locals, dists := map[string]bool{}, map[string]bool{}
		for _, r := range rows {
			got = append(got, r.Database+"."+r.Name+" "+r.Engine)
			switch {
			case r.Database == "phonesignals_local" && strings.HasPrefix(r.Engine, "Replicated"):
				locals[r.Name] = true
			case r.Database == "phonesignals" && r.Engine == "Distributed":
				dists[r.Name] = true
			case r.Engine == "View": // in both databases: route.go reads the local ones
			default:
				t.Errorf("node %s: unexpected %s.%s %s", n.Name(), r.Database, r.Name, r.Engine)
			}
		}
		if len(locals) == 0 || len(locals) != len(dists) {
			t.Errorf("node %s: %d Replicated and %d Distributed tables, want the same non-zero number", n.Name(), len(locals), len(dists))
		}
		for name := range locals {
			if !dists[name] {
				t.Errorf("node %s: Replicated %s has no Distributed table", n.Name(), name)
			}
		}
		if i == 0 {
			schema = got
		} else if strings.Join(got, "\n") != strings.Join(schema, "\n") {
			t.Errorf("node %s's schema differs from node %s's:\n%s\nvs\n%s", n.Name(), c.Nodes()[0].Name(), strings.Join(got, "\n"), strings.Join(schema, "\n"))
		}
		var n2 uint64
		if err := ns.Conn().QueryRow(ctx, "SELECT count() FROM calls_current").Scan(&n2); err != nil {
			t.Errorf("node %s: reading the view calls_current: %v", n.Name(), err)
		}
	}
}
