package main

import (
	"testing"

	"github.com/phonesignals/phonesignals/queries"
)

// TestCLIQueryUsage: `query list` names every documented query with its
// flags, and a wrong name or a missing or foreign flag is refused naming
// the fix. (The numbers are checked in checkQueryCommand.)
func TestCLIQueryUsage(t *testing.T) {
	e := newCLIEnv(t)
	e.ok(t, "migrate")
	list := e.ok(t, "query", "list")
	for _, d := range queries.DocumentedQueries() {
		mustContain(t, "query list", list, d.Name, d.Description)
	}
	mustContain(t, "query list", list, "--cycle --employee")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"query", "nope", "--org", "acme"}, []string{`no query "nope"`, "cycle_metrics", "query list"}},
		{[]string{"query", "review", "--org", "acme", "--cycle", "2026-09"}, []string{"query review needs --employee"}},
		{[]string{"query", "cohort_medians", "--org", "acme", "--cycle", "2026-09"}, []string{"query cohort_medians takes no --cycle"}},
		{[]string{"query", "cycle_metrics", "--cycle", "2026-09"}, []string{"--org is required"}},
		{[]string{"query", "--org", "acme"}, []string{"want one NAME"}},
	} {
		_, err := e.fail(t, tc.args...)
		mustContain(t, "phonesignals "+tc.args[1], err.Error(), tc.want...)
	}
}
