package aircall

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

func callDiff(a, b *model.Call) string {
	type pair struct {
		name string
		x, y []byte
	}
	for _, p := range []pair{{"CallID", a.CallID, b.CallID}, {"UserID", a.UserID, b.UserID}, {"Direction", a.Direction, b.Direction},
		{"Status", a.Status, b.Status}, {"ProviderStatus", a.ProviderStatus, b.ProviderStatus}, {"MissedReason", a.MissedReason, b.MissedReason},
		{"Notes", a.Notes, b.Notes}, {"Tags", a.Tags, b.Tags}} {
		if !bytes.Equal(p.x, p.y) {
			return fmt.Sprintf("%s: %q vs %q", p.name, p.x, p.y)
		}
	}
	x := fmt.Sprint(a.StartedAt, a.AnsweredAt, a.HasAnswered, a.EndedAt, a.HasEnded, a.DurationSec, a.EscalationAvailable, a.Connected, a.Completed, a.Deleted, a.Version,
		a.Missed, a.Voicemail, a.AnswerTimeAvailable)
	y := fmt.Sprint(b.StartedAt, b.AnsweredAt, b.HasAnswered, b.EndedAt, b.HasEnded, b.DurationSec, b.EscalationAvailable, b.Connected, b.Completed, b.Deleted, b.Version,
		b.Missed, b.Voicemail, b.AnswerTimeAvailable)
	if x != y {
		return x + " vs " + y
	}
	return ""
}

// checkSame decodes body with Decode and with its tolerant fallback alone
// and fails on any difference, in the result or in the error: the fast
// path may take a body only if it gives what the fallback gives.
func checkSame(t *testing.T, name string, body []byte, event string) {
	t.Helper()
	raw := model.RawCall{Org: "acme", Provider: Name, CallID: "1", Event: event,
		ObservedAt: time.Date(2026, 8, 2, 9, 0, 0, 5e8, time.UTC), Body: body}
	var want, got model.Call
	werr := decodeTolerant(raw, &want)
	gerr := Decode(raw, &got)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Fatalf("%s: error %v, tolerant path says %v", name, gerr, werr)
	}
	if werr == nil {
		if d := callDiff(&got, &want); d != "" {
			t.Fatalf("%s: fast and tolerant paths differ: %s", name, d)
		}
	}
}

