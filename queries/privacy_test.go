package queries_test

// The erasure statements (queries/privacy) and the privacy view on both
// ClickHouse engines: `employees forget`'s and `retention apply`'s
// mutations, run in the order internal/store runs them, leave the same
// rows on 18.16 and on current ClickHouse, and exactly the rows expected.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/phonesignals/phonesignals/queries"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t
}

// privacyFixture is two orgs sharing a provider user id (u1): acme with
// a floor of 2, calls moved between users, and the records that name them.
func privacyFixture(ctx context.Context, t *testing.T, e engine) {
	t.Helper()
	ins := func(table string, cols string, rows ...[]any) {
		t.Helper()
		if err := e.insert(ctx, table, strings.Split(cols, ", "), rows); err != nil {
			t.Fatalf("%s: inserting into %s: %v", e.name(), table, err)
		}
	}
	ins("orgs", "org, provider, api_url, credentials, account_id, webhook_token, transcripts, settings, version",
		[]any{"acme", "aircall", "", "", "", "", uint8(0), `{"min_cohort":"2"}`, uint64(1)},
		[]any{"globex", "aircall", "", "", "", "", uint8(0), `{}`, uint64(1)})
	// Every version of a key in a block of its own: current ClickHouse
	// folds same-key rows of one block at insert time, 18.16 does not.
	ins("employees", "org, employee_id, name, email, cohort, provider_user_id, deleted, version",
		[]any{"acme", "E1", "Ada", "ada@x", "support", "u0", uint8(0), uint64(1)})
	ins("employees", "org, employee_id, name, email, cohort, provider_user_id, deleted, version",
		[]any{"acme", "E1", "Ada", "ada@x", "support", "u1", uint8(0), uint64(2)},
		[]any{"acme", "E2", "Ben", "", "support", "u2", uint8(0), uint64(1)},
		[]any{"acme", "E3", "Cy", "", "sdr", "u3", uint8(0), uint64(1)},
		[]any{"acme", "E4", "Di", "", "sdr", "u1", uint8(0), uint64(0)},
		[]any{"globex", "E1", "Gil", "", "support", "u1", uint8(0), uint64(1)})
	ins("cycles", "org, cycle_id, period_start, period_end, version",
		[]any{"acme", "c1", ts("2026-01-01 00:00:00"), ts("2026-02-01 00:00:00"), uint64(1)},
		[]any{"globex", "c1", ts("2026-01-01 00:00:00"), ts("2026-02-01 00:00:00"), uint64(1)})
	call := func(org, id, user, start string, version uint64) []any {
		return []any{org, "aircall", id, user, ts(start), "inbound", uint32(60), version}
	}
	ins("raw_signals", "org, provider, call_id, user_id, started_at, direction, duration_sec, version",
		call("acme", "a1", "u1", "2026-01-05 10:00:00", 1),
		call("acme", "a2", "", "2026-01-06 10:00:00", 1),
		call("acme", "a3", "u1", "2026-01-06 11:00:00", 1),
		call("acme", "a4", "u2", "2026-01-07 10:00:00", 1),
		call("acme", "a5", "u1", "2025-06-01 10:00:00", 1),
		call("acme", "a6", "u3", "2026-01-05 09:00:00", 1),
		call("globex", "a1", "u1", "2026-01-05 10:00:00", 1))
	ins("raw_signals", "org, provider, call_id, user_id, started_at, direction, duration_sec, version",
		call("acme", "a2", "u1", "2026-01-06 10:00:00", 2),
		call("acme", "a3", "u2", "2026-01-06 11:00:00", 2),
		call("acme", "a6", "u3", "2026-01-08 09:00:00", 2))
	ins("call_transcripts", "org, call_id, idx, speaker, text, fetched_at",
		[]any{"acme", "a1", uint32(0), "agent", "hello", ts("2026-01-05 11:00:00")},
		[]any{"acme", "a4", uint32(0), "agent", "hi", ts("2026-01-07 11:00:00")},
		[]any{"globex", "a1", uint32(0), "agent", "hey", ts("2026-01-05 11:00:00")})
	ins("transcript_events", "org, call_id, status, reason, at",
		[]any{"acme", "a2", "failed", "404", ts("2026-01-06 12:00:00")})
	ins("sync_window_calls", "org, job, window_from, window_to, call_id",
		[]any{"acme", "j", ts("2026-01-05 00:00:00"), ts("2026-01-08 00:00:00"), "a1"},
		[]any{"acme", "j", ts("2026-01-05 00:00:00"), ts("2026-01-08 00:00:00"), "a3"},
		[]any{"acme", "j", ts("2026-01-05 00:00:00"), ts("2026-01-08 00:00:00"), "a4"})
	ins("dead_letters", "org, provider, call_id, topic, partition, offset, reason, at",
		[]any{"acme", "aircall", "a1", "dead", uint32(0), uint64(1), "user u1: bad field", ts("2026-01-10 00:00:00")},
		[]any{"acme", "aircall", "a4", "dead", uint32(0), uint64(2), "user u11: bad field", ts("2025-12-01 00:00:00")})
	ins("dead_letter_replays", "org, origin, reason, call_id, replayed_at",
		[]any{"acme", "raw/0/1", "bad", "a2", ts("2026-01-11 00:00:00")},
		[]any{"acme", "raw/0/9", "listing user u1 failed", "a9", ts("2026-01-11 00:00:00")})
	ins("sync_runs", "org, run_id, provider, started_at, finished_at, window_from, window_to, status, error, calls, requests",
		[]any{"acme", "r1", "aircall", ts("2026-01-09 00:00:00"), ts("2026-01-09 00:01:00"), ts("2026-01-01 00:00:00"), ts("2026-01-09 00:00:00"), "error", "user u1: 500 (u1)", uint32(0), uint32(1)},
		[]any{"acme", "r2", "aircall", ts("2026-01-09 00:00:00"), ts("2026-01-09 00:01:00"), ts("2026-01-01 00:00:00"), ts("2026-01-09 00:00:00"), "error", "user u11: 500", uint32(0), uint32(1)})
	ins("user_day_metrics", "org, day, provider, user_id, calls, version",
		[]any{"acme", ts("2026-01-05 00:00:00"), "aircall", "u1", uint64(1), uint64(1)},
		[]any{"acme", ts("2026-01-06 00:00:00"), "aircall", "u2", uint64(1), uint64(1)},
		[]any{"acme", ts("2025-06-01 00:00:00"), "aircall", "u1", uint64(1), uint64(1)},
		[]any{"globex", ts("2026-01-05 00:00:00"), "aircall", "u1", uint64(1), uint64(1)})
	ins("user_day_dirty", "org, day, kind, value",
		[]any{"acme", ts("2025-06-01 00:00:00"), "loaded", uint64(3)}, []any{"acme", ts("2026-01-07 00:00:00"), "loaded", uint64(3)})
	for _, tbl := range migratedTables {
		if err := e.exec(ctx, "SYSTEM START MERGES "+tbl); err != nil {
			t.Fatalf("%s: SYSTEM START MERGES %s: %v", e.name(), tbl, err)
		}
	}
}

