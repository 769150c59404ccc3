package aircall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/model"
)

// ErrTranscriptsUnavailable means Aircall refused transcripts (HTTP 403):
// the company has no Aircall AI add-on. The caller should disable
// transcripts for the org and tell its admin; retrying will not help.
var ErrTranscriptsUnavailable = errors.New("aircall refused the transcription API (HTTP 403): the company has no Aircall AI add-on")

// ErrTranscriptNotReady means the transcript still answered 404 after
// Config.TranscriptMaxAttempts attempts; the call may have none at all
// (missed, too short, or transcription failed at Aircall).
var ErrTranscriptNotReady = errors.New("aircall transcript not available")

// Transcript is a call's transcript; the type lives in model so the store
// saves it without importing the connector.
type Transcript = model.Transcript

// Utterance is one speaker turn.
type Utterance = model.Utterance

type wireTranscript struct {
	Transcription *struct {
		ID      flexID  `json:"id"`
		CallID  flexID  `json:"call_id"`
		Type    flexStr `json:"type"`
		Content struct {
			Language   flexStr `json:"language"`
			Utterances []struct {
				StartTime       float64 `json:"start_time"`
				EndTime         float64 `json:"end_time"`
				Text            string  `json:"text"`
				ParticipantType string  `json:"participant_type"`
			} `json:"utterances"`
		} `json:"content"`
	} `json:"transcription"`
}

// FetchTranscript gets the transcript of a call. Aircall announces a
// transcript (transcription.created) before it serves it, so 404 is
// retried every Config.TranscriptRetryDelay up to
// Config.TranscriptMaxAttempts times, then reported as
// ErrTranscriptNotReady. 403 is ErrTranscriptsUnavailable at once.
func (c *Client) FetchTranscript(ctx context.Context, callID string) (Transcript, error) {
	callID = strings.TrimSpace(callID)
	if callID == "" {
		return Transcript{}, errors.New("fetching aircall transcript: call id is empty")
	}
	path := "/calls/" + url.PathEscape(callID) + "/transcription"
	attempts := c.cfg.TranscriptMaxAttempts
	for attempt := 1; ; attempt++ {
		body, _, err := c.get(ctx, path, nil, nil)
		switch st := httpStatus(err); {
		case err == nil:
			t, derr := decodeTranscript(body, callID)
			if derr != nil {
				return Transcript{}, fmt.Errorf("decoding aircall transcript of call %s: %w", callID, derr)
			}
			return t, nil
		case st == http.StatusForbidden:
			return Transcript{}, fmt.Errorf("fetching aircall transcript of call %s: %w", callID, ErrTranscriptsUnavailable)
		case st == http.StatusNotFound:
			if attempt >= attempts {
				return Transcript{}, fmt.Errorf("fetching aircall transcript of call %s: still 404 after %d attempts %s apart, giving up: %w",
					callID, attempts, c.cfg.TranscriptRetryDelay, ErrTranscriptNotReady)
			}
			c.log.Debug("aircall transcript not ready yet", "call_id", callID, "attempt", attempt, "retry_in", c.cfg.TranscriptRetryDelay)
			if err := c.cfg.Sleep(ctx, c.cfg.TranscriptRetryDelay); err != nil {
				return Transcript{}, fmt.Errorf("waiting for aircall transcript of call %s: %w", callID, err)
			}
		default:
			return Transcript{}, fmt.Errorf("fetching aircall transcript of call %s: %w", callID, err)
		}
	}
}

func decodeTranscript(body []byte, callID string) (Transcript, error) {
	var w wireTranscript
	if err := json.Unmarshal(body, &w); err != nil {
		return Transcript{}, err
	}
	if w.Transcription == nil {
		return Transcript{}, errors.New(`answer has no "transcription" object`)
	}
	tr := w.Transcription
	t := Transcript{CallID: string(tr.CallID), Type: string(tr.Type), Language: string(tr.Content.Language)}
	if t.CallID == "" {
		t.CallID = callID
	}
	for i, u := range tr.Content.Utterances {
		t.Utterances = append(t.Utterances, Utterance{
			Index: i, StartTime: u.StartTime, EndTime: u.EndTime,
			Speaker: u.ParticipantType, Text: u.Text,
		})
	}
	return t, nil
}

// TranscriptStore keeps transcripts and the per-org transcript state.
type TranscriptStore = ingest.TranscriptStore

// HandleTranscriptEvent fetches and stores the transcript announced by a
// transcription.created record (as published by the webhook server to its
// TranscriptSink). The caller must only pass records of orgs that opted in
// to transcripts, and c must be the client of raw.Org; the webhook server
// already drops the events of other orgs.
//
// Outcomes the store records (no AI add-on: transcripts disabled; still 404
// after all attempts: a failure for the call) return nil, so the consumer
// moves on; other errors (network, auth, store) are returned for the
// caller to retry or dead-letter. It blocks while 404s are retried.
func HandleTranscriptEvent(ctx context.Context, raw model.RawCall, c *Client, store TranscriptStore) error {
	if c == nil || store == nil {
		return errors.New("handling aircall transcription event: client and store are required")
	}
	if raw.Org != c.org {
		return fmt.Errorf("handling aircall transcription event: the event is for org %q but the client holds the credentials of org %q", raw.Org, c.org)
	}
	callID := raw.CallID
	if callID == "" {
		var d struct {
			CallID flexID `json:"call_id"`
		}
		if err := json.Unmarshal(raw.Body, &d); err != nil {
			return fmt.Errorf("handling aircall transcription event of org %q: decoding data: %w", raw.Org, err)
		}
		callID = string(d.CallID)
	}
	if callID == "" {
		return fmt.Errorf("handling aircall transcription event of org %q: data.call_id is missing", raw.Org)
	}
	t, err := c.FetchTranscript(ctx, callID)
	switch {
	case err == nil:
		if err := store.SaveTranscript(ctx, raw.Org, t); err != nil {
			return fmt.Errorf("saving aircall transcript of call %s (org %q): %w", callID, raw.Org, err)
		}
		return nil
	case errors.Is(err, ErrTranscriptsUnavailable):
		reason := "Aircall refuses transcripts for this company (HTTP 403): it has no Aircall AI add-on. Transcripts were turned off; turn them on again after adding the add-on."
		c.log.Warn("aircall transcripts unavailable; disabling them for the org", "call_id", callID)
		if err := store.DisableTranscripts(ctx, raw.Org, reason); err != nil {
			return fmt.Errorf("disabling aircall transcripts of org %q: %w", raw.Org, err)
		}
		return nil
	case errors.Is(err, ErrTranscriptNotReady):
		c.log.Warn("aircall transcript never became available", "call_id", callID, "err", err)
		if err := store.RecordTranscriptFailure(ctx, raw.Org, callID, err.Error()); err != nil {
			return fmt.Errorf("recording aircall transcript failure of call %s (org %q): %w", callID, raw.Org, err)
		}
		return nil
	default:
		return fmt.Errorf("handling aircall transcription event of org %q: %w", raw.Org, err)
	}
}