func TestFastPathMatchesTolerant(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "aircall", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range []string{"", "call.ended", EventTranscriptionCreated} {
			checkSame(t, filepath.Base(f)+"/"+ev, body, ev)
		}
	}
	base := `"direction":"inbound","status":"done","started_at":1785571200,"answered_at":1785571207,"ended_at":1785571450,"duration":250`
	tests := []struct{ name, body string }{
		{"plain", `{"id":1,` + base + `}`},
		{"escapes in notes", `{"id":1,` + base + `,"comments":[{"content":"Line one\nURGENT \"refund\" caf\u00e9 \ud83d\ude00 \/ \\"}]}`},
		{"unicode raw", `{"id":1,` + base + `,"tags":[{"name":"Überprüfung MANAGER"}]}`},
		{"lone surrogate", `{"id":1,` + base + `,"comments":[{"content":"x \ud83d y"}]}`},
		{"invalid utf8", "{\"id\":1," + base + ",\"comments\":[{\"content\":\"bad \xff byte\"}]}"},
		{"control char", "{\"id\":1," + base + ",\"comments\":[{\"content\":\"tab\there\"}]}"},
		{"key case", `{"ID":1,` + base + `}`},
		{"nested key case", `{"id":1,` + base + `,"user":{"Id":5}}`},
		{"escaped key", `{"\u0069d":1,` + base + `}`},
		{"duplicate id", `{"id":1,"id":2,` + base + `}`},
		{"duplicate comments", `{"id":1,` + base + `,"comments":[{"content":"a"}],"comments":[{"content":"b"}]}`},
		{"string id", `{"id":"77",` + base + `}`},
		{"blank string id", `{"id":" 77 ",` + base + `}`},
		{"float id", `{"id":4.000000123e9,` + base + `}`},
		{"negative id", `{"id":-3,` + base + `}`},
		{"leading zero", `{"id":012,` + base + `}`},
		{"string times", `{"id":1,"direction":"inbound","started_at":"1785571200","ended_at":"2026-08-01T10:00:00Z"}`},
		{"float time", `{"id":1,"direction":"inbound","started_at":1785571200.7}`},
		{"bare user id", `{"id":1,` + base + `,"user":100007}`},
		{"user null id", `{"id":1,` + base + `,"user":{"id":null,"name":"x"}}`},
		{"upper direction", `{"id":1,"direction":"Inbound","started_at":1}`},
		{"padded status", `{"id":1,"direction":"inbound","status":" Done ","started_at":1}`},
		{"unknown status", `{"id":1,"direction":"inbound","status":"abandoned","started_at":1}`},
		{"no status ended", `{"id":1,"direction":"outbound","started_at":1,"ended_at":5}`},
		{"no status answered", `{"id":1,"direction":"outbound","started_at":1,"answered_at":3}`},
		{"voicemail blank", `{"id":1,` + base + `,"voicemail":"  "}`},
		{"voicemail object", `{"id":1,` + base + `,"voicemail":{"url":"x"}}`},
		{"voicemail missed", `{"id":1,"direction":"inbound","status":"done","started_at":1,"voicemail":"https://v"}`},
		{"voicemail answered", `{"id":1,"direction":"inbound","status":"done","started_at":1,"answered_at":4,"ended_at":9,"voicemail":"https://v","user":{"id":7}}`},
		{"voicemail ringing", `{"id":1,"direction":"inbound","status":"initial","started_at":1,"voicemail":"https://v"}`},
		{"missed with user", `{"id":1,"direction":"inbound","status":"done","started_at":1,"ended_at":9,"user":{"id":7}}`},
		{"missed no status", `{"id":1,"direction":"inbound","started_at":1,"ended_at":9,"user":{"id":7}}`},
		{"outbound voicemail", `{"id":1,"direction":"outbound","status":"done","started_at":1,"ended_at":9,"voicemail":"https://v"}`},
		{"number direction", `{"id":1,"direction":5,"started_at":1}`},
		{"missing id", `{"direction":"inbound","started_at":1}`},
		{"null id", `{"id":null,"direction":"inbound","started_at":1}`},
		{"missing started", `{"id":1,"direction":"inbound"}`},
		{"bad direction", `{"id":1,"direction":"sideways","started_at":1}`},
		{"string tags", `{"id":1,` + base + `,"tags":["vip",null,"Refund"],"comments":["note one",""]}`},
		{"tags object", `{"id":1,` + base + `,"tags":{"name":"x"}}`},
		{"comment name only", `{"id":1,` + base + `,"comments":[{"name":"by name"},{"content":null,"name":"fallback"}]}`},
		{"nested unknown", `{"id":1,` + base + `,"number":{"a":[1,2.5e3,-0.1,true,false,null,{"b":"c\"d"}]},"teams":[]}`},
		{"bad number unknown", `{"id":1,` + base + `,"x":1.}`},
		{"bad literal unknown", `{"id":1,` + base + `,"x":nul}`},
		{"trailing comma", `{"id":1,` + base + `,}`},
		{"trailing garbage", `{"id":1,` + base + `} x`},
		{"whitespace", " \n{ \"id\" : 1 ,\t\"direction\" : \"inbound\" , \"started_at\" : 1 } \n"},
		{"truncated", `{"id":1,` + base},
		{"huge duration", `{"id":1,"direction":"inbound","started_at":1,"duration":99999999999}`},
		{"negative duration", `{"id":1,"direction":"inbound","started_at":1,"duration":-5}`},
		{"deep", `{"id":1,"direction":"inbound","started_at":1,"x":` + deep(300) + `}`},
		{"not object", `[1,2]`},
		{"empty", ``},
	}
	for _, tt := range tests {
		for _, ev := range []string{"", "call.created"} {
			checkSame(t, tt.name+"/"+ev, []byte(tt.body), ev)
		}
	}
}

func deep(n int) string {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		b.WriteByte('[')
	}
	for i := 0; i < n; i++ {
		b.WriteByte(']')
	}
	return b.String()
}

// TestFastPathDoesNotAllocate keeps the common body off the
// heap: strings alias the body, notes go to the call's reused buffers.
func TestFastPathDoesNotAllocate(t *testing.T) {
	body := []byte(`{"id":4010000123,"direction":"inbound","status":"done","started_at":1785571200,"answered_at":1785571207,` +
		`"ended_at":1785571450,"duration":250,"user":{"id":100007,"name":"Ada"},"tags":[{"id":1,"name":"Billing"}],` +
		`"comments":[{"id":9,"content":"Customer wants the manager","posted_at":1785571460}]}`)
	raw := model.RawCall{Org: "acme", Provider: Name, CallID: "1", ObservedAt: time.Now(), Body: body}
	var v model.Call
	if !decodeFast(raw, &v) {
		t.Fatal("common body left the fast path")
	}
	if n := testing.AllocsPerRun(100, func() { v.Reset(); decodeFast(raw, &v) }); n != 0 {
		t.Fatalf("%v allocations per decode, want 0", n)
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "aircall", "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkSame(t, "fuzz", body, "") })
}
