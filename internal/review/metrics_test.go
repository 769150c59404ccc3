package review

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/internal/model"
)

// TestBindings: every metric of model.ReviewMetrics reads from the store's
// rows, with exactly the medians and availability column its entry says,
// and no binding is left for a metric the table no longer has.
func TestBindings(t *testing.T) {
	names := map[string]bool{}
	for _, mt := range model.ReviewMetrics {
		if names[mt.Name] {
			t.Errorf("%s is listed twice", mt.Name)
		}
		names[mt.Name] = true
		b, ok := bindings[mt.Name]
		if !ok || b.value == nil {
			t.Errorf("%s has no binding to the store's rows", mt.Name)
			continue
		}
		if (b.cohort != nil) != mt.CohortMedian {
			t.Errorf("%s: cohort median bound %v, entry says %v", mt.Name, b.cohort != nil, mt.CohortMedian)
		}
		if (b.base != nil) != mt.Baseline {
			t.Errorf("%s: baseline median bound %v, entry says %v", mt.Name, b.base != nil, mt.Baseline)
		}
		if _, ok := availability[mt.Available]; mt.Available != "" && !ok {
			t.Errorf("%s: availability column %s is not read", mt.Name, mt.Available)
		}
		if len(mt.Definition) < 40 || mt.Title == "" {
			t.Errorf("%s: no title or definition", mt.Name)
		}
		if strings.ContainsAny(mt.Definition, "|\n") {
			t.Errorf("%s: the definition holds a | or a newline, which would break the README's table", mt.Name)
		}
	}
	for name := range bindings {
		if !names[name] {
			t.Errorf("binding %s is no metric of model.ReviewMetrics", name)
		}
	}
}

// Markers around the README's definitions table.
const (
	tableStart = "<!-- review metrics: generated from internal/model/metrics.go; go test ./internal/review -update rewrites it -->\n"
	tableEnd   = "<!-- end of review metrics -->\n"
)

// definitionsTable is the README's table: a row per metric, then one for
// the baseline medians (blank lines keep the markers out of the table).
func definitionsTable() string {
	var b strings.Builder
	b.WriteString("\n| metric | definition |\n|---|---|\n")
	for _, mt := range model.ReviewMetrics {
		b.WriteString("| `" + mt.Name + "` | " + mt.Definition + " |\n")
	}
	var meds []string
	for _, mt := range Baselines(model.ReviewMetrics) {
		meds = append(meds, "`"+mt.MedianName()+"`")
	}
	b.WriteString("| " + strings.Join(meds, ", ") + " | " + model.MedianDefinition +
		" n/a (JSON `null`, CSV `n/a`) below the org's minimum cohort size ([Privacy](#privacy-minimum-cohort-erasure-retention)). |\n\n")
	return b.String()
}

// TestReadmeDefinitions: the README's definitions table is the one
// model.ReviewMetrics renders; -update rewrites it between its markers.
func TestReadmeDefinitions(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, tableStart), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no definitions table between %q and %q", tableStart, tableEnd)
	}
	got, want := readme[i+len(tableStart):j], definitionsTable()
	if *update && got != want {
		readme = readme[:i+len(tableStart)] + want + readme[j:]
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		got = want
	}
	if got != want {
		t.Errorf("README.md's definitions table differs from model.ReviewMetrics: run go test ./internal/review -update\ngot:\n%s\nwant:\n%s", got, want)
	}
}
