package serve

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/bus"
)

// Ownership decides which orgs this replica follows.
type Ownership interface {
	// Run takes part until ctx ends, calling h as ownership changes.
	Run(ctx context.Context, h Hooks) error
	// Owns says whether this replica may follow org now.
	Owns(org string) bool
	// Announce publishes the current org list (TopicOrgs' records).
	Announce(ctx context.Context, orgs []string)
}

// Hooks are what an Ownership tells the service.
type Hooks struct {
	// Changed says orgs may have been gained: reconcile soon.
	Changed func()
	// Revoke stops, before it returns, every org lost says is lost,
	// letting in-flight rounds finish for up to grace.
	Revoke func(lost func(org string) bool, grace time.Duration)
}

// AllOrgs is the ownership of a lone replica: it follows every org.
type AllOrgs struct{}

// Run implements Ownership.
func (AllOrgs) Run(ctx context.Context, h Hooks) error { <-ctx.Done(); return nil }

// Owns implements Ownership.
func (AllOrgs) Owns(string) bool { return true }

// Announce implements Ownership.
func (AllOrgs) Announce(context.Context, []string) {}

// maxRevokeGrace bounds how long a revoked org's in-flight round may
// finish: the group waits for the revoke before it gives the org to
// another replica (cooperative rebalancing), so this delays the move,
// never makes two owners. The grace is also at most a third of the
// session timeout (revokeGrace): while one member revokes, the others
// wait in JoinGroup, and kfake (the embedded broker) expires a member
// that waits there longer than its session timeout without answering
// its JoinGroup, which then hangs until the client's read timeout
// (rebalance timeout plus 10 s). Measured with a 3 s session and a 5 s
// grace: a restarted replica followed orgs again 45.7 s after it started.
const maxRevokeGrace = 5 * time.Second

// groupOwnership shares the orgs through Kafka's consumer group protocol:
// the group GroupServe consumes TopicOrgs, the broker's coordinator
// assigns each of its partitions to one member (cooperative sticky), and
// a replica follows exactly the orgs whose partition (bus.OrgPartition)
// it is assigned. On top of the group, a lease: the replica follows
// nothing while its last successful heartbeat is older than the session
// timeout minus two heartbeat intervals, so a replica cut off from the
// coordinator stops before the coordinator can expire it and hand its
// orgs to another.
type groupOwnership struct {
	cfg     bus.Config
	session time.Duration
	log     interface {
		Info(string, ...any)
		Warn(string, ...any)
	}

	lastHB atomic.Int64
	cl     atomic.Pointer[kgo.Client]

	mu        sync.Mutex
	assigned  map[int32]bool
	announced map[string]bool
}

func newGroupOwnership(cfg bus.Config, session time.Duration, log interface {
	Info(string, ...any)
	Warn(string, ...any)
}) *groupOwnership {
	return &groupOwnership{cfg: cfg, session: session, log: log, assigned: map[int32]bool{}, announced: map[string]bool{}}
}

func (g *groupOwnership) heartbeat() time.Duration { return max(g.session/10, 100*time.Millisecond) }

// revokeGrace is how long an in-flight round of a revoked org may finish.
func (g *groupOwnership) revokeGrace() time.Duration { return min(maxRevokeGrace, g.session/3) }

// rebalanceTimeout is how long the coordinator waits for every member to
// rejoin: each needs at most its revoke grace and a heartbeat to notice.
// Kafka's default (60 s) would also be how long a lost JoinGroup answer
// keeps a replica from following anything.
func (g *groupOwnership) rebalanceTimeout() time.Duration { return g.session + g.revokeGrace() }

// lease is how long after a successful heartbeat the replica may work.
func (g *groupOwnership) lease() time.Duration { return g.session - 2*g.heartbeat() }

func (g *groupOwnership) leaseValid() bool {
	return time.Since(time.Unix(0, g.lastHB.Load())) < g.lease()
}

