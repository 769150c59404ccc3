package queries_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/queries"
)

// TestClusterDDLRendersEveryMigration: the cluster renderer has a rule for
// every statement of every migration, every table becomes a Replicated
// table in the local database plus a Distributed table of the same name,
// sharded by org where the table has one, and no statement still names an
// unqualified name ON CLUSTER. (The rendered DDL runs on a real 18.16
// cluster in internal/store's TestClusterMigrate; libchdb 26.7 has no
// ZooKeeper, so there it is only rendered.)
func TestClusterDDLRendersEveryMigration(t *testing.T) {
	r := &queries.ClusterDDL{Cluster: "ps", AllCluster: "ps_all", Database: "db"}
	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{queries.SchemaMigrations}
	for _, m := range migs {
		stmts = append(stmts, m.Statements...)
	}
	createTable := regexp.MustCompile(`(?is)^\s*(?:--[^\n]*\n\s*)*CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(\w+)\s*\((.*)\)\s*ENGINE`)
	orgColumn := regexp.MustCompile(`(?m)^\s*org\s+String\b`)
	tables := 0
	for _, stmt := range stmts {
		out, err := r.Render(stmt)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			if strings.Contains(o, " ON CLUSTER ") && !regexp.MustCompile(`(?i)^(CREATE|ALTER|DROP)\s+(TABLE|VIEW)\s+(IF\s+(NOT\s+)?EXISTS\s+)?db(_local)?\.\w+ ON CLUSTER ps(_all)?( |$)`).MatchString(o) {
				t.Errorf("rendered %q: want a qualified name ON CLUSTER ps or ps_all", firstLine(o))
			}
		}
		m := createTable.FindStringSubmatch(stmt)
		if m == nil {
			continue
		}
		tables++
		name := m[1]
		if len(out) < 2 {
			t.Fatalf("table %s rendered as %d statements, want 2", name, len(out))
		}
		wantPath := "'/clickhouse/tables/{shard}/db/" + name + "', '{replica}'"
		if !strings.HasPrefix(out[0], "CREATE TABLE IF NOT EXISTS db_local."+name+" ON CLUSTER ps ") || !strings.Contains(out[0], "ENGINE = Replicated") || !strings.Contains(out[0], wantPath) {
			t.Errorf("table %s's local table: %s", name, out[0])
		}
		key := "0" // no org column: every row on the first shard
		if orgColumn.MatchString(m[2]) {
			key = "cityHash64(org)"
		}
		if want := "CREATE TABLE IF NOT EXISTS db." + name + " ON CLUSTER ps AS db_local." + name + " ENGINE = Distributed(ps, db_local, " + name + ", " + key + ")"; out[1] != want {
			t.Errorf("table %s's Distributed table:\n got %s\nwant %s", name, out[1], want)
		}
	}
	if tables < 15 {
		t.Errorf("rendered %d tables, want every table of the migrations (at least 15)", tables)
	}
	if _, err := r.Render("RENAME TABLE a TO b"); err == nil || !strings.Contains(err.Error(), "ClusterDDL.Render") {
		t.Errorf("an unknown statement rendered without an error naming the fix: %v", err)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
