package store

import (
	"context"
	"fmt"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/queries"
)

// Checkpoints returns the durable checkpoints of org (they satisfy
// ingest.Checkpoints).
func (s *Store) Checkpoints(org string) *Checkpoints { return &Checkpoints{s: s, org: org} }

// Checkpoints records an org's finished sync windows in sync_windows.
type Checkpoints struct {
	s   *Store
	org string
}

// Done reports whether window w of job was finished already.
func (c *Checkpoints) Done(ctx context.Context, job string, w model.Window) (bool, error) {
	var n uint64
	if err := c.s.conn.QueryRow(ctx, queries.SyncWindowDone, c.org, job, w.From.UTC(), w.To.UTC()).Scan(&n); err != nil {
		return false, fmt.Errorf("reading checkpoint %s of org %s: %w", w, c.org, err)
	}
	return n > 0, nil
}

// MarkDone records w of job as finished after n calls were published.
func (c *Checkpoints) MarkDone(ctx context.Context, job string, w model.Window, n int) error {
	if err := c.s.insert(ctx, queries.InsertSyncWindows,
		[]any{c.org, job, w.From.UTC(), w.To.UTC(), uint32(n), time.Now().UTC()}); err != nil {
		return fmt.Errorf("recording checkpoint %s of org %s: %w", w, c.org, err)
	}
	return nil
}

// Run is one sync run, for `doctor` and the sync status.
type Run struct {
	ID       string
	Org      string
	Provider string
	Started  time.Time
	Finished time.Time
	Window   model.Window
	Status   string // "running", "ok", "auth_error", "error"
	Error    string
	Calls    int
	Requests int
}

// RecordRun writes a run record; call it at start and at the end.
func (s *Store) RecordRun(ctx context.Context, r Run) error {
	err := s.insert(ctx, queries.InsertSyncRuns,
		[]any{r.Org, r.ID, r.Provider, r.Started.UTC(), r.Finished.UTC(), r.Window.From.UTC(), r.Window.To.UTC(), r.Status, r.Error, uint32(r.Calls), uint32(r.Requests)})
	if err != nil {
		return fmt.Errorf("recording sync run of org %s: %w", r.Org, err)
	}
	return nil
}

// LastRun is the latest sync run of org; ok is false if it never synced.
func (s *Store) LastRun(ctx context.Context, org string) (r Run, ok bool, err error) {
	var rows []struct {
		ID       string    `ch:"run_id"`
		Started  time.Time `ch:"started_at"`
		Finished time.Time `ch:"finished_at"`
		From     time.Time `ch:"window_from"`
		To       time.Time `ch:"window_to"`
		Status   string    `ch:"status"`
		Error    string    `ch:"error"`
		Calls    uint32    `ch:"calls"`
		Requests uint32    `ch:"requests"`
	}
	if err := s.conn.Select(ctx, &rows, queries.SyncLastRun, org); err != nil {
		return Run{}, false, fmt.Errorf("reading last sync of org %s: %w", org, err)
	}
	if len(rows) == 0 {
		return Run{}, false, nil
	}
	l := rows[0]
	return Run{Org: org, ID: l.ID, Started: l.Started, Finished: l.Finished, Window: model.Window{From: l.From, To: l.To},
		Status: l.Status, Error: l.Error, Calls: int(l.Calls), Requests: int(l.Requests)}, true, nil
}

// runRow is a sync run as the run listings (recent runs, a cycle's failed
// runs) return it; the columns of the latest run per id end in '_'.
type runRow struct {
	ID       string    `ch:"run_id"`
	Provider string    `ch:"provider_"`
	Started  time.Time `ch:"started_at_"`
	Finished time.Time `ch:"finished_at_"`
	From     time.Time `ch:"window_from_"`
	To       time.Time `ch:"window_to_"`
	Status   string    `ch:"status_"`
	Error    string    `ch:"error_"`
	Calls    uint32    `ch:"calls_"`
	Requests uint32    `ch:"requests_"`
}

// RecordDelivery notes one webhook delivery (never its body).
func (s *Store) RecordDelivery(ctx context.Context, org, event string, status int, reason string) error {
	if err := s.insert(ctx, queries.InsertWebhookDeliveries,
		[]any{org, event, uint16(status), reason, time.Now().UTC()}); err != nil {
		return fmt.Errorf("recording webhook delivery of org %s: %w", org, err)
	}
	return nil
}

