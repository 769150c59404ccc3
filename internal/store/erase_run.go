package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/queries"
)

// eraser runs the mutations of one erasure of one org.
type eraser struct {
	s    *Store
	org  string
	id   string
	wait time.Duration
}

func (e eraser) args(extra ...any) []any {
	return append([]any{clickhouse.Named("org", e.org), clickhouse.Named("erasure", e.id)}, extra...)
}

// exec runs one statement, {table} and {column} filled from the fixed
// lists of erase.go.
func (e eraser) exec(ctx context.Context, stmt, table, column string, extra ...any) error {
	sql := queries.RenderTable(stmt, table, column)
	if err := e.s.conn.Exec(ctx, sql, e.args(extra...)...); err != nil {
		what := table
		if what == "" {
			what = firstLine(sql)
		}
		return fmt.Errorf("erasure %s of org %s, %s: %w", e.id, e.org, what, err)
	}
	return nil
}

func firstLine(sql string) string {
	for _, l := range strings.Split(sql, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			return l
		}
	}
	return sql
}

// settle waits until no mutation of the database is running: each step
// reads what the one before removed.
func (e eraser) settle(ctx context.Context) error {
	return e.s.WaitMutations(ctx, e.wait)
}

// WaitMutations waits until the database has no unfinished mutation, at
// most limit (default 10 minutes).
func (s *Store) WaitMutations(ctx context.Context, limit time.Duration) error {
	if limit <= 0 {
		limit = 10 * time.Minute
	}
	deadline := time.Now().Add(limit)
	pause := 20 * time.Millisecond
	for {
		pending, err := s.runningMutations(ctx)
		if err != nil || pending == "" {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mutations still running after %s (%s): see `SELECT * FROM system.mutations WHERE is_done = 0` in database %s; a mutation that cannot finish is stopped with KILL MUTATION",
				limit, pending, s.cfg.Database)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// runningMutations names the tables with unfinished mutations ("" none).
func (s *Store) runningMutations(ctx context.Context) (string, error) {
	var rows []struct {
		Table     string `ch:"table"`
		Mutations uint64 `ch:"mutations"`
	}
	if err := s.conn.Select(ctx, &rows, queries.MutationsRunning); err != nil {
		return "", fmt.Errorf("reading system.mutations: %w", err)
	}
	var parts []string
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("%s: %d", r.Table, r.Mutations))
	}
	return strings.Join(parts, ", "), nil
}

// clearUnfinished removes what erasures of the same users staged and never
// finished.
func (e eraser) clearUnfinished(ctx context.Context, users []string) error {
	for _, u := range users {
		var staged []struct {
			ID string `ch:"erasure_id"`
		}
		if err := e.s.conn.Select(ctx, &staged, queries.StagedErasures, clickhouse.Named("org", e.org), clickhouse.Named("user", u)); err != nil {
			return fmt.Errorf("reading unfinished erasures of org %s: %w", e.org, err)
		}
		for _, st := range staged {
			old := e
			old.id = st.ID
			if err := old.exec(ctx, queries.ClearStaged, "erasure_items", ""); err != nil {
				return err
			}
		}
	}
	return e.settle(ctx)
}

// stage records the users and their calls in erasure_items.
func (e eraser) stage(ctx context.Context, users []string) error {
	rows := make([][]any, len(users))
	for i, u := range users {
		rows[i] = []any{e.org, e.id, "user", "", u}
	}
	if len(rows) > 0 {
		if err := e.s.insert(ctx, queries.InsertErasureItems, rows...); err != nil {
			return fmt.Errorf("staging erasure %s of org %s: %w", e.id, e.org, err)
		}
	}
	for _, u := range users {
		if err := e.exec(ctx, queries.StageUserCalls, "", "", clickhouse.Named("user", u)); err != nil {
			return err
		}
	}
	return nil
}

// forget runs the erasure of rep's users: the rows naming their calls,
// then the calls, then the aggregates (recomputed, then the users' keys
// removed), checks nothing is left, and removes the employee last, so a
// run stopped anywhere before can be run again.
func (e eraser) forget(ctx context.Context, rep *ErasureReport, rebuild RebuildFunc) error {
	if err := e.stage(ctx, rep.Users); err != nil {
		return err
	}
	for attempt := 0; attempt < 2; attempt++ {
		if err := e.removeUsers(ctx, rep, rebuild); err != nil {
			return err
		}
		remaining, err := e.scan(ctx, rep.Users)
		if err != nil {
			return err
		}
		rep.Remaining = remaining
		if len(remaining) == 0 {
			break
		}
	}
	if len(rep.Remaining) > 0 {
		return nil // keep the employee and the staging: a rerun finishes
	}
	if err := e.exec(ctx, queries.DeleteEmployee, "employees", "", clickhouse.Named("employee", rep.Employee)); err != nil {
		return err
	}
	for _, u := range rep.Users {
		if err := e.exec(ctx, queries.UnmapUser, "employees", "", clickhouse.Named("employee", rep.Employee), clickhouse.Named("user", u)); err != nil {
			return err
		}
	}
	if err := e.exec(ctx, queries.ClearStaged, "erasure_items", ""); err != nil {
		return err
	}
	return e.settle(ctx)
}

