//go:build linux

package scaleout

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRunMembers: `phonesignals run` processes share the consumer group on
// a 3-broker Kafka. One is killed with SIGKILL in the middle of a poll (its
// rows in raw_signals, its days not marked yet, its offsets not
// committed), another in the middle of a refresh of the per-day
// aggregates (its version reserved, its rows not written). A proxy in
// front of ClickHouse holds each at that statement until it is killed.
// The partitions move to the member left and to one started after the
// kills, and once they are loaded every call counts once, every review
// number equals fixture.Truth, and `aggregates verify` is clean.
func TestRunMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs phonesignals processes for half a minute")
	}
	r := newRig(t, calls(t))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	pa, pb, pc := newCHProxy(t, r.target.Addr), newCHProxy(t, r.target.Addr), newCHProxy(t, r.target.Addr)
	// A's first poll: its insert goes through, its loaded marks are held.
	// A marked nothing before, so its refresher has not run since its
	// start (on a store with nothing dirty): the statement is the poll's.
	heldA := pa.holdAfter("INSERT INTO raw_signals", "INSERT INTO user_day_dirty")
	// C refreshes only once B was killed mid-refresh: until then the days
	// stay dirty for B's refresh to find.
	heldC := pc.hold("INSERT INTO user_day_metrics")
	a := r.start("a", pa.addr())
	c := r.start("c", pc.addr())

	backfill := make(chan error, 1)
	go func() { backfill <- r.syncEarly(ctx) }()
	r.await(heldA, a, "member a never loaded a poll")
	a.kill()
	t.Logf("killed member a (pid %d) with its poll in raw_signals, its days not marked, its offsets not committed", a.pid())

	// B dies in its first refresh, which it runs as it starts; should it
	// load a poll first, that poll's insert is held, so B commits nothing
	// (a member killed between its offset commit and the end of its
	// transaction leaves the offsets unstable until the transaction times
	// out, 2 minutes).
	// B's first refresh must find dirty days: C's loaded marks (C's
	// refreshes are held).
	for r.count(ctx, "SELECT count() FROM user_day_dirty WHERE org = ? AND kind = 'loaded'") == 0 {
		if ctx.Err() != nil {
			t.Fatalf("member c never marked a poll's days\n%s", c.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	pb.hold("INSERT INTO raw_signals")
	heldB := pb.hold("INSERT INTO user_day_metrics")
	b := r.start("b", pb.addr())
	r.await(heldB, b, "member b never refreshed")
	b.kill()
	// B's reservation is written, its refresh's rows and refreshed marks
	// are not.
	if n := r.count(ctx, `SELECT count() FROM user_day_dirty WHERE org = ? AND kind = 'refreshing'
		AND value > (SELECT max(value) FROM user_day_dirty WHERE kind = 'refreshed')`); n == 0 {
		t.Fatal("member b was held in its refresh with no reservation above every refreshed mark")
	}
	heldC.Release()
	t.Logf("killed member b (pid %d) in its refresh, after reserving its version", b.pid())
	if err := <-backfill; err != nil {
		t.Fatal(err)
	}

	d := r.start("d", r.target.Addr)
	if err := r.webhooks(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.syncFinal(ctx); err != nil {
		t.Fatal(err)
	}
	r.waitIdle(4*time.Minute, "members c and d after the kills")
	for _, m := range []*member{c, d} {
		if err := m.stop(time.Minute); err != nil {
			t.Error(err)
		}
	}
	r.verify("after the kills")
	out, err := r.cli("aggregates", "verify", "--org", r.o.Name)
	if err != nil || !strings.Contains(out, "org "+r.o.Name+": exact") {
		t.Errorf("aggregates verify: %v\n%s", err, out)
	}
}

// await waits up to two minutes for tr to hold a statement of m.
func (r *rig) await(tr *trap, m *member, why string) {
	r.t.Helper()
	select {
	case <-tr.Hit():
	case <-m.done:
		r.t.Fatalf("%s: it exited (%v)\n%s", why, m.err, m.tail())
	case <-time.After(2 * time.Minute):
		r.t.Fatalf("%s\n%s", why, m.tail())
	}
}

// count runs a count query with the org as its one parameter.
func (r *rig) count(ctx context.Context, query string) uint64 {
	r.t.Helper()
	var n uint64
	if err := r.st.Conn().QueryRow(ctx, query, r.o.Name).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", query, err)
	}
	return n
}
