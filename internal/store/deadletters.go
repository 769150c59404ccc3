package store

import (
	"context"
	"fmt"
	"time"

	"github.com/phonesignals/phonesignals/queries"
)

// Origin names a raw record's position as the dead-letter topic's
// "origin" header does: topic/partition/offset.
func Origin(topic string, partition int32, offset int64) string {
	return fmt.Sprintf("%s/%d/%d", topic, partition, offset)
}

// ReplayKey identifies a replay: the org, the record (by the origin of its
// first dead letter) and the reason it failed with.
func ReplayKey(org, root, reason string) string { return org + "\x00" + root + "\x00" + reason }

// ReplayedDeadLetters returns when each dead letter of org ("" for every
// org) was replayed, keyed by ReplayKey.
func (s *Store) ReplayedDeadLetters(ctx context.Context, org string) (map[string]time.Time, error) {
	var rows []struct {
		Org    string    `ch:"org"`
		Origin string    `ch:"origin"`
		Reason string    `ch:"reason"`
		At     time.Time `ch:"last_replayed_at"`
	}
	if err := s.conn.Select(ctx, &rows, queries.DeadLetterReplays, org, org); err != nil {
		return nil, fmt.Errorf("reading replayed dead letters: %w", err)
	}
	out := map[string]time.Time{}
	for _, r := range rows {
		out[ReplayKey(r.Org, r.Origin, r.Reason)] = r.At
	}
	return out, nil
}

// Replayed is one dead letter re-published by `dlq replay`.
type Replayed struct {
	Org string
	// Origin is the origin of the record's first dead letter.
	Origin string
	// Reason is why it failed.
	Reason string
	CallID string
}

// RecordReplays notes dead letters as replayed, so they are not replayed
// again.
func (s *Store) RecordReplays(ctx context.Context, rs []Replayed) error {
	if len(rs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	rows := make([][]any, len(rs))
	for i, r := range rs {
		rows[i] = []any{r.Org, r.Origin, r.Reason, r.CallID, now}
	}
	if err := s.insert(ctx, queries.InsertDeadLetterReplays, rows...); err != nil {
		return fmt.Errorf("recording %d replayed dead letters: %w", len(rs), err)
	}
	return nil
}