// removeUsers removes every row naming the users or their staged calls,
// and recomputes the days they were on.
func (e eraser) removeUsers(ctx context.Context, rep *ErasureReport, rebuild RebuildFunc) error {
	for _, t := range callTables {
		if err := e.exec(ctx, queries.DeleteStagedCalls, t, ""); err != nil {
			return err
		}
	}
	for _, u := range rep.Users {
		pattern := clickhouse.Named("pattern", userPattern(u))
		for _, tc := range freeText {
			if err := e.exec(ctx, queries.ScrubText, tc[0], tc[1], pattern); err != nil {
				return err
			}
		}
		for _, tc := range keyText {
			if err := e.exec(ctx, queries.DeleteText, tc[0], tc[1], pattern); err != nil {
				return err
			}
		}
	}
	if err := e.settle(ctx); err != nil {
		return err
	}
	for _, u := range rep.Users {
		if err := e.exec(ctx, queries.DeleteUserRows, "raw_signals", "", clickhouse.Named("user", u)); err != nil {
			return err
		}
	}
	if err := e.settle(ctx); err != nil {
		return err
	}
	return e.removeUserDays(ctx, rep, rebuild)
}

// removeUserDays recomputes the aggregates of the erased calls' days from
// what raw_signals holds now (the users' keys get zero rows), then removes
// every aggregate row of the users.
func (e eraser) removeUserDays(ctx context.Context, rep *ErasureReport, rebuild RebuildFunc) error {
	if !rep.FirstDay.IsZero() {
		n, err := rebuild(ctx, e.org, rep.FirstDay, rep.LastDay.AddDate(0, 0, 1))
		if err != nil {
			return fmt.Errorf("erasure %s of org %s: recomputing the aggregates of %s to %s: %w", e.id, e.org,
				rep.FirstDay.Format(time.DateOnly), rep.LastDay.Format(time.DateOnly), err)
		}
		rep.DaysRebuilt = n
	}
	for _, u := range rep.Users {
		if err := e.exec(ctx, queries.DeleteUserDays, "user_day_metrics", "", clickhouse.Named("user", u)); err != nil {
			return err
		}
	}
	return e.settle(ctx)
}

// scan counts, in every stored text column of every table with an org,
// the org's rows still naming a staged id or a user (as a whole word).
func (e eraser) scan(ctx context.Context, users []string) (map[string]uint64, error) {
	cols, err := e.s.stringColumns(ctx)
	if err != nil {
		return nil, err
	}
	left := map[string]uint64{}
	for _, tc := range cols {
		if tc[0] == "erasure_items" || tc[0] == "employees" {
			continue // the staging itself; the employee goes after the scan
		}
		for _, u := range users {
			var n uint64
			sql := queries.RenderTable(queries.ScanColumn, tc[0], tc[1])
			if err := e.s.conn.QueryRow(ctx, sql, e.args(clickhouse.Named("pattern", userPattern(u)))...).Scan(&n); err != nil {
				return nil, fmt.Errorf("checking %s.%s of org %s after erasure %s: %w", tc[0], tc[1], e.org, e.id, err)
			}
			if n > 0 {
				left[tc[0]+"."+tc[1]] += n
			}
		}
	}
	if len(left) == 0 {
		return nil, nil
	}
	return left, nil
}

// stringColumns lists (table, column) of every stored text column of the
// tables with an org column.
func (s *Store) stringColumns(ctx context.Context) ([][2]string, error) {
	var rows []struct {
		Table  string `ch:"table"`
		Column string `ch:"name"`
	}
	if err := s.conn.Select(ctx, &rows, queries.StringColumns); err != nil {
		return nil, fmt.Errorf("listing the text columns of database %s: %w", s.cfg.Database, err)
	}
	var out [][2]string
	for _, r := range rows {
		out = append(out, [2]string{r.Table, r.Column})
	}
	return out, nil
}
