//go:build linux

package servefleet

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// TestServeFleet: 3 serve processes follow the orgs (both providers; one
// org answers 401, one hangs, one allows one request a minute) while
// RingCentral calls are added and edited; the replica following the most
// orgs is killed with SIGKILL, its orgs move, it is restarted and takes
// orgs again. New calls and edits reach raw_signals within currentWithin
// before, during and after the kill; the request logs show no two
// replicas following an org at once for more than maxOverlap; every
// replica stops within 30 s of SIGTERM; once idle every review number of
// the healthy orgs equals fixture.Truth.
func TestServeFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs serve processes for about a minute")
	}
	n := orgCount(t)
	r := newRig(t)
	r.addAircall("bad401", 1, "401")
	r.addAircall("hangs", 2, "hang")
	r.addAircall("throttled", 3, "429")
	for i := 0; i < n-3; i++ {
		if i%2 == 0 {
			r.addAircall(fmt.Sprintf("air%02d", i), int64(100+i), "")
		} else {
			r.addRingCentral(fmt.Sprintf("rc%02d", i), int64(100+i))
		}
	}
	reps := map[string]*replica{}
	for _, name := range []string{"r1", "r2", "r3"} {
		reps[name] = r.start(name)
	}
	r.waitLoaded(reps, 2*time.Minute)
	r.stream(reps, "before the kill", 1)

	// Kill the replica that follows the most orgs.
	time.Sleep(2 * time.Second)
	counts := map[string]int{}
	for _, byRep := range r.log.since(time.Now().Add(-2 * time.Second)) {
		for rep := range byRep {
			counts[rep]++
		}
	}
	victim := "r1"
	for rep, c := range counts {
		if c > counts[victim] {
			victim = rep
		}
	}
	killAt := time.Now()
	reps[victim].kill()
	moved := r.waitFollowed(reps, killAt, victim, 30*time.Second)
	t.Logf("killed %s (following %d orgs); every healthy org followed by the others %s later", victim, counts[victim], moved.Round(10*time.Millisecond))
	if moved > 5*sessionTimeout {
		t.Errorf("the killed replica's orgs moved after %s, want within %s (session timeout %s)", moved, 5*sessionTimeout, sessionTimeout)
	}
	r.stream(reps, "after the kill", 2)

	restartAt := time.Now()
	reps[victim] = r.start(victim)
	r.waitRejoined(restartAt, victim, 60*time.Second)
	r.stream(reps, "after the restart", 3)

	stopAt := time.Now()
	for name, rep := range reps {
		at := time.Now()
		exit, err := rep.stop()
		if err != nil {
			t.Error(err)
		} else if exit != nil {
			t.Logf("replica %s exited %v %s after SIGTERM (its stop bound)", name, exit, time.Since(at).Round(10*time.Millisecond))
		}
	}
	t.Logf("stopped 3 replicas in %s", time.Since(stopAt).Round(10*time.Millisecond))
	for org, d := range r.log.overlap(2 * time.Second) {
		if d > maxOverlap {
			t.Errorf("org %s: two replicas sent it requests at once for %s, want at most %s", org, d, maxOverlap)
		}
	}
	r.checkFaulty()
	if out, err := r.command("run", "--until-idle").CombinedOutput(); err != nil {
		t.Fatalf("run --until-idle: %v\n%s", err, out)
	}
	for _, o := range r.healthy {
		r.verify(o)
	}
}

