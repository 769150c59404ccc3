package ringcentral

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
)

// fixtureDir holds the decode fixtures, shared at the repository root.
const fixtureDir = "../../testdata/ringcentral"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return b
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDecode(t *testing.T) {
	observed := time.Date(2026, 8, 10, 0, 0, 0, 0, time.UTC)
	ms := func(s string) uint64 { return uint64(mustTime(t, s).UnixMilli()) }
	tests := []struct {
		file    string
		hint    string
		wantErr string // substring; "" means success
		check   func(t *testing.T, c modeltest.Call)
	}{
		{file: "account_detailed.json", hint: "99999", check: func(t *testing.T, c modeltest.Call) {
			want := modeltest.Call{
				Org: "acme", Provider: Name, CallID: "RC4010000042X",
				UserID: "62001122", StartedAt: mustTime(t, "2026-08-03T09:12:44Z"),
				Direction: "inbound", DurationSec: 187, Status: "Accepted", ProviderStatus: "Accepted", Connected: true, Completed: true,
				Version: ms("2026-08-03T09:15:53.127Z"), Source: model.SourcePoll, ObservedAt: observed,
			}
			end := want.StartedAt.Add(187 * time.Second)
			want.EndedAt = &end
			assertCall(t, c, want)
		}},
		{file: "extension_outbound.json", hint: "62000011", check: func(t *testing.T, c modeltest.Call) {
			if c.UserID != "62000011" {
				t.Errorf("UserID = %q, want the hint 62000011 (per-extension records name no extension)", c.UserID)
			}
			if c.Direction != "outbound" || c.Status != "No Answer" || c.DurationSec != 0 {
				t.Errorf("got direction %q status %q duration %d", c.Direction, c.Status, c.DurationSec)
			}
			if !c.StartedAt.Equal(mustTime(t, "2026-08-03T18:00:00Z")) {
				t.Errorf("StartedAt = %v", c.StartedAt)
			}
		}},
		{file: "nulls.json", hint: "62000011", check: func(t *testing.T, c modeltest.Call) {
			if c.UserID != "62000011" {
				t.Errorf("UserID = %q, want the hint for a null extension", c.UserID)
			}
			if c.Status != "" || c.EndedAt != nil || c.DurationSec != 0 || c.Deleted {
				t.Errorf("nulls decoded as %+v", c)
			}
			if c.Version != uint64(observed.UnixMilli()) {
				t.Errorf("Version = %d, want ObservedAt in ms without lastModifiedTime", c.Version)
			}
			if !c.StartedAt.Equal(mustTime(t, "2026-08-04T07:59:59Z")) || c.StartedAt.Location() != time.UTC {
				t.Errorf("StartedAt = %v, want UTC", c.StartedAt)
			}
		}},
		{file: "extension_id_string.json", check: func(t *testing.T, c modeltest.Call) {
			if c.UserID != "62000048" || c.Status != "Call connected" || c.DurationSec != 61 {
				t.Errorf("got %+v", c)
			}
			if c.Version != ms("2026-08-04T10:01:05.5Z") {
				t.Errorf("Version = %d", c.Version)
			}
		}},
		{file: "deleted.json", hint: "1", check: func(t *testing.T, c modeltest.Call) {
			if !c.Deleted || c.UserID != "62000011" || c.Status != "Missed" {
				t.Errorf("got deleted=%v user=%q status=%q", c.Deleted, c.UserID, c.Status)
			}
		}},
		{file: "missing_id.json", wantErr: "missing id"},
		{file: "missing_start_time.json", wantErr: "missing startTime"},
		{file: "bad_start_time.json", wantErr: "startTime"},
		{file: "bad_direction.json", wantErr: `direction "Internal"`},
		{file: "wrong_type.json", wantErr: "field duration"},
		{file: "bad_last_modified.json", wantErr: "lastModifiedTime"},
		{file: "truncated.json", wantErr: "not a JSON call object"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			raw := model.RawCall{
				Org: "acme", Provider: Name, CallID: "from-key",
				Source: model.SourcePoll, ObservedAt: observed, UserHint: tt.hint,
				Body: readFixture(t, tt.file),
			}
			c, err := modeltest.Decode(Decode, raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			// True of every RingCentral call: no notes or tags to read.
			if c.EscalationAvailable || c.Notes != nil || c.Tags != nil {
				t.Errorf("EscalationAvailable=%v Notes=%v Tags=%v, want false/nil/nil", c.EscalationAvailable, c.Notes, c.Tags)
			}
			tt.check(t, c)
		})
	}
}

