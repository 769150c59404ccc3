package queries

import (
	"strconv"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

// RenderDayKeys fills the {orgs} and {org_days} markers of OrgDays with
// literal lists of keys, and returns the statement and the [from, to)
// range of the keys' days. Org names
// are quoted as ClickHouse string literals; days are written as
// toDate('YYYY-MM-DD'). Literals rather than bound slices: clickhouse-go
// cannot bind a slice into IN on 18.16, and a tuple list keeps the sort key
// usable. keys must not be empty.
func RenderDayKeys(stmt string, keys []model.DayKey) (sql string, from, to time.Time) {
	var orgs, days strings.Builder
	seen := map[string]bool{}
	for i, k := range keys {
		day := model.DayOf(k.Day)
		if i == 0 || day.Before(from) {
			from = day
		}
		if end := day.AddDate(0, 0, 1); end.After(to) {
			to = end
		}
		lit := quote(k.Org)
		if !seen[k.Org] {
			if len(seen) > 0 {
				orgs.WriteString(", ")
			}
			seen[k.Org] = true
			orgs.WriteString(lit)
		}
		if i > 0 {
			days.WriteString(", ")
		}
		days.WriteString("(" + lit + ", toDate('" + day.Format(time.DateOnly) + "'))")
	}
	r := strings.NewReplacer("{orgs}", orgs.String(), "{org_days}", days.String())
	return r.Replace(stmt), from, to
}

// RenderDays fills the {days} marker of RefreshDays or RefreshOrg with the
// literal list of days (toDate('YYYY-MM-DD'), UTC), and returns the
// statement and the [from, to) range of the days for its @from and @to.
// The file's leading comment lines are dropped: they name the parameters,
// and a bound org name holding a line break would end a comment line.
// days must not be empty.
func RenderDays(stmt string, days []time.Time) (sql string, from, to time.Time) {
	for strings.HasPrefix(stmt, "--") {
		_, stmt, _ = strings.Cut(stmt, "\n")
	}
	var list strings.Builder
	for i, d := range days {
		day := model.DayOf(d)
		if i == 0 || day.Before(from) {
			from = day
		}
		if end := day.AddDate(0, 0, 1); end.After(to) {
			to = end
		}
		if i > 0 {
			list.WriteString(", ")
		}
		list.WriteString("toDate('" + day.Format(time.DateOnly) + "')")
	}
	return strings.ReplaceAll(stmt, "{days}", list.String()), from, to
}

// RenderIntervals fills the {starts} and {ends} markers of
// RerateAfterHours with the UNIX seconds of the intervals (empty arrays
// typed, for a rule with no business hours), without the file's leading
// comment lines.
func RenderIntervals(stmt string, starts, ends []int64) string {
	for strings.HasPrefix(stmt, "--") {
		_, stmt, _ = strings.Cut(stmt, "\n")
	}
	list := func(v []int64) string {
		if len(v) == 0 {
			return "CAST([] AS Array(UInt32))"
		}
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.FormatInt(x, 10)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return strings.NewReplacer("[{starts}]", list(starts), "[{ends}]", list(ends)).Replace(stmt)
}

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// quote renders s as a ClickHouse string literal.
func quote(s string) string { return "'" + quoter.Replace(s) + "'" }
