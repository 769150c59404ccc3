package serve

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/store"
)

// Service is a running serve process.
type Service struct {
	cfg     Config
	raw     *bus.Publisher
	own     Ownership
	pool    *fairPool
	session string

	mu        sync.Mutex
	followers map[string]*follower
	wake      chan struct{}
	// statuses tracks the status writes of stopped followers: they run
	// after stop returns, so a revoke (which the whole group waits for)
	// never waits for ClickHouse.
	statuses sync.WaitGroup
}

func setOwned(n int) { obs.ServeOwnedPartitions(n) }

// New checks cfg and connects the publisher; Close releases it.
func New(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, own: cfg.Ownership, pool: newFairPool(cfg.Backfills), followers: map[string]*follower{},
		wake: make(chan struct{}, 1), session: strconv.FormatInt(time.Now().UnixNano(), 10)}
	if s.own == nil {
		s.own = newGroupOwnership(cfg.Bus, cfg.SessionTimeout, cfg.Logger.With("component", "serve"))
	}
	if cfg.has(RoleSync) || cfg.has(RoleWebhooks) {
		pub, err := bus.NewPublisher(cfg.Bus, cfg.Box, bus.TopicRaw)
		if err != nil {
			return nil, err
		}
		s.raw = pub
	}
	return s, nil
}

// Replica is this replica's name.
func (s *Service) Replica() string { return s.cfg.Replica }

// Close releases the publisher.
func (s *Service) Close() {
	if s.raw != nil {
		s.raw.Close()
	}
}

// Run runs the roles until ctx ends (SIGTERM): in-flight rounds get
// Config.Grace to finish, then are cancelled (a cancelled window is not
// checkpointed, so the next owner fetches it again), the replica leaves
// the group so its orgs move at once, and the transform aborts its open
// transaction, so nothing unloaded is committed.
func (s *Service) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	if s.cfg.has(RoleSync) {
		g.Go(func() error { return s.runSync(gctx) })
	}
	if err := s.startReceivers(gctx, g); err != nil {
		return err
	}
	if s.cfg.has(RoleTransform) {
		g.Go(func() error { return s.cfg.Transform(gctx) })
	}
	s.cfg.Logger.Info("serving", "replica", s.cfg.Replica, "roles", s.cfg.Roles)
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// runSync follows the orgs this replica owns until ctx ends.
func (s *Service) runSync(ctx context.Context) error {
	octx, stopOwner := context.WithCancel(context.WithoutCancel(ctx))
	ownDone := make(chan error, 1)
	go func() {
		ownDone <- s.own.Run(octx, Hooks{Changed: s.poke, Revoke: s.revoke})
	}()
	statusDone := make(chan struct{})
	go func() { defer close(statusDone); s.statusLoop(ctx) }()
	t := time.NewTicker(s.cfg.RefreshEvery)
	defer t.Stop()
	var err error
loop:
	for {
		if rerr := s.reconcile(ctx); rerr != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("reading the org list; followed orgs carry on, retrying", "every", s.cfg.RefreshEvery, "err", rerr)
		}
		select {
		case <-ctx.Done():
			break loop
		case <-t.C:
		case <-s.wake:
		case err = <-ownDone:
			err = fmt.Errorf("org ownership stopped: %w", err)
			break loop
		}
	}
	// Stop following before leaving the group: the next owner starts
	// only once this one stopped.
	s.revoke(func(string) bool { return true }, s.cfg.Grace)
	s.statuses.Wait()
	<-statusDone
	stopOwner()
	if err == nil {
		<-ownDone
	}
	return err
}

// poke asks for a reconcile.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// reconcile reads the org list and starts and stops followers so that
// exactly the connected orgs this replica owns are followed.
func (s *Service) reconcile(ctx context.Context) error {
	names, err := s.cfg.Store.ListOrgs(ctx)
	if err != nil {
		return err
	}
	s.own.Announce(ctx, names)
	want, keep := map[string]store.Org{}, map[string]bool{}
	for _, n := range names {
		if !s.own.Owns(n) {
			continue
		}
		o, err := s.cfg.Store.GetOrg(ctx, n)
		if err != nil {
			keep[n] = true // unread: leave it as it is
			s.cfg.Logger.Warn("reading an org; retrying", "org", n, "err", err)
			continue
		}
		if _, err := s.cfg.Registry.Lookup(o.Provider); err == nil && o.Credentials != "" {
			want[n] = o
		}
	}
	s.mu.Lock()
	var stale []*follower
	for n, f := range s.followers {
		if o, ok := want[n]; !keep[n] && (!ok || fingerprint(o) != f.fp) {
			stale = append(stale, f)
		}
	}
	s.mu.Unlock()
	s.stop(stale, s.cfg.Grace)
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, o := range want {
		if _, ok := s.followers[n]; !ok && ctx.Err() == nil && s.own.Owns(n) {
			s.followers[n] = s.startFollower(o)
		}
	}
	obs.ServeOrgsFollowed(len(s.followers))
	return nil
}

// fingerprint changes when the org's connection does: its follower is
// restarted with the new credentials or settings.
func fingerprint(o store.Org) string {
	return fmt.Sprint(o.Provider, "|", o.APIURL, "|", o.AccountID, "|", o.Credentials, "|", o.Settings)
}

// revoke stops the followers of the orgs lost says are lost.
func (s *Service) revoke(lost func(string) bool, grace time.Duration) {
	s.mu.Lock()
	var fs []*follower
	for n, f := range s.followers {
		if lost(n) {
			fs = append(fs, f)
		}
	}
	s.mu.Unlock()
	s.stop(fs, grace)
}

// stop ends fs: no new round starts, in-flight ones get grace to finish,
// then are cancelled. It returns once every one has stopped.
func (s *Service) stop(fs []*follower, grace time.Duration) {
	if len(fs) == 0 {
		return
	}
	for _, f := range fs {
		f.stopSoft()
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for _, f := range fs {
		select {
		case <-f.done:
		case <-deadline.C:
			for _, f := range fs {
				f.stopHard()
			}
		}
		f.stopHard()
		<-f.done
	}
	s.mu.Lock()
	for _, f := range fs {
		if s.followers[f.org.Name] == f {
			delete(s.followers, f.org.Name)
		}
	}
	obs.ServeOrgsFollowed(len(s.followers))
	s.mu.Unlock()
	s.statuses.Go(func() { s.writeStatus(context.Background(), fs) })
	for _, f := range fs {
		obs.ServeOrgGone(f.org.Name)
		s.cfg.Logger.Info("stopped following org", "org", f.org.Name, "replica", s.cfg.Replica)
	}
}

// Followed lists the orgs this replica follows now.
func (s *Service) Followed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.followers))
	for n := range s.followers {
		out = append(out, n)
	}
	return out
}
