package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/queries"
)

// Erasure kinds, as the erasures log names them.
const (
	ErasureEmployee  = "employee"
	ErasureRetention = "retention"
)

// callTables hold rows that name a call by its call_id (besides
// raw_signals): what an erasure removes with the call.
var callTables = []string{"call_transcripts", "transcript_events", "sync_window_calls", "dead_letters", "dead_letter_replays"}

// freeText are the error and reason columns where a provider user id can
// appear inside a message (a per-user listing's error, a decode error):
// forget replaces the id there. keyText are such columns that are part of
// their table's key: forget deletes the rows instead.
var (
	freeText = [][2]string{{"sync_runs", "error"}, {"dead_letters", "reason"}, {"transcript_events", "reason"}, {"webhook_deliveries", "reason"}}
	keyText  = [][2]string{{"dead_letter_replays", "reason"}}
)

// ErasureReport is what an erasure removed (or, dry, would remove). The
// erasures log keeps Kind, Reference, Calls, Rows, DaysRebuilt and the
// times; never Employee or Users.
type ErasureReport struct {
	ID, Org, Kind, Reference string
	DryRun                   bool
	// Employee and Users are what `employees forget` erased; Kept are
	// provider users the employee had once that another employee has now
	// ("USER (employee ID)"), whose calls stay.
	Employee string
	Users    []string
	Kept     []string
	// Calls are the calls removed; Rows the rows each table lost.
	Calls uint64
	Rows  map[string]uint64
	// FirstDay and LastDay bound the days whose aggregates were recomputed
	// (DaysRebuilt of them); zero when none.
	FirstDay, LastDay time.Time
	DaysRebuilt       int
	// Cutoff is a retention's: calls started before it went.
	Cutoff                  time.Time
	RequestedAt, FinishedAt time.Time
	// Remaining counts rows that still name what was erased, by
	// table.column, after the erasure; empty when done.
	Remaining map[string]uint64
}

// TotalRows is the sum of Rows.
func (r ErasureReport) TotalRows() uint64 {
	var n uint64
	for _, v := range r.Rows {
		n += v
	}
	return n
}

// RebuildFunc recomputes the per-day aggregates of org's UTC days in
// [from, to) from raw_signals (aggregate.Maintainer.Rebuild) and returns how many
// days it recomputed.
type RebuildFunc func(ctx context.Context, org string, from, to time.Time) (int, error)

// ForgetOptions tune Forget.
type ForgetOptions struct {
	// DryRun counts what would go and changes nothing.
	DryRun bool
	// Reference is the operator's note for the log (a ticket id).
	Reference string
	// Rebuild recomputes the aggregates of the days the calls were on.
	// Required unless DryRun.
	Rebuild RebuildFunc
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Wait bounds each wait for the mutations. Default 10 minutes.
	Wait time.Duration
}

// Forget erases employee of org and the calls of the provider users they
// were mapped to (those no other employee owns now) from every table:
// rows, aggregates, transcripts, delivery and window records, dead letters
// that name them; recomputes the aggregates of the days those calls were
// on (the cohort medians follow); and records what was erased, without
// whose, in the erasures log. A run interrupted anywhere can be run again.
func (s *Store) Forget(ctx context.Context, org, employee string, opt ForgetOptions) (ErasureReport, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	rep := ErasureReport{Org: org, Kind: ErasureEmployee, Reference: opt.Reference, DryRun: opt.DryRun, Employee: employee, RequestedAt: now().UTC()}
	if _, err := s.GetOrg(ctx, org); err != nil {
		return rep, err
	}
	if err := s.forgetUsers(ctx, &rep); err != nil {
		return rep, err
	}
	if err := checkReference(rep); err != nil {
		return rep, err
	}
	if err := s.forgetPlan(ctx, &rep); err != nil {
		return rep, err
	}
	if opt.DryRun {
		return rep, nil
	}
	if opt.Rebuild == nil {
		return rep, errors.New("forget: no aggregate rebuild given")
	}
	rep.ID = strconv.FormatInt(now().UnixNano(), 10)
	e := eraser{s: s, org: org, id: rep.ID, wait: opt.Wait}
	if err := e.clearUnfinished(ctx, rep.Users); err != nil {
		return rep, err
	}
	if err := e.forget(ctx, &rep, opt.Rebuild); err != nil {
		return rep, err
	}
	rep.FinishedAt = now().UTC()
	if err := s.logErasure(ctx, rep); err != nil {
		return rep, err
	}
	if len(rep.Remaining) > 0 {
		return rep, fmt.Errorf("forget %s of org %s: %s still name what was erased (a loader wrote them meanwhile?): run `phonesignals employees forget --org %s --employee %s` again",
			employee, org, describeCounts(rep.Remaining), org, employee)
	}
	return rep, nil
}

// checkReference refuses a reference that names whom it erases: the log
// must not.
func checkReference(rep ErasureReport) error {
	if rep.Reference == "" {
		return nil
	}
	for _, id := range append([]string{rep.Employee}, rep.Users...) {
		if id != "" && strings.Contains(rep.Reference, id) {
			return fmt.Errorf("--reference %q names the employee or their provider user: the erasure log keeps no id of whom it erased; give a ticket number instead", rep.Reference)
		}
	}
	return nil
}