func assertCall(t *testing.T, got, want modeltest.Call) {
	t.Helper()
	if (got.EndedAt == nil) != (want.EndedAt == nil) || (got.EndedAt != nil && !got.EndedAt.Equal(*want.EndedAt)) {
		t.Errorf("EndedAt = %v, want %v", got.EndedAt, want.EndedAt)
	}
	got.EndedAt, want.EndedAt = nil, nil
	if !got.StartedAt.Equal(want.StartedAt) {
		t.Errorf("StartedAt = %v, want %v", got.StartedAt, want.StartedAt)
	}
	got.StartedAt, want.StartedAt = time.Time{}, time.Time{}
	if !got.ObservedAt.Equal(want.ObservedAt) {
		t.Errorf("ObservedAt = %v, want %v", got.ObservedAt, want.ObservedAt)
	}
	got.ObservedAt, want.ObservedAt = time.Time{}, time.Time{}
	g, w := got, want
	if g.Org != w.Org || g.Provider != w.Provider || g.CallID != w.CallID || g.UserID != w.UserID ||
		g.Direction != w.Direction || g.DurationSec != w.DurationSec || g.Status != w.Status ||
		g.ProviderStatus != w.ProviderStatus || g.Connected != w.Connected || g.Completed != w.Completed || g.Deleted != w.Deleted || g.Version != w.Version ||
		g.Source != w.Source || g.Event != w.Event || g.MissedReason != w.MissedReason || g.AnsweredAt != nil ||
		g.Missed != w.Missed || g.Voicemail != w.Voicemail || g.AnswerTimeAvailable {
		t.Errorf("Decode =\n %+v\nwant\n %+v", g, w)
	}
}

// TestDecodeFakeRecords decodes what the fake serves, so the fake and the
// decoder cannot drift apart unnoticed.
func TestDecodeFakeRecords(t *testing.T) {
	org := testOrg(t, 3, 1, 14)
	env := newEnv(t, org, ringcentraltest.FakeOptions{HeavyLimit: 1000, HeavyWindow: time.Second}, Config{Mode: ModeAccount})
	sink := env.sync(t, env.request(org, ""), nil)
	byID := map[string]int{}
	for i, c := range org.Calls {
		byID[c.StrID()] = i
	}
	for _, raw := range sink.Snapshot() {
		c, err := modeltest.Decode(Decode, raw)
		if err != nil {
			t.Fatalf("Decode(%s): %v", raw.CallID, err)
		}
		want := org.Calls[byID[c.CallID]]
		if c.UserID != want.UserID || c.Direction != want.Direction || int(c.DurationSec) != want.Duration ||
			c.Status != want.RCResult() || !c.StartedAt.Equal(want.StartedAt) || c.Deleted != want.Deleted {
			t.Fatalf("decoded %+v from fixture call %+v", c, want)
		}
	}
}

// Only the results that mean a connected, normally ended call set the
// neutral fields the resolution rule reads.
func TestDecodeConnectedResults(t *testing.T) {
	for _, tt := range []struct {
		result string
		want   bool
	}{
		{"Call connected", true}, {"Accepted", true}, {"Missed", false}, {"Voicemail", false},
		{"No Answer", false}, {"Busy", false}, {"call connected", false}, {"", false},
	} {
		body := `{"id":"RC1","startTime":"2026-08-03T09:00:00Z","direction":"Inbound","duration":5,"result":"` + tt.result + `"}`
		c, err := modeltest.Decode(Decode, model.RawCall{Org: "acme", Provider: Name, CallID: "RC1", Body: []byte(body)})
		if err != nil {
			t.Fatalf("%q: %v", tt.result, err)
		}
		if c.Connected != tt.want || c.Completed != tt.want {
			t.Errorf("result %q: Connected %v Completed %v, want %v", tt.result, c.Connected, c.Completed, tt.want)
		}
	}
}

// The talk-time verdicts (README, The review block): an inbound call is
// missed when its result says it rang the extension (or was refused by
// it) and was not answered; voicemail when the result is Voicemail.
// Outbound calls are never missed, and the call log has no answer time.
func TestDecodeMissedResults(t *testing.T) {
	for _, tt := range []struct {
		result, direction string
		missed, voicemail bool
	}{
		{"Missed", "Inbound", true, false}, {"Voicemail", "Inbound", true, true}, {"Rejected", "Inbound", true, false},
		{"Declined", "Inbound", true, false}, {"No Answer", "Inbound", true, false}, {"Busy", "Inbound", true, false},
		{"Accepted", "Inbound", false, false}, {"Call connected", "Inbound", false, false}, {"Hang Up", "Inbound", false, false},
		{"Abandoned", "Inbound", false, false}, {"Blocked", "Inbound", false, false}, {"Call Failed", "Inbound", false, false},
		{"Stopped", "Inbound", false, false}, {"Unknown", "Inbound", false, false}, {"missed", "Inbound", false, false}, {"", "Inbound", false, false},
		{"No Answer", "Outbound", false, false}, {"Missed", "Outbound", false, false}, {"Voicemail", "Outbound", false, false},
	} {
		body := `{"id":"RC1","startTime":"2026-08-03T09:00:00Z","direction":"` + tt.direction + `","duration":5,"result":"` + tt.result + `"}`
		c, err := modeltest.Decode(Decode, model.RawCall{Org: "acme", Provider: Name, CallID: "RC1", Body: []byte(body)})
		if err != nil {
			t.Fatalf("%q: %v", tt.result, err)
		}
		if c.Missed != tt.missed || c.Voicemail != tt.voicemail || c.AnswerTimeAvailable {
			t.Errorf("%s %q: missed %v voicemail %v answer times %v, want %v %v false", tt.direction, tt.result, c.Missed, c.Voicemail, c.AnswerTimeAvailable, tt.missed, tt.voicemail)
		}
	}
}
