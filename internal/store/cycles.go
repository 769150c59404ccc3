package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/queries"
)

// Cycle is a review cycle [Start, End) in UTC.
type Cycle struct {
	ID    string    `ch:"cycle_id"`
	Start time.Time `ch:"period_start"`
	End   time.Time `ch:"period_end"`
}

// ParseCycleDates parses YYYY-MM-DD start (inclusive) and end (exclusive).
func ParseCycleDates(start, end string) (time.Time, time.Time, error) {
	var errs []error
	s, err := time.Parse("2006-01-02", start)
	if err != nil {
		errs = append(errs, fmt.Errorf("--start %q: want YYYY-MM-DD", start))
	}
	e, err := time.Parse("2006-01-02", end)
	if err != nil {
		errs = append(errs, fmt.Errorf("--end %q: want YYYY-MM-DD", end))
	}
	if len(errs) == 0 && !e.After(s) {
		errs = append(errs, fmt.Errorf("--end %s must be after --start %s (end is exclusive)", end, start))
	}
	if len(errs) == 0 && (s.Before(model.MinStoreTime) || e.After(model.MaxStoreTime)) {
		errs = append(errs, fmt.Errorf("--start %s --end %s: cycles must lie between %s and %s (what ClickHouse DateTime holds)",
			start, end, model.MinStoreTime.Format(time.DateOnly), model.MaxStoreTime.Format(time.DateOnly)))
	}
	return s.UTC(), e.UTC(), errors.Join(errs...)
}

// checkCycleRange refuses dates ClickHouse DateTime cannot hold: they
// would wrap (1900-01-01 to 2200-01-01 was stored as 2036 to 2063).
func checkCycleRange(c Cycle) error {
	if c.Start.Before(model.MinStoreTime) || c.End.After(model.MaxStoreTime) {
		return fmt.Errorf("cycle %s: %s to %s is outside the supported range %s to %s; pick dates inside it",
			c.ID, c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly), model.MinStoreTime.Format(time.DateOnly), model.MaxStoreTime.Format(time.DateOnly))
	}
	return nil
}

// AddCycle creates or updates a cycle.
func (s *Store) AddCycle(ctx context.Context, org string, c Cycle) error {
	if c.ID == "" {
		return errors.New("cycle id is empty: pass --cycle ID")
	}
	if !c.End.After(c.Start) {
		return fmt.Errorf("cycle %s: end %s is not after start %s", c.ID, c.End.Format(time.DateOnly), c.Start.Format(time.DateOnly))
	}
	if err := checkCycleRange(c); err != nil {
		return err
	}
	if err := s.insert(ctx, queries.InsertCycles,
		[]any{org, c.ID, c.Start.UTC(), c.End.UTC(), version()}); err != nil {
		return fmt.Errorf("saving cycle %s of org %s: %w", c.ID, org, err)
	}
	return nil
}

// GetCycle reads a cycle; ErrNotFound (wrapped, naming the fix) if missing.
func (s *Store) GetCycle(ctx context.Context, org, id string) (Cycle, error) {
	var rows []Cycle
	if err := s.conn.Select(ctx, &rows, queries.CycleGet, org, id); err != nil {
		return Cycle{}, fmt.Errorf("reading cycle %s of org %s: %w", id, org, err)
	}
	if len(rows) == 0 {
		return Cycle{}, fmt.Errorf("cycle %q of org %s: %w (add it with `phonesignals cycles add --org %s --cycle %s --start YYYY-MM-DD --end YYYY-MM-DD`)", id, org, ErrNotFound, org, id)
	}
	return Cycle{ID: id, Start: rows[0].Start.UTC(), End: rows[0].End.UTC()}, nil
}

// Cycles lists the cycles of org by start.
func (s *Store) Cycles(ctx context.Context, org string) ([]Cycle, error) {
	var out []Cycle
	if err := s.conn.Select(ctx, &out, queries.CyclesList, org); err != nil {
		return nil, fmt.Errorf("listing cycles of org %s: %w", org, err)
	}
	for i := range out {
		out[i].Start, out[i].End = out[i].Start.UTC(), out[i].End.UTC()
	}
	return out, nil
}
