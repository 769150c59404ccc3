package queries_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/queries"
)

// TestFragmentsRenderThePreviousSQL compares each query that names shared
// fragments with its text from before the blocks were shared
// (testdata/prerefactor), whitespace and comment lines normalised away:
// sharing a block must not change a byte of meaning on either ClickHouse.
// A golden changes only with a change of meaning made on purpose, whose
// numbers the portability, store, review and e2e tests check (review,
// cycle_metrics, employee_trend and cohort_medians: escalation
// availability from the stored column, not from the org's provider).
func TestFragmentsRenderThePreviousSQL(t *testing.T) {
	cases := []struct {
		file string
		sql  string
	}{
		{"review.sql", queries.Review},
		{"cycle_metrics.sql", queries.CycleMetrics},
		{"baseline.sql", queries.Baseline},
		{"cycle_baselines.sql", queries.CycleBaselines},
		{"cohort_medians.sql", queries.CohortMedians},
		{"employee_trend.sql", queries.EmployeeTrend},
		{"calls_weekly.sql", queries.CallsWeekly},
		{"escalated_by_employee.sql", queries.EscalatedByEmployee},
		{"forget_plan.sql", queries.ForgetPlan},
		{"retention_plan.sql", queries.RetentionPlan},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			golden, err := os.ReadFile(filepath.Join("testdata", "prerefactor", c.file+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(raw), "{") {
				t.Errorf("%s names no fragment: it no longer shares its blocks", c.file)
			}
			if m := markerRE.FindString(c.sql); m != "" {
				t.Errorf("the variable of %s still holds the marker %s", c.file, m)
			}
			if got, want := sqlWords(c.sql), sqlWords(string(golden)); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s renders to other SQL than before the refactor:\n%s", c.file, firstDifference(got, want))
			}
		})
	}
}

// markerRE finds a {marker} left in rendered SQL.
var markerRE = regexp.MustCompile(`\{\??\w+[ }]`)

// sqlWords returns the words of sql outside its comment lines, each
// parenthesis a word of its own: a fragment on a line of its own puts a
// line break where the query had "(SELECT", which changes no meaning.
func sqlWords(sql string) []string {
	var words []string
	for _, line := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			words = append(words, strings.Fields(parens.Replace(line))...)
		}
	}
	return words
}

var parens = strings.NewReplacer("(", " ( ", ")", " ) ")

// firstDifference names the first word where two word lists part.
func firstDifference(got, want []string) string {
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			return "word " + strconv.Itoa(i) + ": got " + got[i] + ", want " + want[i]
		}
	}
	return "lengths " + strconv.Itoa(len(got)) + " (got) and " + strconv.Itoa(len(want)) + " (want)"
}

// TestRenderRejectsUnknownFragment: a marker naming no file is an error
// that names the missing file, not SQL sent with a marker in it.
func TestRenderRejectsUnknownFragment(t *testing.T) {
	_, err := queries.Render("SELECT 1 FROM\n(\n    {no_such_block}\n)")
	if err == nil || !strings.Contains(err.Error(), "queries/fragments/no_such_block.sql") {
		t.Fatalf("Render with an unknown marker: err = %v, want one naming queries/fragments/no_such_block.sql", err)
	}
}

// TestRenderSlots: a marker fills the fragment's slots with its text, a
// slot left unfilled is empty, a fragment's own markers are rendered too,
// and filling a slot the fragment does not have is an error naming it.
func TestRenderSlots(t *testing.T) {
	tests := []struct {
		name, marker, want, wantErr string
	}{
		{"filled", `{mapped_roster employees=" AND employee_id = @employee"}`, "WHERE org = @org AND employee_id = @employee", ""},
		{"unfilled", `{mapped_roster}`, "WHERE org = @org\n", ""},
		{"nested", `{mapped_roster}`, "min(employee_id) AS owner", ""},
		{"unknown slot", `{mapped_roster cohort=" AND x = 1"}`, "", "slot cohort of fragment {mapped_roster}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := queries.Render("SELECT *\nFROM\n(\n    " + tc.marker + "\n)")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, tc.want) || markerRE.MatchString(got) {
				t.Fatalf("rendered SQL lacks %q or keeps a marker:\n%s", tc.want, got)
			}
		})
	}
}

// TestRenderInline: a one-line fragment renders inside a line, a
// multi-line one there is an error, and a per-call marker ({days}) is left
// for its Render function.
func TestRenderInline(t *testing.T) {
	tests := []struct {
		name, sql, want, wantErr string
	}{
		{"one-line fragment", `WHERE started_at >= {cycle_bound bound="period_start"}`, "WHERE started_at >= (SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)", ""},
		{"per-call marker", "WHERE day IN ({days})", "WHERE day IN ({days})", ""},
		{"comment line", "-- names {mapped_roster}\nSELECT 1", "-- names {mapped_roster}\nSELECT 1", ""},
		{"own line with comma", "SELECT\n    {count_sums},\n    1", "sum(answer_wait) AS answer_sum,\n    1", ""},
		{"multi-line inside a line", "SELECT * FROM ({mapped_roster})", "", "fragment {mapped_roster} has several lines"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := queries.Render(tc.sql)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("rendered SQL lacks %q:\n%s", tc.want, got)
			}
		})
	}
}

// TestNoProviderNamed: escalation availability (and every other number)
// comes from what the decoders stored, so no read query and no view as the
// migrations leave it names a provider. Frozen migrations may name one in
// a view a later migration replaces, or in a column default.
func TestNoProviderNamed(t *testing.T) {
	providers := regexp.MustCompile(`(?i)'(ringcentral|aircall)'`)
	for name, sql := range map[string]string{"review.sql": queries.Review, "cycle_metrics.sql": queries.CycleMetrics,
		"baseline.sql": queries.Baseline, "cycle_baselines.sql": queries.CycleBaselines, "cohort_medians.sql": queries.CohortMedians,
		"employee_trend.sql": queries.EmployeeTrend, "calls_weekly.sql": queries.CallsWeekly, "escalated_by_employee.sql": queries.EscalatedByEmployee} {
		if m := providers.FindString(sql); m != "" {
			t.Errorf("%s names provider %s", name, m)
		}
	}
	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	view := regexp.MustCompile(`(?i)^CREATE VIEW (?:IF NOT EXISTS )?(\w+)`)
	last := map[string]string{} // view name -> its newest definition
	for _, m := range migs {
		for _, stmt := range m.Statements {
			if v := view.FindStringSubmatch(stmt); v != nil {
				last[v[1]] = stmt
			}
		}
	}
	if last["employee_cycle_metrics"] == "" {
		t.Fatal("no migration creates employee_cycle_metrics")
	}
	for name, stmt := range last {
		if m := providers.FindString(stmt); m != "" {
			t.Errorf("view %s, as the migrations leave it, names provider %s", name, m)
		}
		if m := markerRE.FindString(stmt); m != "" {
			t.Errorf("view %s keeps the marker %s", name, m)
		}
	}
}
