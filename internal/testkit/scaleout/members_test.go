//go:build linux

package scaleout

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/phonesignals/phonesignals/internal/bus"
)

// TestRunMembers: `phonesignals run` processes share the consumer group on
// a 3-broker Kafka. One is killed with SIGKILL in the middle of a poll (its
// rows and day marks in ClickHouse, its offsets not committed: the broker
// holds the poll's commit), another in the middle of a refresh of the
// per-day aggregates (its version reserved, its rows not written: a proxy
// holds the statement). The partitions move to the members left (and to
// one started after the kills), and once idle every
// call counts once, every review number equals fixture.Truth, and
// `aggregates verify` is clean.
func TestRunMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs phonesignals processes for half a minute")
	}
	r := newRig(t, calls(t))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	pa, pb, pc := newCHProxy(t, r.target.Addr), newCHProxy(t, r.target.Addr), newCHProxy(t, r.target.Addr)
	// C refreshes only once B was killed mid-refresh: until then the days
	// stay dirty for B's refresh to find.
	heldC := pc.hold("INSERT INTO user_day_metrics")
	a := r.start("a", pa.addr())
	c := r.start("c", pc.addr())
	commitHeld := r.holdCommit(a.pid())

	backfill := make(chan error, 1)
	go func() { backfill <- r.syncEarly(ctx) }()
	select {
	case <-commitHeld:
	case <-time.After(time.Minute):
		t.Fatalf("member a never committed a poll\n%s\n--- c:\n%s", a.tail(), c.tail())
	}
	a.kill()
	if n := r.count(ctx, "SELECT count() FROM user_day_dirty WHERE org = ? AND kind = 'loaded'"); n == 0 {
		t.Fatal("member a's commit was held with no day marked loaded: the kill was not in the middle of a poll")
	}
	t.Logf("killed member a (pid %d) with its poll loaded and marked, its offsets not committed", a.pid())

	heldB := pb.hold("INSERT INTO user_day_metrics")
	b := r.start("b", pb.addr())
	// B is to die in its first refresh, which it runs as it starts,
	// before its first poll: should it join the group and load a poll
	// first, its commit is held too, so that its kill, like A's, leaves no
	// transaction open (the broker would keep the partitions' offsets
	// unstable until the transaction timed out).
	r.holdCommit(b.pid())
	select {
	case <-heldB.Hit():
	case <-time.After(2 * time.Minute):
		t.Fatalf("member b never refreshed\n%s", b.tail())
	}
	b.kill()
	// B's reservation is written, its refresh's rows and refreshed marks
	// are not.
	if n := r.count(ctx, `SELECT count() FROM user_day_dirty WHERE org = ? AND kind = 'refreshing'
		AND value > (SELECT max(value) FROM user_day_dirty WHERE kind = 'refreshed')`); n == 0 {
		t.Fatal("member b was held in its refresh with no reservation above every refreshed mark")
	}
	heldB.Release()
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

// count runs a count query with the org as its one parameter.
func (r *rig) count(ctx context.Context, query string) uint64 {
	r.t.Helper()
	var n uint64
	if err := r.st.Conn().QueryRow(ctx, query, r.o.Name).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// holdCommit makes the broker leave unanswered the requests of the member
// with pid that commit a poll's offsets in its transaction: the poll
// is then in ClickHouse, with its days marked, and its offsets are not
// committed. The channel is closed when that happens. Nothing of the
// transaction is registered yet (the poll had no dead letters), so the
// member's kill leaves no open transaction for the others to wait out.
func (r *rig) holdCommit(pid int) <-chan struct{} {
	prefix := fmt.Sprintf("%s-%d-", bus.GroupTransform, pid)
	held := make(chan struct{})
	var once atomic.Bool
	// franz-go commits a transaction's offsets with TxnOffsetCommit v5,
	// which adds them to the transaction itself (KIP-890): held before the
	// broker handles it, it leaves no transaction open.
	r.emb.Cluster().ControlKey(int16(kmsg.TxnOffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		commit, ok := req.(*kmsg.TxnOffsetCommitRequest)
		if !ok || !strings.HasPrefix(commit.TransactionalID, prefix) {
			return nil, nil, false
		}
		if once.CompareAndSwap(false, true) {
			close(held)
		}
		r.emb.Cluster().KeepControl()
		return nil, nil, true
	})
	return held
}
