package serve

import (
	"context"
	"sync"
)

// fairPool bounds how many backfill chunks run at once across every org
// and hands its slots out first come, first served. Each org's backfill
// asks for one slot at a time and asks again only after its chunk is
// done, so the queue is a round robin over the orgs backfilling: with N
// slots and B orgs waiting, an org that asks gets a slot before any other
// org gets a second one, i.e. after at most ceil(B/N) chunk durations
// (each bounded by Config.RoundTimeout). Follow rounds never wait here:
// a long backfill of one org never delays another org's new calls.
type fairPool struct {
	mu    sync.Mutex
	free  int
	queue []chan struct{}
}

func newFairPool(slots int) *fairPool { return &fairPool{free: slots} }

// acquire waits for a slot; call release once the chunk is done.
func (p *fairPool) acquire(ctx context.Context) (release func(), err error) {
	p.mu.Lock()
	if p.free > 0 && len(p.queue) == 0 {
		p.free--
		p.mu.Unlock()
		return p.release, nil
	}
	ch := make(chan struct{})
	p.queue = append(p.queue, ch)
	p.mu.Unlock()
	select {
	case <-ch:
		return p.release, nil
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, c := range p.queue {
			if c == ch {
				p.queue = append(p.queue[:i], p.queue[i+1:]...)
				return nil, ctx.Err()
			}
		}
		// Granted while giving up: pass the slot on.
		p.releaseLocked()
		return nil, ctx.Err()
	}
}

func (p *fairPool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked()
}

func (p *fairPool) releaseLocked() {
	if len(p.queue) > 0 {
		ch := p.queue[0]
		p.queue = p.queue[1:]
		close(ch)
		return
	}
	p.free++
}