// RecordDeadLetters writes dead-letter records in one insert.
func (s *Store) RecordDeadLetters(ctx context.Context, dls []model.DeadLetter) error {
	if len(dls) == 0 {
		return nil
	}
	now := time.Now().UTC()
	rows := make([][]any, len(dls))
	for i, d := range dls {
		rows[i] = []any{d.Org, d.Provider, d.CallID, d.Topic, uint32(d.Partition), uint64(d.Offset), d.Reason, now}
	}
	if err := s.insert(ctx, queries.InsertDeadLetters, rows...); err != nil {
		return fmt.Errorf("recording %d dead letters: %w", len(dls), err)
	}
	return nil
}

// RecentRuns lists the latest n sync runs of org, newest first, each with
// its final status.
func (s *Store) RecentRuns(ctx context.Context, org string, n int) ([]Run, error) {
	var rows []runRow
	if err := s.conn.Select(ctx, &rows, queries.SyncRunsRecent, org, n); err != nil {
		return nil, fmt.Errorf("reading sync runs of org %s: %w", org, err)
	}
	var out []Run
	for _, r := range rows {
		out = append(out, Run{Org: org, ID: r.ID, Provider: r.Provider, Started: r.Started, Finished: r.Finished,
			Window: model.Window{From: r.From, To: r.To}, Status: r.Status, Error: r.Error, Calls: int(r.Calls), Requests: int(r.Requests)})
	}
	return out, nil
}

// WindowStats summarises the finished backfill windows of an org.
type WindowStats struct {
	Windows      uint64
	Calls        uint64
	LastDone     time.Time
	LastWindowTo time.Time
}

// SyncWindowStats reads the finished-window summary of org.
func (s *Store) SyncWindowStats(ctx context.Context, org string) (WindowStats, error) {
	var w WindowStats
	if err := s.conn.QueryRow(ctx, queries.SyncWindowsStats, org).Scan(&w.Windows, &w.Calls, &w.LastDone, &w.LastWindowTo); err != nil {
		return w, fmt.Errorf("reading sync windows of org %s: %w", org, err)
	}
	return w, nil
}

// RecordWindowCalls records the call ids a finished window published, so
// the window counts as done only while they are in ClickHouse.
func (c *Checkpoints) RecordWindowCalls(ctx context.Context, job string, w model.Window, callIDs []string) error {
	if len(callIDs) == 0 {
		return nil
	}
	rows := make([][]any, len(callIDs))
	for i, id := range callIDs {
		rows[i] = []any{c.org, job, w.From.UTC(), w.To.UTC(), id}
	}
	if err := c.s.insert(ctx, queries.InsertSyncWindowCalls, rows...); err != nil {
		return fmt.Errorf("recording the %d calls of window %s of org %s: %w", len(callIDs), w, c.org, err)
	}
	return nil
}

// UnloadedWindow is a finished sync window with calls that never reached
// ClickHouse.
type UnloadedWindow struct {
	Job     string
	Window  model.Window
	Missing int
}

// UnloadedWindows lists org's finished sync windows whose published calls
// are neither in raw_signals nor dead-lettered: still waiting in Kafka for
// `run`, or lost with the Kafka data.
func (s *Store) UnloadedWindows(ctx context.Context, org string) ([]UnloadedWindow, error) {
	var rows []windowRow
	if err := s.conn.Select(ctx, &rows, queries.SyncWindowsUnloaded, org, org, org); err != nil {
		return nil, fmt.Errorf("checking the sync windows of org %s against ClickHouse: %w", org, err)
	}
	var out []UnloadedWindow
	for _, r := range rows {
		out = append(out, UnloadedWindow{Job: r.Job, Window: model.Window{From: r.From, To: r.To}, Missing: int(r.Missing)})
	}
	return out, nil
}

// windowRow is a finished sync window as the window reads (a cycle's
// windows, the unloaded ones) return it, with how many of its calls are
// missing from ClickHouse.
type windowRow struct {
	Job  string    `ch:"job"`
	From time.Time `ch:"window_from"`
	To   time.Time `ch:"window_to"`
	// Done is unused; Select wants a field for every column.
	Done    time.Time `ch:"done_at"`
	Missing uint64    `ch:"missing"`
}