// execBound runs stmt with {table}/{column} filled and named arguments
// bound as literals, then waits for its mutation.
func execBound(ctx context.Context, t *testing.T, e engine, stmt, table, column string, args ...any) {
	t.Helper()
	stmt = strings.NewReplacer("{table}", table, "{column}", column).Replace(stmt)
	// Like clickhouse-go, give each statement the named values it names.
	var used []any
	for _, a := range args {
		if nv, ok := a.(driver.NamedValue); ok && strings.Contains(stmt, "@"+nv.Name) {
			used = append(used, a)
		}
	}
	sql, err := bindLiterals(stmt, used)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v\n%s", e.name(), err, sql)
	}
	deadline := time.Now().Add(time.Minute)
	for len(run(ctx, t, e, queries.MutationsRunning).rows) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: mutations of %s not done in a minute: %q", e.name(), sql, run(ctx, t, e, queries.MutationsRunning).rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// forgetU1 runs `employees forget` of acme's E1 (provider users u1 and,
// from an older version, u0) as internal/store does.
func forgetU1(ctx context.Context, t *testing.T, e engine) {
	org, id := clickhouse.Named("org", "acme"), clickhouse.Named("erasure", "x1")
	if err := e.insert(ctx, "erasure_items", []string{"org", "erasure_id", "kind", "provider", "id"},
		[][]any{{"acme", "x1", "user", "", "u1"}, {"acme", "x1", "user", "", "u0"}}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"u1", "u0"} {
		execBound(ctx, t, e, queries.StageUserCalls, "", "", org, id, clickhouse.Named("user", u))
	}
	for _, tbl := range []string{"call_transcripts", "transcript_events", "sync_window_calls", "dead_letters", "dead_letter_replays"} {
		execBound(ctx, t, e, queries.DeleteStagedCalls, tbl, "", org, id)
	}
	pattern := clickhouse.Named("pattern", `(^|[^0-9A-Za-z])(u1)([^0-9A-Za-z]|$)`)
	for _, tc := range [][2]string{{"sync_runs", "error"}, {"dead_letters", "reason"}, {"transcript_events", "reason"}, {"webhook_deliveries", "reason"}} {
		execBound(ctx, t, e, queries.ScrubText, tc[0], tc[1], org, id, pattern)
	}
	execBound(ctx, t, e, queries.DeleteText, "dead_letter_replays", "reason", org, id, pattern)
	for _, u := range []string{"u1", "u0"} {
		execBound(ctx, t, e, queries.DeleteUserRows, "", "", org, id, clickhouse.Named("user", u))
		execBound(ctx, t, e, queries.DeleteUserDays, "", "", org, id, clickhouse.Named("user", u))
	}
	scan := run(ctx, t, e, queries.StringColumns)
	for _, r := range scan.rows {
		if r[0] == "erasure_items" || r[0] == "employees" {
			continue
		}
		sql := strings.NewReplacer("{table}", r[0], "{column}", r[1]).Replace(queries.ScanColumn)
		if n := run(ctx, t, e, sql, org, id, pattern).rows[0][0]; n != "0" {
			t.Errorf("%s: after the erasure %s.%s still names u1 or its calls in %s rows", e.name(), r[0], r[1], n)
		}
	}
	employee := clickhouse.Named("employee", "E1")
	execBound(ctx, t, e, queries.DeleteEmployee, "", "", org, id, employee)
	execBound(ctx, t, e, queries.UnmapUser, "", "", org, id, employee, clickhouse.Named("user", "u1"))
	execBound(ctx, t, e, queries.ClearStaged, "", "", org, id)
}

