package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// pkg is the part of `go list -json` the dependency checks read.
type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// moduleGraph returns every package the module's packages depend on, by
// import path.
func moduleGraph(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Standard", "./...")
	cmd.Dir = moduleRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	graph := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		graph[p.ImportPath] = p
	}
	return graph
}

// linked returns the module packages root links, with the path to each.
func linked(graph map[string]pkg, root string) map[string][]string {
	paths := map[string][]string{root: {root}}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range graph[p].Imports {
			if _, seen := paths[imp]; seen || !strings.HasPrefix(imp, module+"/") {
				continue
			}
			paths[imp] = append(append([]string(nil), paths[p]...), imp)
			queue = append(queue, imp)
		}
	}
	return paths
}

// TestProductionLinksNoTestCode fails when a production package links a
// test double (a …test package), the fixture generator, the demo, or the
// testing package itself (the demo is its own binary, phonesignals-demo,
// which is test support). testing linked by a
// third-party module (the Grafana SDK's go-plugin) does not count: only
// the module's own imports are followed.
func TestProductionLinksNoTestCode(t *testing.T) {
	graph := moduleGraph(t)
	var bad []string
	for _, root := range productionPackages(t) {
		paths := linked(graph, root)
		for p, path := range paths {
			if isTestPackage(p) {
				bad = append(bad, root+" links test code "+p+" via "+strings.Join(path, " -> "))
			}
			for _, imp := range graph[p].Imports {
				if imp == "testing" || strings.HasPrefix(imp, "testing/") || imp == "net/http/httptest" {
					bad = append(bad, root+" links "+imp+" via "+strings.Join(path, " -> "))
				}
			}
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// TestGrafanaPluginLinksNoConnector keeps the Grafana plugin's binary to
// the store, the queries and the model: no ingest/ package.
func TestGrafanaPluginLinksNoConnector(t *testing.T) {
	graph := moduleGraph(t)
	for p, path := range linked(graph, module+"/grafana/pkg") {
		if strings.HasPrefix(p, module+"/ingest") || strings.HasPrefix(p, module+"/transform") || strings.HasPrefix(p, module+"/load") {
			t.Errorf("grafana/pkg links %s via %s", p, strings.Join(path, " -> "))
		}
	}
}
