package toytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/model"
)

// Name is the toy provider's name.
const Name = "toy"

// Provider is the toy provider's registry entry.
var Provider = ingest.Provider{
	Name:       Name,
	Title:      "Toy",
	UserIDName: "Toy agent",
	Credentials: []ingest.CredentialField{
		{Key: "token", Flag: "toy-token-file", File: true, Usage: "file holding the Toy API token"},
	},
	CredentialsHint: "(Toy → Settings → Token)",
	NewSource:       NewSource,
	Decode:          Decode,
}

// Call is the toy provider's call object, as its API serves it.
type Call struct {
	ID        string    `json:"id"`
	Agent     string    `json:"agent"`
	Start     time.Time `json:"start"`
	Seconds   int       `json:"seconds"`
	Direction string    `json:"direction"`
	Answered  bool      `json:"answered"`
	Note      string    `json:"note"`
}

// Server is the toy provider's API: GET /calls?from=RFC3339&to=RFC3339 with
// "Authorization: Bearer TOKEN" lists the calls started in [from, to).
type Server struct {
	Token string
	Calls []Call
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	from, err1 := time.Parse(time.RFC3339, r.URL.Query().Get("from"))
	to, err2 := time.Parse(time.RFC3339, r.URL.Query().Get("to"))
	if r.URL.Path != "/calls" || err1 != nil || err2 != nil {
		http.Error(w, "want /calls?from=&to=", http.StatusBadRequest)
		return
	}
	out := []Call{}
	for _, c := range s.Calls {
		if !c.Start.Before(from) && c.Start.Before(to) {
			out = append(out, c)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

type source struct {
	org, base, token string
	http             *http.Client
}

// NewSource builds the toy connector of one org.
func NewSource(o ingest.OrgConfig) (ingest.Source, error) {
	if o.BaseURL == "" || o.Credentials["token"] == "" {
		return nil, fmt.Errorf("toy: org %s needs an API URL and a token", o.Org)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &source{org: o.Org, base: o.BaseURL, token: o.Credentials["token"], http: hc}, nil
}

// Sync fetches req.Window in one request and publishes every call.
func (s *source) Sync(ctx context.Context, req ingest.SyncRequest, sink ingest.Sink, _ ingest.Checkpoints, _ ingest.Progress) (ingest.SyncResult, error) {
	u := fmt.Sprintf("%s/calls?from=%s&to=%s", s.base, req.Window.From.UTC().Format(time.RFC3339), req.Window.To.UTC().Format(time.RFC3339))
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return ingest.SyncResult{}, err
	}
	hr.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.http.Do(hr)
	if err != nil {
		return ingest.SyncResult{}, fmt.Errorf("toy: listing calls: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return ingest.SyncResult{}, &ingest.AuthError{Org: s.org, Provider: Name, Status: resp.StatusCode, Hint: "check the Toy token"}
	}
	var calls []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil {
		return ingest.SyncResult{}, fmt.Errorf("toy: decoding the call list (HTTP %d): %w", resp.StatusCode, err)
	}
	res := ingest.SyncResult{Requests: 1, Windows: 1, PerUser: map[string]int{}}
	raws := make([]model.RawCall, 0, len(calls))
	now := time.Now().UTC()
	for _, body := range calls {
		var c Call
		if err := json.Unmarshal(body, &c); err != nil {
			return res, err
		}
		raws = append(raws, model.RawCall{Org: s.org, Provider: Name, CallID: c.ID, Source: model.SourcePoll, ObservedAt: now, Body: body})
		res.PerUser[c.Agent]++
	}
	if err := sink.Publish(ctx, raws); err != nil {
		return res, err
	}
	res.Calls = len(raws)
	return res, nil
}

// Follow is not offered by the toy provider.
func (s *source) Follow(context.Context, ingest.SyncRequest, ingest.Sink, time.Duration) error {
	return errors.New("toy: follow is not supported")
}

// Decode decodes a toy call into v.
func Decode(raw model.RawCall, v *model.Call) error {
	v.Reset()
	var c Call
	if err := json.Unmarshal(raw.Body, &c); err != nil {
		return fmt.Errorf("decoding toy call %q of org %q: %w", raw.CallID, raw.Org, err)
	}
	if c.ID == "" || c.Start.IsZero() || (c.Direction != "inbound" && c.Direction != "outbound") {
		return fmt.Errorf("decoding toy call %q of org %q: id, start and direction (inbound or outbound) are required", raw.CallID, raw.Org)
	}
	v.CallID, v.UserID, v.Direction = []byte(c.ID), []byte(c.Agent), []byte(c.Direction)
	v.StartedAt, v.DurationSec = c.Start.Unix(), uint32(c.Seconds)
	v.EndedAt, v.HasEnded = c.Start.Add(time.Duration(c.Seconds)*time.Second).Unix(), true
	v.Status, v.ProviderStatus = []byte("ended"), []byte("ended")
	v.Connected, v.Completed, v.EscalationAvailable = c.Answered, true, true
	v.Version = uint64(raw.ObservedAt.UnixMilli())
	if c.Answered {
		v.AnsweredAt, v.HasAnswered = v.StartedAt, true
	}
	v.AddNote([]byte(c.Note))
	return nil
}
