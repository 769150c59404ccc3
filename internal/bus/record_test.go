package bus

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

func testBox(t *testing.T, b byte) *secret.Box {
	t.Helper()
	box, err := secret.New(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func TestEncodeDecode(t *testing.T) {
	box := testBox(t, 3)
	in := model.RawCall{Org: "acme", Provider: "aircall", CallID: "42", Source: "webhook", Event: "call.ended",
		ObservedAt: time.Date(2026, 8, 3, 10, 0, 0, 123, time.UTC), UserHint: "7", Body: []byte(`{"id":42,"comments":[{"content":"refund"}]}`)}
	rec := Encode(box, TopicRaw, in)
	if string(rec.Key) != "acme/aircall/42" {
		t.Fatalf("key %q", rec.Key)
	}
	if bytes.Contains(rec.Value, []byte("refund")) {
		t.Fatal("body is not sealed")
	}
	out, err := Decode(box, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !out.ObservedAt.Equal(in.ObservedAt) || string(out.Body) != string(in.Body) || out.Event != in.Event || out.UserHint != "7" || out.Source != "webhook" {
		t.Fatalf("round trip: %+v", out)
	}
}

func TestDecodeErrors(t *testing.T) {
	box := testBox(t, 3)
	good := func() *kgo.Record {
		return Encode(box, TopicRaw, model.RawCall{Org: "acme", Provider: "aircall", CallID: "1", ObservedAt: time.Now(), Body: []byte(`{}`)})
	}
	set := func(r *kgo.Record, k, v string) *kgo.Record {
		for i := range r.Headers {
			if r.Headers[i].Key == k {
				r.Headers[i].Value = []byte(v)
			}
		}
		return r
	}
	tests := []struct {
		name string
		rec  *kgo.Record
		box  *secret.Box
		want string
	}{
		{"no org", set(good(), HeaderOrg, ""), box, "header org"},
		{"no call id", set(good(), HeaderCallID, ""), box, "header call_id"},
		{"bad time", set(good(), HeaderObservedAt, "yesterday"), box, "observed_at"},
		{"wrong encoding", set(good(), HeaderEncoding, "plain"), box, "header enc"},
		// A body moved to another call does not open: the seal binds it.
		{"moved body", set(good(), HeaderCallID, "2"), box, "does not open"},
		{"other key", good(), testBox(t, 4), "does not open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.box, tt.rec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode error %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestDecodeToMatchesDecode runs the transform's fast header path and the
// general one over good and bad records: same result, same error.
func TestDecodeToMatchesDecode(t *testing.T) {
	box := testBox(t, 3)
	good := model.RawCall{Org: "acme", Provider: "aircall", CallID: "42", Source: "poll",
		ObservedAt: time.Date(2026, 8, 3, 10, 0, 0, 123456789, time.UTC), Body: []byte(`{"id":42}`)}
	mutate := func(f func(r *kgo.Record)) *kgo.Record {
		r := Encode(box, TopicRaw, good)
		f(r)
		return r
	}
	setHeader := func(k, v string) func(r *kgo.Record) {
		return func(r *kgo.Record) {
			for i := range r.Headers {
				if r.Headers[i].Key == k {
					r.Headers[i].Value = []byte(v)
				}
			}
		}
	}
	cases := map[string]*kgo.Record{
		"good":             mutate(func(*kgo.Record) {}),
		"whole seconds":    mutate(setHeader(HeaderObservedAt, "2026-08-03T10:00:00Z")),
		"millis":           mutate(setHeader(HeaderObservedAt, "2026-08-03T10:00:00.5Z")),
		"offset":           mutate(setHeader(HeaderObservedAt, "2026-08-03T12:00:00.5+02:00")),
		"feb 30":           mutate(setHeader(HeaderObservedAt, "2026-02-30T10:00:00Z")),
		"garbage time":     mutate(setHeader(HeaderObservedAt, "yesterday")),
		"no org":           mutate(setHeader(HeaderOrg, "")),
		"other org":        mutate(setHeader(HeaderOrg, "globex")),
		"bad enc":          mutate(setHeader(HeaderEncoding, "plain")),
		"other key":        mutate(func(r *kgo.Record) { r.Key = []byte("acme/aircall/43") }),
		"tampered":         mutate(func(r *kgo.Record) { r.Value[len(r.Value)-1] ^= 1 }),
		"no headers":       mutate(func(r *kgo.Record) { r.Headers = nil }),
		"key with slashes": mutate(func(r *kgo.Record) { r.Key = []byte("acme/aircall/4/2") }),
	}
	var buf []byte
	for name, r := range cases {
		want, werr := Decode(box, r)
		got, gerr := DecodeTo(box, r, &buf)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) {
			t.Fatalf("%s: error %v, Decode says %v", name, gerr, werr)
		}
		if werr != nil {
			continue
		}
		if !got.ObservedAt.Equal(want.ObservedAt) || string(got.Body) != string(want.Body) || got.Org != want.Org ||
			got.Provider != want.Provider || got.CallID != want.CallID || got.Source != want.Source || got.Event != want.Event || got.UserHint != want.UserHint {
			t.Fatalf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

// TestDeadLetterReplay: a dead letter keeps the raw record's key, sealed
// value and headers and adds the reason and origin; its replay is the raw
// record again, naming the first dead letter, and opens like the original.
func TestDeadLetterReplay(t *testing.T) {
	box := testBox(t, 5)
	raw := Encode(box, TopicRaw, model.RawCall{Org: "acme", Provider: "aircall", CallID: "9", Source: "poll",
		ObservedAt: time.Date(2026, 8, 3, 10, 0, 0, 0, time.UTC), Body: []byte(`{"id":9}`)})
	raw.Partition, raw.Offset = 4, 17
	dead := DeadLetter(raw, "field started_at is missing")
	if dead.Topic != TopicDead || !bytes.Equal(dead.Key, raw.Key) || !bytes.Equal(dead.Value, raw.Value) {
		t.Fatalf("dead letter %s %q: want topic %s and the raw key and value", dead.Topic, dead.Key, TopicDead)
	}
	if got := Header(dead, HeaderOrigin); got != TopicRaw+"/4/17" {
		t.Fatalf("origin %q", got)
	}
	if got := Header(dead, HeaderReason); got != "field started_at is missing" {
		t.Fatalf("reason %q", got)
	}
	if len(dead.Headers) != len(raw.Headers)+2 || len(raw.Headers) != 8 {
		t.Fatalf("dead letter has %d headers, raw %d: want the raw ones plus reason and origin", len(dead.Headers), len(raw.Headers))
	}
	again := Replay(dead, "phonesignals.calls.raw/1/2")
	if again.Topic != TopicRaw || Header(again, HeaderReplayOf) != "phonesignals.calls.raw/1/2" ||
		Header(again, HeaderReason) != "" || Header(again, HeaderOrigin) != "" || len(again.Headers) != len(raw.Headers)+1 {
		t.Fatalf("replay %s headers %v", again.Topic, again.Headers)
	}
	got, err := Decode(box, again)
	if err != nil || string(got.Body) != `{"id":9}` || got.CallID != "9" {
		t.Fatalf("replay opens as %+v, %v", got, err)
	}
}
