package aggregate

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/load/aggregate/aggregatetest"
)

// TestChooseForm checks the refresh form's choice at its edges.
func TestChooseForm(t *testing.T) {
	tests := []struct {
		dirty, clean int
		want         refreshForm
	}{
		{1, 0, formDays},               // a new org's first day
		{fewDirtyDays, 0, formDays},    // few days: no look-up, by days
		{fewDirtyDays + 1, 0, formOrg}, // a new org, all days dirty
		{90, 0, formOrg},               // the backfill: every day dirty
		{40, 60, formOrg},              // 40%: the whole org is cheaper
		{39, 61, formDays},             // below 40%
		{10, 355, formDays},            // a stream into a year of history
		{fewDirtyDays, 1000, formDays}, // the common stream
		{3000, 1000, formOrg},          // more days than one statement lists
	}
	for _, tc := range tests {
		if got := chooseForm(tc.dirty, tc.clean); got != tc.want {
			t.Errorf("chooseForm(%d dirty, %d clean) = %s, want %s", tc.dirty, tc.clean, got, tc.want)
		}
	}
}

// TestRefreshPlan checks the refresher's statements on a real server: one
// org per statement, the form chosen from the org's other days in
// user_day_metrics (clean_days.sql), a days-form org split at
// maxKeysPerStatement days and a whole-org one never split, every dirty
// key in exactly one statement.
func TestRefreshPlan(t *testing.T) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	first := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	// Aggregated days per org (two rows a day: two users).
	for org, days := range map[string]int{"long": 100, "short": 12, "huge": 2500, "few": 50} {
		sql := fmt.Sprintf(`INSERT INTO user_day_metrics (org, day, provider, user_id, calls, inbound_calls, outbound_calls, duration_sum,
			after_hours_calls, escalated_calls, resolved_calls, version)
			SELECT '%s', toDate('2020-01-01') + intDiv(number, 2), 'aircall', toString(number %% 2), 1, 0, 1, 60, 0, 0, 0, 1 FROM numbers(%d)`, org, 2*days)
		if err := st.Conn().Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(org string, from, n int) []model.DayKey {
		var out []model.DayKey
		for i := from; i < from+n; i++ {
			out = append(out, model.DayKey{Org: org, Day: first.AddDate(0, 0, i)})
		}
		return out
	}
	var dirty []model.DayKey
	dirty = append(dirty, keys("few", 47, 6)...)    // 3 of them new days: by days, no look-up
	dirty = append(dirty, keys("huge", 0, 2300)...) // 92%: whole org, one statement
	dirty = append(dirty, keys("long", 80, 30)...)  // 20 of 100 old days + 10 new: 30/110, by days
	dirty = append(dirty, keys("new", 0, 9)...)     // no aggregates yet: whole org
	dirty = append(dirty, keys("short", 0, 12)...)  // all: whole org
	want := []struct {
		org  string
		days int
		form refreshForm
	}{{"few", 6, formDays}, {"huge", 2300, formOrg}, {"long", 30, formDays}, {"new", 9, formOrg}, {"short", 12, formOrg}}

	agg, err := New(st.Conn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	clean, err := agg.cleanDays(ctx, dirty)
	if err != nil {
		t.Fatal(err)
	}
	// Orgs whose every aggregated day is dirty (short), or with none (new),
	// have no row.
	if w := map[string]int{"few": 47, "huge": 200, "long": 80}; !maps.Equal(clean, w) {
		t.Errorf("clean days %v, want %v", clean, w)
	}
	stmts, err := agg.plan(ctx, dirty)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != len(want) {
		t.Fatalf("%d statements, want %d: %+v", len(stmts), len(want), stmts)
	}
	for i, w := range want {
		if s := stmts[i]; s.org != w.org || len(s.days) != w.days || s.form != w.form {
			t.Errorf("statement %d: org %s, %d days, %s form; want %s, %d, %s", i, s.org, len(s.days), s.form, w.org, w.days, w.form)
		}
	}

	// Forced to the days form, the large org is split; every key once.
	agg.form = formDays
	stmts, err = agg.plan(ctx, dirty)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	seen := map[model.DayKey]bool{}
	for _, s := range stmts {
		if s.form != formDays || len(s.days) > maxKeysPerStatement {
			t.Errorf("forced days form: statement of org %s has %d days in the %s form", s.org, len(s.days), s.form)
		}
		for _, d := range s.days {
			seen[model.DayKey{Org: s.org, Day: d}] = true
			n++
		}
	}
	if len(stmts) != len(want)+1 || n != len(dirty) || len(seen) != len(dirty) {
		t.Errorf("forced days form: %d statements (want %d) with %d keys, %d distinct (want %d)", len(stmts), len(want)+1, n, len(seen), len(dirty))
	}
}