// Owns implements Ownership.
func (g *groupOwnership) Owns(org string) bool {
	if !g.leaseValid() {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.assigned[bus.OrgPartition(org, bus.OrgPartitions)]
}

// OnBrokerRead implements kgo.HookBrokerRead: a heartbeat, join or sync
// answer read renews the lease (an answer saying the member is unknown
// is followed by OnPartitionsLost).
func (g *groupOwnership) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	const joinGroup, heartbeat, syncGroup = 11, 12, 14
	if err == nil && (key == heartbeat || key == joinGroup || key == syncGroup) {
		g.lastHB.Store(time.Now().UnixNano())
	}
}

// Run implements Ownership.
func (g *groupOwnership) Run(ctx context.Context, h Hooks) error {
	opts := append(g.cfg.Opts(),
		kgo.ConsumerGroup(bus.GroupServe), kgo.ConsumeTopics(bus.TopicOrgs),
		kgo.SessionTimeout(g.session), kgo.HeartbeatInterval(g.heartbeat()), kgo.RebalanceTimeout(g.rebalanceTimeout()),
		kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.DefaultProduceTopic(bus.TopicOrgs), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.WithHooks(g),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { g.assign(m, h) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { g.revoke(m, h, g.revokeGrace()) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { g.revoke(m, h, 0) }),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	g.cl.Store(cl)
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); g.watchLease(wctx, h) }()
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() == nil {
				g.log.Warn("reading the org ownership topic", "topic", t, "partition", p, "err", err)
			}
		})
	}
	stopWatch()
	<-watched
	// Leaving the group hands the partitions over at once, instead of
	// after the session timeout.
	cl.Close()
	return nil
}

func (g *groupOwnership) assign(m map[string][]int32, h Hooks) {
	g.mu.Lock()
	for _, p := range m[bus.TopicOrgs] {
		g.assigned[p] = true
	}
	n := len(g.assigned)
	g.mu.Unlock()
	g.log.Info("org partitions assigned", "partitions", m[bus.TopicOrgs], "owned", n)
	setOwned(n)
	h.Changed()
}

func (g *groupOwnership) revoke(m map[string][]int32, h Hooks, grace time.Duration) {
	lost := map[int32]bool{}
	g.mu.Lock()
	for _, p := range m[bus.TopicOrgs] {
		lost[p] = true
		delete(g.assigned, p)
	}
	n := len(g.assigned)
	g.mu.Unlock()
	setOwned(n)
	if len(lost) == 0 {
		return
	}
	g.log.Info("org partitions revoked; stopping their orgs", "partitions", m[bus.TopicOrgs], "owned", n)
	h.Revoke(func(org string) bool { return lost[bus.OrgPartition(org, bus.OrgPartitions)] }, grace)
}

// watchLease stops every org as soon as the lease lapses and asks for a
// reconcile when it is back.
func (g *groupOwnership) watchLease(ctx context.Context, h Hooks) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	was := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		valid := g.leaseValid()
		switch {
		case was && !valid:
			g.log.Warn("no heartbeat answer from the kafka group coordinator within the lease; stopping every org until it answers, before the group can give them to another replica",
				"lease", g.lease(), "session_timeout", g.session)
			h.Revoke(func(string) bool { return true }, 0)
		case !was && valid:
			h.Changed()
		}
		was = valid
	}
}

// Announce implements Ownership: a record per new org, a tombstone per
// org gone, so the compacted topic lists the orgs.
func (g *groupOwnership) Announce(ctx context.Context, orgs []string) {
	cl := g.cl.Load()
	if cl == nil {
		return
	}
	now := map[string]bool{}
	g.mu.Lock()
	var recs []*kgo.Record
	for _, o := range orgs {
		now[o] = true
		if !g.announced[o] {
			g.announced[o] = true
			recs = append(recs, &kgo.Record{Key: []byte(o), Value: []byte(o), Partition: bus.OrgPartition(o, bus.OrgPartitions)})
		}
	}
	for o := range g.announced {
		if !now[o] {
			delete(g.announced, o)
			recs = append(recs, &kgo.Record{Key: []byte(o), Partition: bus.OrgPartition(o, bus.OrgPartitions)})
		}
	}
	g.mu.Unlock()
	for _, r := range recs {
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			if err != nil && ctx.Err() == nil {
				g.log.Warn("announcing an org on the ownership topic", "org", string(r.Key), "err", err)
			}
		})
	}
}
