package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
	"github.com/phonesignals/phonesignals/grafana/provision"
	"github.com/phonesignals/phonesignals/grafana/provision/grafanatest"
)

// TestCLIGrafanaProvision runs `grafana provision` against the orgs in
// ClickHouse and a stand-in Grafana that applies the files.
func TestCLIGrafanaProvision(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	g := grafanatest.New(dir, "admin", "s3cret", "alice")
	t.Cleanup(g.Close)
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "add", "--org", "globex", "--provider", "ringcentral")
	pw := writeFile(t, dir, "pw", "s3cret\n")
	managers := writeFile(t, dir, "managers.csv", "org,login\nglobex,alice\n")
	out := e.ok(t, "grafana", "provision", "--grafana-url", g.URL, "--grafana-password-file", pw, "--out", dir,
		"--managers", managers, "--datasource-kafka", "redpanda:9092", "--datasource-clickhouse", "ch.example:9440", "--datasource-tls")
	mustContain(t, "grafana provision", out, "org acme: Grafana organization 2, data source phonesignals-acme",
		"org globex: Grafana organization 3", "1 managers added")
	if got := g.Reachable("alice", plugin.ID); len(got) != 1 || got[0] != "phonesignals-globex@globex" {
		t.Errorf("alice reaches %v, want globex's data source only", got)
	}
	raw, err := os.ReadFile(filepath.Join(dir, provision.DatasourcesFileName))
	if err != nil || !strings.Contains(string(raw), "orgId: 3") || !strings.Contains(string(raw), "kafka: redpanda:9092") ||
		!strings.Contains(string(raw), "password: $PHONESIGNALS_CLICKHOUSE_PASSWORD") || !strings.Contains(string(raw), "tls: true") {
		t.Errorf("data source file %s (%v)", raw, err)
	}
	_, err = e.fail(t, "grafana", "provision", "--grafana-url", g.URL, "--out", dir)
	if err == nil || !strings.Contains(err.Error(), "grafana password: empty") {
		t.Errorf("without a password: %v", err)
	}
}
