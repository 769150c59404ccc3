package store

import (
	"context"
	"fmt"
	"time"

	"github.com/phonesignals/phonesignals/queries"
)

// ServeStatus is one org's row in `serve status`: its provider, whether it
// is connected, and the newest status a serve replica recorded for it.
type ServeStatus struct {
	Org      string
	Provider string
	// Connected says the org has stored credentials (`org connect`).
	Connected bool
	// RunID is the status run (serve/REPLICA/SESSION); empty when no
	// replica has followed the org.
	RunID string
	// Written is when that replica last wrote the status (it does at least
	// every minute while it follows the org).
	Written time.Time
	// LastSuccess is the start of the org's last successful round:
	// everything created before it was published.
	LastSuccess time.Time
	// Status is running, ok, error or auth_error; Error the last error
	// with its fix.
	Status, Error string
}

// ServeStatuses reads every org's serve status in one query, ordered by
// org, so `serve status` costs one read whatever the number of orgs.
func (s *Store) ServeStatuses(ctx context.Context) ([]ServeStatus, error) {
	var rows []struct {
		Org         string    `ch:"org"`
		Provider    string    `ch:"provider_"`
		Connected   uint8     `ch:"connected_"`
		RunID       string    `ch:"run_id_"`
		Written     time.Time `ch:"finished_at_"`
		LastSuccess time.Time `ch:"window_to_"`
		Status      string    `ch:"status_"`
		Error       string    `ch:"error_"`
	}
	if err := s.conn.Select(ctx, &rows, queries.ServeStatus); err != nil {
		return nil, fmt.Errorf("reading the serve status of every org: %w", err)
	}
	out := make([]ServeStatus, len(rows))
	for i, r := range rows {
		out[i] = ServeStatus{Org: r.Org, Provider: r.Provider, Connected: r.Connected == 1, RunID: r.RunID,
			Written: r.Written, LastSuccess: r.LastSuccess, Status: r.Status, Error: r.Error}
	}
	return out, nil
}
