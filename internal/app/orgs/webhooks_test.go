package orgs

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startServer starts a clickhouse-server of the test's own in dir (on the
// given ports; 0 picks free ones), so the test can stop it.
func startServer(t *testing.T, dir string, tcp, http int) *chserver.Server {
	t.Helper()
	if os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip(chserver.EnvSkip + "=1: skipping a test that needs clickhouse-server 18.16")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*chserver.DefaultStartTimeout)
	defer cancel()
	s, err := chserver.StartChild(ctx, chserver.Config{Dir: dir, TCPPort: tcp, HTTPPort: http})
	if err != nil {
		t.Fatalf("this test needs clickhouse-server 18.16: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// saveToken stores tok as org's webhook token, creating the org.
func saveToken(t *testing.T, st *store.Store, box *secret.Box, org, tok string) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.AddOrg(ctx, org, aircall.Name); err != nil {
		t.Fatal(err)
	}
	o, err := st.GetOrg(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	SealWebhookToken(box, &o, tok)
	if err := st.SaveOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
}

// receiver serves Aircall webhooks with dir as its org directory and
// returns a function posting one call event with a token.
func receiver(t *testing.T, dir ingest.OrgDirectory) func(tok string) int {
	t.Helper()
	ws, err := aircall.NewWebhookServer(aircall.WebhookConfig{Orgs: dir, Sink: &ingesttest.MemSink{}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ws.Handler())
	t.Cleanup(hs.Close)
	return func(tok string) int {
		t.Helper()
		body := `{"resource":"call","event":"call.ended","timestamp":1,"token":"` + tok + `","data":{"id":7}}`
		start := time.Now()
		resp, err := hs.Client().Post(hs.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("a delivery took %s; Aircall waits 5 s", d)
		}
		return resp.StatusCode
	}
}

// While ClickHouse is stopped, webhooks are accepted with the last token
// list known, in memory and, for a receiver started during the outage, from
// the cache file, which holds no token in clear; a token changed once
// ClickHouse is back applies (issue 19: 612 of 1,001 deliveries got 503
// during a 2 min outage).
func TestWebhookDirectoryOutlivesClickHouseOutage(t *testing.T) {
	chDir := t.TempDir()
	srv := startServer(t, chDir, 0, 0)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	box, err := secret.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	saveToken(t, st, box, "acme", "tok-acme-1")
	saveToken(t, st, box, "globex", "tok-globex-1")

	clock := &testClock{t: time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)}
	cacheFile := filepath.Join(t.TempDir(), "webhook-tokens.json")
	dir := &WebhookDirectory{Store: st, Box: box, Provider: aircall.Name, CacheFile: cacheFile, Now: clock.Now, RetryEvery: time.Second}
	post := receiver(t, dir)
	if s := post("tok-acme-1"); s != http.StatusOK {
		t.Fatalf("delivery with ClickHouse up: HTTP %d", s)
	}

	fi, err := os.Stat(cacheFile)
	if err != nil {
		t.Fatalf("the token list was not saved: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", cacheFile, fi.Mode().Perm())
	}
	saved, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(saved, []byte("tok-acme")) || bytes.Contains(saved, []byte("tok-globex")) || !bytes.Contains(saved, []byte(`"acme"`)) {
		t.Fatalf("the saved list holds a token in clear, or not the orgs:\n%s", saved)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	// Past the TTL, with ClickHouse stopped.
	for i := range 10 {
		clock.Add(31 * time.Second)
		for tok, want := range map[string]int{"tok-acme-1": 200, "tok-globex-1": 200, "nope": 401} {
			if s := post(tok); s != want {
				t.Fatalf("round %d of the outage, token %s: HTTP %d, want %d", i, tok, s, want)
			}
		}
	}

	// A receiver started during the outage answers from the saved list;
	// without one it cannot know any token.
	restarted := receiver(t, &WebhookDirectory{Store: st, Box: box, Provider: aircall.Name, CacheFile: cacheFile, Now: clock.Now})
	if s := restarted("tok-globex-1"); s != http.StatusOK {
		t.Fatalf("receiver started during the outage, with the saved list: HTTP %d", s)
	}
	if s := receiver(t, &WebhookDirectory{Store: st, Box: box, Provider: aircall.Name, Now: clock.Now})("tok-globex-1"); s != http.StatusServiceUnavailable {
		t.Fatalf("receiver started during the outage, no saved list: HTTP %d, want 503", s)
	}

	// ClickHouse comes back (same data, same ports) and acme's token
	// changes: the new one applies, the old one stops.
	startServer(t, chDir, srv.TCPPort(), srv.HTTPPort())
	saveToken(t, st, box, "acme", "tok-acme-2")
	deadline := time.Now().Add(30 * time.Second)
	for post("tok-acme-2") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the token changed once ClickHouse was back never applied")
		}
		clock.Add(2 * time.Second)
		time.Sleep(50 * time.Millisecond)
	}
	if s := post("tok-acme-1"); s != http.StatusUnauthorized {
		t.Errorf("acme's old token after the change: HTTP %d, want 401", s)
	}
	if s := post("tok-globex-1"); s != http.StatusOK {
		t.Errorf("globex after the outage: HTTP %d", s)
	}
}