// forgetUsers finds the employee's provider users: every one a version of
// the employee was mapped to, unless another employee owns it now.
func (s *Store) forgetUsers(ctx context.Context, rep *ErasureReport) error {
	var versions []struct {
		User string `ch:"provider_user_id"`
		// Deleted and Version are unused; Select wants a field for every column.
		Deleted uint8  `ch:"deleted"`
		Version uint64 `ch:"version"`
	}
	if err := s.conn.Select(ctx, &versions, queries.EmployeeVersions, clickhouse.Named("org", rep.Org), clickhouse.Named("employee", rep.Employee)); err != nil {
		return fmt.Errorf("reading employee %s of org %s: %w", rep.Employee, rep.Org, err)
	}
	var mapped []string
	for _, v := range versions {
		if v.User != "" && !contains(mapped, v.User) {
			mapped = append(mapped, v.User)
		}
	}
	if len(versions) == 0 {
		return fmt.Errorf("employee %q of org %s: %w (`phonesignals employees list --org %s` lists the roster; an employee forgotten already has nothing left)", rep.Employee, rep.Org, ErrNotFound, rep.Org)
	}
	roster, err := s.Employees(ctx, rep.Org)
	if err != nil {
		return err
	}
	owner := map[string]string{}
	for _, e := range roster {
		if e.ProviderUserID != "" {
			owner[e.ProviderUserID] = e.ID
		}
	}
	for _, u := range mapped {
		if o, ok := owner[u]; ok && o != rep.Employee {
			rep.Kept = append(rep.Kept, fmt.Sprintf("%s (employee %s)", u, o))
			continue
		}
		rep.Users = append(rep.Users, u)
	}
	rep.Rows = map[string]uint64{"employees": uint64(len(versions))}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// forgetPlan counts, per user, what goes (forget_plan.sql).
func (s *Store) forgetPlan(ctx context.Context, rep *ErasureReport) error {
	names := append([]string{"raw_signals", "user_day_metrics"}, callTables...)
	for _, u := range rep.Users {
		var calls uint64
		counts := make([]uint64, len(names))
		var first, last time.Time
		dest := []any{&calls}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		dest = append(dest, &first, &last)
		if err := s.conn.QueryRow(ctx, queries.ForgetPlan, clickhouse.Named("org", rep.Org), clickhouse.Named("user", u)).Scan(dest...); err != nil {
			return fmt.Errorf("counting what forget removes for org %s: %w", rep.Org, err)
		}
		rep.Calls += calls
		for i, n := range names {
			rep.Rows[n] += counts[i]
		}
		rep.FirstDay, rep.LastDay = widen(rep.FirstDay, rep.LastDay, zeroEpoch(first), zeroEpoch(last))
	}
	return nil
}

// widen extends [first, last] by [a, b], zero times meaning none.
func widen(first, last, a, b time.Time) (time.Time, time.Time) {
	if a.IsZero() {
		return first, last
	}
	if first.IsZero() || a.Before(first) {
		first = a
	}
	if last.IsZero() || b.After(last) {
		last = b
	}
	return first, last
}

// describeCounts lists counts as "table 3, other 1", sorted.
func describeCounts(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// userPattern matches a provider user id as a whole word of a text (RE2,
// groups 1 and 3 are what stands either side).
func userPattern(user string) string {
	return `(^|[^0-9A-Za-z])(` + regexp.QuoteMeta(user) + `)([^0-9A-Za-z]|$)`
}

// Erasure is one entry of the erasures log.
type Erasure struct {
	ID, Kind, Reference     string
	Cutoff                  time.Time
	Calls                   uint64
	Rows                    map[string]uint64
	DaysRebuilt             int
	RequestedAt, FinishedAt time.Time
}

// Erasures reads the erasures log of org, oldest first.
func (s *Store) Erasures(ctx context.Context, org string) ([]Erasure, error) {
	var rows []struct {
		ID          string    `ch:"erasure_id"`
		Kind        string    `ch:"kind"`
		Reference   string    `ch:"reference"`
		Cutoff      time.Time `ch:"cutoff"`
		Calls       uint64    `ch:"calls"`
		Rows        string    `ch:"rows"`
		DaysRebuilt uint32    `ch:"days_rebuilt"`
		RequestedAt time.Time `ch:"requested_at"`
		FinishedAt  time.Time `ch:"finished_at"`
	}
	if err := s.conn.Select(ctx, &rows, queries.ErasuresList, clickhouse.Named("org", org)); err != nil {
		return nil, fmt.Errorf("reading the erasures of org %s: %w", org, err)
	}
	var out []Erasure
	for _, r := range rows {
		e := Erasure{ID: r.ID, Kind: r.Kind, Reference: r.Reference, Cutoff: zeroEpoch(r.Cutoff), Calls: r.Calls,
			DaysRebuilt: int(r.DaysRebuilt), RequestedAt: r.RequestedAt, FinishedAt: r.FinishedAt}
		if err := json.Unmarshal([]byte(r.Rows), &e.Rows); err != nil {
			return nil, fmt.Errorf("reading the erasures of org %s: rows of %s: %w", org, e.ID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// logErasure records rep in the erasures log.
func (s *Store) logErasure(ctx context.Context, rep ErasureReport) error {
	counts, err := json.Marshal(rep.Rows)
	if err != nil {
		return err
	}
	cutoff := rep.Cutoff
	if cutoff.IsZero() {
		cutoff = time.Unix(0, 0)
	}
	if err := s.insert(ctx, queries.InsertErasures, []any{rep.Org, rep.ID, rep.Kind, rep.Reference, cutoff.UTC(), rep.Calls, string(counts),
		uint32(rep.DaysRebuilt), rep.RequestedAt.UTC(), rep.FinishedAt.UTC()}); err != nil {
		return fmt.Errorf("recording erasure %s of org %s: %w", rep.ID, rep.Org, err)
	}
	return nil
}