// waitLoaded waits until every call of every healthy org is in
// raw_signals: fetched by the replicas' backfills or deep rounds (which
// reach back --reread) and loaded by their transforms.
func (r *rig) waitLoaded(reps map[string]*replica, within time.Duration) {
	deadline := time.Now().Add(within)
	for _, o := range r.healthy {
		for r.count("SELECT uniqExact(call_id) FROM raw_signals WHERE org = ?", o.Name) < uint64(len(o.Calls)) {
			if time.Now().After(deadline) {
				var done []string
				for _, x := range r.healthy {
					done = append(done, fmt.Sprintf("%s:%d/%d", x.Name, r.count("SELECT uniqExact(call_id) FROM raw_signals WHERE org = ?", x.Name), len(x.Calls)))
				}
				r.t.Fatalf("org %s not loaded after %s (calls loaded: %v)%s", o.Name, within, done, tails(reps))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	r.t.Logf("every call of the %d healthy orgs loaded", len(r.healthy))
}

// waitFollowed waits until every healthy org got a request from a replica
// other than dead after t, and returns how long that took.
func (r *rig) waitFollowed(reps map[string]*replica, t time.Time, dead string, within time.Duration) time.Duration {
	for {
		by := r.log.since(t)
		var missing []string
		for _, o := range r.healthy {
			alive := false
			for rep := range by[o.Name] {
				alive = alive || rep != dead
			}
			if by[o.Name][dead] {
				r.t.Errorf("org %s: the killed replica %s sent a request after its kill", o.Name, dead)
			}
			if !alive {
				missing = append(missing, o.Name)
			}
		}
		if len(missing) == 0 {
			return time.Since(t)
		}
		if time.Since(t) > within {
			r.t.Fatalf("orgs %v not followed %s after %s was killed%s", missing, within, dead, tails(reps))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitRejoined waits until the restarted replica follows some org.
func (r *rig) waitRejoined(t time.Time, rep string, within time.Duration) {
	for time.Since(t) < within {
		for _, byRep := range r.log.since(t) {
			if byRep[rep] {
				r.t.Logf("restarted %s follows orgs again %s later", rep, time.Since(t).Round(10*time.Millisecond))
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("restarted replica %s followed no org within %s", rep, within)
}

// stream adds a call to every RingCentral org and edits one of its
// calls, and waits for both in raw_signals through serve, within
// currentWithin.
func (r *rig) stream(reps map[string]*replica, when string, k int) {
	type pending struct {
		org, newID, editID string
		dur                uint64
	}
	var ps []pending
	now := time.Now().UTC().Truncate(time.Second)
	for _, o := range r.healthy {
		fake := r.rc[o.Name]
		if fake == nil {
			continue
		}
		var src *fixture.Call
		for i := range o.Calls {
			if c := &o.Calls[i]; !c.Deleted && c.Outcome == "answered" && c.UserID != "" && c.AnsweredAt != nil {
				src = c
			}
		}
		if src == nil {
			r.t.Fatalf("org %s has no answered call to copy", o.Name)
		}
		c := *src
		c.ID = 9_000_000 + int64(k)
		c.StartedAt = now.Add(-15 * time.Second)
		at := c.StartedAt.Add(3 * time.Second)
		c.AnsweredAt, c.EndedAt, c.Duration = &at, c.StartedAt.Add(13*time.Second), 10
		// The seed's after-hours rule (fixture.go): before 08:00 or from
		// 18:00 UTC.
		c.AfterHours = c.StartedAt.Hour() < 8 || c.StartedAt.Hour() >= 18
		fake.AddCall(c)
		o.Calls = append(o.Calls, c)
		edit := func(x *fixture.Call) { x.Duration += 7; x.EndedAt = x.EndedAt.Add(7 * time.Second) }
		if !fake.UpdateCall(src.StrID(), edit) {
			r.t.Fatalf("org %s: the fake has no call %s", o.Name, src.StrID())
		}
		edit(src)
		ps = append(ps, pending{o.Name, c.StrID(), src.StrID(), uint64(src.Duration)})
	}
	sent := time.Now()
	var worst time.Duration
	for _, p := range ps {
		for r.count("SELECT count() FROM raw_signals WHERE org = ? AND call_id = '"+p.newID+"'", p.org) == 0 ||
			r.count("SELECT toUInt64(argMax(duration_sec, version)) FROM raw_signals WHERE org = ? AND call_id = '"+p.editID+"'", p.org) != p.dur {
			if time.Since(sent) > currentWithin {
				r.t.Fatalf("%s: org %s's new call %s or edit of %s not in raw_signals after %s%s", when, p.org, p.newID, p.editID, currentWithin, tails(reps))
			}
			time.Sleep(50 * time.Millisecond)
		}
		worst = max(worst, time.Since(sent))
	}
	r.t.Logf("%s: a new call and an edit in each of %d RingCentral orgs were all in raw_signals %s later", when, len(ps), worst.Round(10*time.Millisecond))
}

// checkFaulty checks the faulty orgs' statuses name what failed.
func (r *rig) checkFaulty() {
	sts, err := r.st.ServeStatuses(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	for _, s := range sts {
		switch {
		case s.Org == "bad401" && (s.Status != "auth_error" || !strings.Contains(s.Error, "org connect --org bad401")):
			r.t.Errorf("org bad401: status %s %q, want auth_error naming the fix", s.Status, s.Error)
		case (s.Org == "hangs" || s.Org == "throttled") && s.Status == "ok":
			r.t.Errorf("org %s: status ok, want error", s.Org)
		}
	}
}

func (r *rig) count(query string, args ...any) uint64 {
	var n uint64
	if err := r.st.Conn().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// verify compares every employee's numbers with the fixture's truth.
func (r *rig) verify(o *fixture.Org) {
	ctx := context.Background()
	for _, cy := range o.Cycles {
		want, _ := o.Truth(cy.Start, cy.End)
		got, err := r.st.CycleMetrics(ctx, o.Name, cy.ID)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(got) != len(want) {
			r.t.Fatalf("org %s cycle %s: %d employees, want %d", o.Name, cy.ID, len(got), len(want))
		}
		for _, m := range got {
			w := want[m.EmployeeID]
			g := fmt.Sprint(m.TotalCalls, m.InboundCalls, m.OutboundCalls, m.AvgDurationSec, m.AfterHoursCalls, m.EscalatedCalls, m.ResolvedCalls)
			e := fmt.Sprint(w.TotalCalls, w.InboundCalls, w.OutboundCalls, w.AvgDurationSec, w.AfterHoursCalls, w.EscalatedCalls, w.ResolvedCalls)
			if g != e {
				r.t.Errorf("org %s cycle %s employee %s: got %s, want %s", o.Name, cy.ID, m.EmployeeID, g, e)
			}
		}
	}
}

func tails(reps map[string]*replica) string {
	var b strings.Builder
	for name, rep := range reps {
		fmt.Fprintf(&b, "\n--- %s:\n%s", name, rep.tail())
	}
	return b.String()
}
