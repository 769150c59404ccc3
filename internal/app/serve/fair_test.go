package serve

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestFairPoolRoundRobin: with one slot and three orgs asking for their
// next chunk as soon as one is done, the slots go a, b, c, a, b, c: no org
// gets a second chunk while another waits for its first.
func TestFairPoolRoundRobin(t *testing.T) {
	p := newFairPool(1)
	ctx := context.Background()
	hold, err := p.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	for _, org := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 {
				release, err := p.acquire(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, org)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				release()
			}
		}()
		time.Sleep(10 * time.Millisecond) // queue in a known order
	}
	hold()
	wg.Wait()
	if got := fmtOrder(order); got != "abcabc" {
		t.Fatalf("slots went %s, want abcabc", got)
	}
}

func fmtOrder(o []string) string {
	s := ""
	for _, x := range o {
		s += x
	}
	return s
}

// TestFairPoolCancel: a waiter that gives up leaves the queue and the
// slot still goes to the next.
func TestFairPoolCancel(t *testing.T) {
	p := newFairPool(1)
	hold, _ := p.acquire(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := p.acquire(ctx); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("a cancelled acquire got a slot")
	}
	hold()
	release, err := p.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release()
}

func TestClassify(t *testing.T) {
	if k := classify(context.DeadlineExceeded, answers{}); k != KindTimeout {
		t.Errorf("deadline: %s", k)
	}
	if k := classify(errKafka, answers{}); k != KindKafka {
		t.Errorf("kafka: %s", k)
	}
	if k := classify(context.Canceled, answers{tooMany: 3}); k != KindRateLimited {
		t.Errorf("429s: %s", k)
	}
	if k := classify(context.Canceled, answers{server: 1}); k != KindProviderDown {
		t.Errorf("5xx: %s", k)
	}
	if o := Owner("serve/host-1/123"); o != "host-1" {
		t.Errorf("owner %q", o)
	}
	if o := Owner("1234"); o != "" {
		t.Errorf("owner of a sync run %q", o)
	}
}