// expireBefore runs `retention apply` of acme with cutoff 2026-01-06.
func expireBefore(ctx context.Context, t *testing.T, e engine) {
	org, id, cutoff := clickhouse.Named("org", "acme"), clickhouse.Named("erasure", "x2"), clickhouse.Named("cutoff", ts("2026-01-06 00:00:00"))
	execBound(ctx, t, e, queries.StageExpiredCalls, "", "", org, id, cutoff)
	for _, tbl := range []string{"call_transcripts", "transcript_events", "sync_window_calls", "dead_letter_replays"} {
		execBound(ctx, t, e, queries.DeleteStagedCalls, tbl, "", org, id)
	}
	execBound(ctx, t, e, queries.DeleteExpiredDeadLetters, "", "", org, id, cutoff)
	execBound(ctx, t, e, queries.DeleteExpiredRows, "", "", org, id, cutoff)
	for _, tbl := range []string{"user_day_metrics", "user_day_dirty"} {
		execBound(ctx, t, e, queries.DeleteExpiredDays, tbl, "", org, id, cutoff)
	}
	execBound(ctx, t, e, queries.ClearStaged, "", "", org, id)
}

// TestPrivacyStatements runs the erasures on both engines: the same rows
// are left on each, and they are the ones expected.
func TestPrivacyStatements(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	checks := map[string]string{
		"SELECT org, call_id, user_id, version FROM raw_signals ORDER BY org, call_id, version":                "",
		"SELECT org, call_id FROM call_transcripts ORDER BY org, call_id":                                      "",
		"SELECT org, call_id FROM transcript_events ORDER BY org, call_id":                                     "",
		"SELECT org, call_id FROM sync_window_calls ORDER BY org, call_id":                                     "",
		"SELECT org, call_id, reason FROM dead_letters ORDER BY org, call_id":                                  "",
		"SELECT org, call_id, reason FROM dead_letter_replays ORDER BY org, call_id":                           "",
		"SELECT org, run_id, error FROM sync_runs ORDER BY org, run_id":                                        "",
		"SELECT org, toString(day), user_id FROM user_day_metrics ORDER BY org, day, user_id":                  "",
		"SELECT org, toString(day) FROM user_day_dirty ORDER BY org, day":                                      "",
		"SELECT org, employee_id, provider_user_id, version FROM employees ORDER BY org, employee_id, version": "",
		"SELECT count() FROM erasure_items":                                                                    "",
	}
	want := map[string]map[string]string{
		"forget": {
			"SELECT org, call_id, user_id, version FROM raw_signals ORDER BY org, call_id, version":                "acme a3 u2 2|acme a4 u2 1|acme a6 u3 1|acme a6 u3 2|globex a1 u1 1",
			"SELECT org, call_id FROM call_transcripts ORDER BY org, call_id":                                      "acme a4|globex a1",
			"SELECT org, call_id FROM transcript_events ORDER BY org, call_id":                                     "",
			"SELECT org, call_id FROM sync_window_calls ORDER BY org, call_id":                                     "acme a3|acme a4",
			"SELECT org, call_id, reason FROM dead_letters ORDER BY org, call_id":                                  "acme a4 user u11: bad field",
			"SELECT org, call_id, reason FROM dead_letter_replays ORDER BY org, call_id":                           "",
			"SELECT org, run_id, error FROM sync_runs ORDER BY org, run_id":                                        "acme r1 user [erased]: 500 ([erased])|acme r2 user u11: 500",
			"SELECT org, toString(day), user_id FROM user_day_metrics ORDER BY org, day, user_id":                  "acme 2026-01-06 u2|globex 2026-01-05 u1",
			"SELECT org, employee_id, provider_user_id, version FROM employees ORDER BY org, employee_id, version": "acme E2 u2 1|acme E3 u3 1|acme E4  0|globex E1 u1 1",
			"SELECT count() FROM erasure_items":                                                                    "0",
		},
		"retention": {
			"SELECT org, call_id, user_id, version FROM raw_signals ORDER BY org, call_id, version": "acme a2  1|acme a2 u1 2|acme a3 u1 1|acme a3 u2 2|acme a4 u2 1|acme a6 u3 2|globex a1 u1 1",
			"SELECT org, call_id FROM call_transcripts ORDER BY org, call_id":                       "acme a4|globex a1",
			"SELECT org, call_id FROM sync_window_calls ORDER BY org, call_id":                      "acme a3|acme a4",
			"SELECT org, call_id, reason FROM dead_letters ORDER BY org, call_id":                   "",
			"SELECT org, toString(day), user_id FROM user_day_metrics ORDER BY org, day, user_id":   "acme 2026-01-06 u2|globex 2026-01-05 u1",
			"SELECT org, toString(day) FROM user_day_dirty ORDER BY org, day":                       "acme 2026-01-07",
			"SELECT count() FROM erasure_items":                                                     "0",
		},
	}
	plans := map[string]string{
		"forget":    "3 5 2 1 1 1 1 1 2025-06-01 2026-01-06", // u1's plan, before
		"retention": "2 3 2 1 1 0 1 0 2",
	}
	for _, phase := range []string{"forget", "retention"} {
		t.Run(phase, func(t *testing.T) {
			var engines []engine
			for _, open := range []func(*testing.T) engine{open18, openCHDB} {
				if e := open(t); e != nil {
					engines = append(engines, e)
				}
			}
			if len(engines) == 0 {
				t.Skip("both engines skipped by environment")
			}
			answers := map[string][]string{}
			for _, e := range engines {
				applySchema(ctx, t, e)
				privacyFixture(ctx, t, e)
				checkPublished(ctx, t, e)
				var plan result
				if phase == "forget" {
					plan = run(ctx, t, e, queries.ForgetPlan, clickhouse.Named("org", "acme"), clickhouse.Named("user", "u1"))
					forgetU1(ctx, t, e)
				} else {
					plan = run(ctx, t, e, queries.RetentionPlan, clickhouse.Named("org", "acme"), clickhouse.Named("cutoff", ts("2026-01-06 00:00:00")))
					expireBefore(ctx, t, e)
				}
				if got := strings.Join(plan.rows[0], " "); got != plans[phase] {
					t.Errorf("%s: the %s plan counts %q, want %q (columns %q)", e.name(), phase, got, plans[phase], plan.cols)
				}
				for sql := range checks {
					var rows []string
					for _, r := range run(ctx, t, e, sql).rows {
						rows = append(rows, strings.Join(r, " "))
					}
					got := strings.Join(rows, "|")
					answers[sql] = append(answers[sql], got)
					if w, ok := want[phase][sql]; ok && got != w {
						t.Errorf("%s after %s: %s\n got  %s\n want %s", e.name(), phase, sql, got, w)
					}
				}
			}
			for sql, a := range answers {
				if len(a) == 2 && a[0] != a[1] {
					t.Errorf("engines differ after %s: %s\n  %s: %s\n  %s: %s", phase, sql, engines[0].name(), a[0], engines[1].name(), a[1])
				}
			}
		})
	}
}

// checkPublished: cohort_cycle_baselines_published applies each org's
// floor (acme 2, globex the default 3), with the reason.
func checkPublished(ctx context.Context, t *testing.T, e engine) {
	t.Helper()
	got := run(ctx, t, e, "SELECT org, cohort, cohort_size, min_cohort, median_total_calls, median_na_reason FROM cohort_cycle_baselines_published ORDER BY org, cohort")
	var rows []string
	for _, r := range got.rows {
		rows = append(rows, strings.Join(r, " "))
	}
	want := "acme sdr 2 2 0 |acme support 2 2 1.5 |globex support 1 3 NULL cohort of 1 is below the minimum cohort size of 3"
	if g := strings.Join(rows, "|"); g != want {
		t.Errorf("%s: cohort_cycle_baselines_published\n got  %s\n want %s", e.name(), g, want)
	}
}
