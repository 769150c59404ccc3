package queries_test

import (
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/queries"
)

// TestRenderDays checks the refresh statements' day list, its range, and
// that no leading comment line is left for a bound parameter to break.
func TestRenderDays(t *testing.T) {
	days := []time.Time{
		time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 8, 31, 23, 59, 0, 0, time.UTC),                 // any time of the day
		time.Date(2026, 9, 3, 1, 0, 0, 0, time.FixedZone("x", 3*3600)), // 2026-09-02 UTC
	}
	sql, from, to := queries.RenderDays("-- about @org\n-- and {days}\nSELECT 1 WHERE d IN ({days})", days)
	if want := "SELECT 1 WHERE d IN (toDate('2026-09-02'), toDate('2026-08-31'), toDate('2026-09-02'))"; sql != want {
		t.Errorf("rendered %q, want %q", sql, want)
	}
	if !from.Equal(time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("range [%s, %s), want [2026-08-31, 2026-09-03)", from, to)
	}
	for _, stmt := range []string{queries.RefreshDays, queries.RefreshOrg} {
		sql, _, _ := queries.RenderDays(stmt, days)
		if strings.Contains(sql, "--") || strings.Contains(sql, "{days}") || !strings.HasPrefix(sql, "INSERT INTO user_day_metrics") {
			t.Errorf("rendered refresh statement keeps a comment or a marker:\n%s", sql)
		}
	}
}
