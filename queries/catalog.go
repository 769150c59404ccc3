package queries

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Documented is one of the review queries an analyst can run or print
// with `phonesignals query NAME`: the SQL the review and the Grafana
// plugin run, with its fragments expanded, whose named parameters are all
// strings.
type Documented struct {
	// Name is the query's name, its file's without .sql.
	Name string
	// Description says what one row is.
	Description string
	// SQL is the rendered query, with named parameters (@org, @dirty...).
	SQL string
}

// DirtyParam is the named parameter that lists the org's days not
// aggregated yet (DirtyDaysOfOrg gives its value).
const DirtyParam = "dirty"

// DocumentedQueries are the queries `phonesignals query` knows, by name.
func DocumentedQueries() []Documented {
	return []Documented{
		{"review", "one employee's review numbers in a cycle (the [PHONE DATA] block and the talk-time lines)", Review},
		{"cycle_metrics", "every employee's review numbers in a cycle, one row per employee", CycleMetrics},
		{"baseline", "one cohort's size and medians in a cycle (the [BASELINES] block)", Baseline},
		{"cycle_baselines", "every cohort's size and medians in a cycle, one row per cohort", CycleBaselines},
		{"cohort_medians", "per cycle and cohort of the org: the median of each review number", CohortMedians},
		{"employee_trend", "one employee's review numbers in every cycle of the org, oldest first", EmployeeTrend},
	}
}

// LookupDocumented returns the documented query name, or an error listing
// the names.
func LookupDocumented(name string) (Documented, error) {
	var names []string
	for _, d := range DocumentedQueries() {
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return Documented{}, fmt.Errorf("no query %q: want one of %s (phonesignals query list)", name, strings.Join(names, ", "))
}

var paramRe = regexp.MustCompile(`@([A-Za-z_][A-Za-z0-9_]*)`)

// Params are the named parameters of d's SQL outside comments, sorted.
func (d Documented) Params() []string {
	var out []string
	for _, line := range strings.Split(d.SQL, "\n") {
		for _, m := range paramRe.FindAllStringSubmatch(code(line), -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	slices.Sort(out)
	return out
}

// code is line without its -- comment (the queries hold no "--" in
// string literals).
func code(line string) string {
	if i := strings.Index(line, "--"); i >= 0 {
		return line[:i]
	}
	return line
}

// Bind returns d's SQL with every named parameter replaced by its value
// as a quoted string literal, so it runs as written in clickhouse-client;
// a parameter without a value is an error naming it.
func (d Documented) Bind(values map[string]string) (string, error) {
	for _, p := range d.Params() {
		if _, ok := values[p]; !ok {
			return "", fmt.Errorf("query %s needs a value for @%s", d.Name, p)
		}
	}
	lines := strings.Split(d.SQL, "\n")
	for i, line := range lines {
		c := code(line)
		lines[i] = paramRe.ReplaceAllStringFunc(c, func(m string) string {
			return quote(values[m[1:]])
		}) + line[len(c):]
	}
	return strings.Join(lines, "\n"), nil
}
