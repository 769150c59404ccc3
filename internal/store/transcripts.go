package store

import (
	"context"
	"fmt"
	"time"

	"github.com/phonesignals/phonesignals/queries"

	"github.com/phonesignals/phonesignals/internal/model"
)

// TranscriptStore returns the durable transcript store (it satisfies
// aircall.TranscriptStore): utterances go to call_transcripts (never
// raw_signals); outcomes to transcript_events.
func (s *Store) TranscriptStore() TranscriptStore { return TranscriptStore{s} }

// TranscriptStore saves transcripts and their outcomes in ClickHouse.
type TranscriptStore struct{ s *Store }

// SaveTranscript stores tr's utterances and records it as saved.
func (t TranscriptStore) SaveTranscript(ctx context.Context, org string, tr model.Transcript) error {
	now := time.Now().UTC()
	rows := make([][]any, 0, len(tr.Utterances))
	for _, u := range tr.Utterances {
		rows = append(rows, []any{org, tr.CallID, uint32(u.Index), u.StartTime, u.EndTime, u.Speaker, u.Text, tr.Language, now})
	}
	if len(rows) > 0 {
		if err := t.s.insert(ctx, queries.InsertCallTranscripts, rows...); err != nil {
			return fmt.Errorf("saving transcript of call %s of org %s: %w", tr.CallID, org, err)
		}
	}
	return t.event(ctx, org, tr.CallID, "saved", fmt.Sprintf("%d utterances", len(rows)))
}

// DisableTranscripts turns transcripts off for org, recording why.
func (t TranscriptStore) DisableTranscripts(ctx context.Context, org, reason string) error {
	o, err := t.s.GetOrg(ctx, org)
	if err != nil {
		return err
	}
	o.Transcripts = false
	if err := t.s.SaveOrg(ctx, o); err != nil {
		return err
	}
	return t.event(ctx, org, "", "disabled", reason)
}

// RecordTranscriptFailure records that callID's transcript could not be had.
func (t TranscriptStore) RecordTranscriptFailure(ctx context.Context, org, callID, reason string) error {
	return t.event(ctx, org, callID, "failed", reason)
}

func (t TranscriptStore) event(ctx context.Context, org, callID, status, reason string) error {
	if err := t.s.insert(ctx, queries.InsertTranscriptEvents,
		[]any{org, callID, status, reason, time.Now().UTC()}); err != nil {
		return fmt.Errorf("recording transcript event of org %s: %w", org, err)
	}
	return nil
}
