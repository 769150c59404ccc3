package e2e

import (
	"context"
	"encoding/json"
	"math/rand"
	"strconv"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// gotTalk and wantTalk lay out the talk-time numbers for comparison:
// answered, missed, voicemail, talk time, average talk, average time to
// answer and whether it is available (1) or n/a (0, and the average 0).
func gotTalk(m store.Metrics) [7]uint64 {
	t := m.Talk
	return [7]uint64{t.AnsweredCalls, t.MissedCalls, t.VoicemailCalls, t.TalkTimeSec, t.AvgTalkSec, t.AvgAnswerSec, b2u(t.AnswerTimeAvailable)}
}

func wantTalk(w fixture.Metrics) [7]uint64 {
	return [7]uint64{uint64(w.AnsweredCalls), uint64(w.MissedCalls), uint64(w.VoicemailCalls), uint64(w.TalkTimeSec), uint64(w.AvgTalkSec),
		uint64(w.AvgAnswerSec), b2u(w.AnswerTimeAvailable)}
}

func gotTalkMedians(b store.Baseline) [5]float64 {
	m := b.TalkMedians
	return [5]float64{m.AnsweredCalls, m.MissedCalls, m.VoicemailCalls, m.TalkTimeSec, m.AvgTalkSec}
}

func wantTalkMedians(b fixture.Baseline) [5]float64 {
	return [5]float64{b.MedianAnsweredCalls, b.MedianMissedCalls, b.MedianVoicemailCalls, b.MedianTalkTimeSec, b.MedianAvgTalkSec}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// talkSeen counts what a cycle's talk-time numbers exercised, so a
// comparison of zeros cannot pass for a check.
type talkSeen struct{ answered, talk, missed, voicemail, timed, untimed int }

func (s *talkSeen) add(m store.Metrics) {
	t := m.Talk
	s.answered += int(t.AnsweredCalls)
	s.talk += int(t.TalkTimeSec)
	s.missed += int(t.MissedCalls)
	s.voicemail += int(t.VoicemailCalls)
	if t.AnswerTimeAvailable {
		s.timed++
	} else {
		s.untimed++
	}
}

// check fails when the cycle had no answered calls or talk time, or (for
// RingCentral, whose missed inbound calls keep their extension) no missed
// calls and voicemails; and when time to answer shows for RingCentral.
func (s talkSeen) check(t testing.TB, o *fixture.Org, cycle string) {
	t.Helper()
	if s.answered == 0 || s.talk == 0 {
		t.Fatalf("cycle %s: no answered calls or talk time (%+v): the fixture is too thin", cycle, s)
	}
	ring := o.Provider == fixture.RingCentral
	if ring && (s.missed == 0 || s.voicemail == 0) {
		t.Fatalf("cycle %s: no missed calls or voicemails (%+v) in a RingCentral org", cycle, s)
	}
	if ring && s.timed != 0 {
		t.Errorf("cycle %s: %d RingCentral employees show a time to answer; the call log has none (n/a, never 0)", cycle, s.timed)
	}
	if !ring && s.timed == 0 {
		t.Errorf("cycle %s: no Aircall employee has a time to answer", cycle)
	}
}

// TestAircallTalkMetrics loads Aircall calls whose shapes the simulated
// Aircall does not serve: unanswered inbound calls that rang an employee
// (the user stays on the call), voicemails among them, voicemails that
// carry an answered_at, and answered calls that end before their
// answer time. Every talk-time number and median must equal the
// independent computation (fixture.CallTalk, the README's definitions).
func TestAircallTalkMetrics(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	o := fixture.Generate(fixture.Spec{Seed: 21, Org: "acme", Employees: 9, UnmappedUsers: 1, Days: 45, CallsPerDay: 4})
	rng := rand.New(rand.NewSource(3))
	var missedWithUser, vmAnswered, skewed int
	for i := range o.Calls {
		c := &o.Calls[i]
		switch {
		case c.Direction == "inbound" && c.Outcome != "answered" && rng.Float64() < 0.7:
			// A direct call: it rang this user, who did not take it.
			c.UserID = o.Users[rng.Intn(len(o.Users))].ID
			missedWithUser++
			if c.Outcome == "voicemail" && rng.Float64() < 0.4 {
				// Some accounts report the voicemail greeting as an answer.
				a := c.StartedAt.Add(time.Duration(5+rng.Intn(20)) * time.Second)
				c.AnsweredAt = &a
				c.Resolved = true // the seed's rule: done with answered_at
				vmAnswered++
			}
		case c.Outcome == "answered" && c.AnsweredAt.After(c.EndedAt):
			skewed++
		}
	}
	if missedWithUser < 50 || vmAnswered == 0 || skewed == 0 {
		t.Fatalf("fixture too thin: %d direct missed calls, %d answered voicemails, %d calls ending before their answer", missedWithUser, vmAnswered, skewed)
	}
	r.configure(o)
	now := time.Now().UTC()
	var raws []model.RawCall
	for _, c := range o.Calls {
		raws = append(raws, model.RawCall{Org: o.Name, Provider: fixture.Aircall, CallID: strconv.FormatInt(c.ID, 10),
			Source: model.SourcePoll, ObservedAt: now, Body: aircallBody(t, c)})
	}
	for len(raws) > 0 {
		n := min(len(raws), 500)
		if err := r.pub.Publish(ctx, raws[:n]); err != nil {
			t.Fatal(err)
		}
		raws = raws[n:]
	}
	r.drain()
	r.verify(o)
	// Missed calls and voicemails reached employees here.
	var missed, voicemails uint64
	for _, cy := range o.Cycles {
		ms, err := r.st.CycleMetrics(ctx, o.Name, cy.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			missed, voicemails = missed+m.MissedCalls, voicemails+m.VoicemailCalls
		}
	}
	if missed == 0 || voicemails == 0 {
		t.Fatalf("no missed calls (%d) or voicemails (%d) counted for employees", missed, voicemails)
	}
}

// aircallBody renders a final (ended) call as Aircall's REST API does,
// with its user whenever the call has one.
func aircallBody(t *testing.T, c fixture.Call) []byte {
	t.Helper()
	m := map[string]any{"id": c.ID, "direction": c.Direction, "status": "done", "started_at": c.StartedAt.Unix(),
		"answered_at": nil, "ended_at": c.EndedAt.Unix(), "duration": c.Duration, "user": nil, "voicemail": nil,
		"raw_digits": c.Digits}
	if c.AnsweredAt != nil {
		m["answered_at"] = c.AnsweredAt.Unix()
	}
	if c.UserID != "" {
		id, err := strconv.ParseInt(c.UserID, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		m["user"] = map[string]any{"id": id, "name": "someone"}
	}
	if c.Outcome == "voicemail" {
		m["voicemail"] = "https://voicemail.example/" + strconv.FormatInt(c.ID, 10) + ".mp3"
	}
	if c.MissedReason != "" {
		m["missed_call_reason"] = c.MissedReason
	}
	var comments, tags []map[string]any
	for _, n := range c.Notes {
		comments = append(comments, map[string]any{"content": n})
	}
	for _, tg := range c.Tags {
		tags = append(tags, map[string]any{"name": tg})
	}
	m["comments"], m["tags"] = comments, tags
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
