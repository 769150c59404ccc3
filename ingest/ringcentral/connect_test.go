package ringcentral

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
)

// TestConnectRefusedFailsFast: an address that refuses is a
// *ingest.ConnectError naming it after ingest.ConnectRetries retries,
// reported as a connection-error wait (not a rate-limit one), for a sync
// and for Verify.
func TestConnectRefusedFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	var slept time.Duration
	c, err := New("globex", Config{BaseURL: addr, ClientID: "c", ClientSecret: "s", JWT: "j", Mode: ModeAccount, Logger: slog.New(slog.DiscardHandler),
		Sleep: func(ctx context.Context, d time.Duration) error { slept += d; return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	p := ingest.ProgressFunc(func(s ingest.Status) {
		if s.Waiting > 0 {
			reasons = append(reasons, s.WaitReason)
		}
	})
	now := time.Now()
	_, err = c.Sync(context.Background(), ingest.SyncRequest{Org: "globex", Window: ingest.Window{From: now.Add(-time.Hour), To: now}}, &ingest.CountSink{}, nil, p)
	for what, err := range map[string]error{"sync": err, "verify": c.Verify(context.Background())} {
		var ce *ingest.ConnectError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: %v, want an *ingest.ConnectError", what, err)
		}
		if ce.Addr != addr || ce.Attempts != ingest.ConnectRetries+1 || !strings.Contains(err.Error(), "cannot connect to RingCentral at "+addr) {
			t.Errorf("%s: %v (addr %q, %d attempts)", what, err, ce.Addr, ce.Attempts)
		}
	}
	if len(reasons) != ingest.ConnectRetries || reasons[0] != "connection error" {
		t.Errorf("sync waits %q, want %d connection-error waits", reasons, ingest.ConnectRetries)
	}
	if slept > 5*time.Second {
		t.Errorf("backed off %s in all before naming the connect error", slept)
	}
}

// TestVerify: the token exchange and one call-log record, in both modes;
// a wrong JWT is an *ingest.AuthError naming the JWT.
func TestVerify(t *testing.T) {
	org := testOrg(t, 2, 0, 1)
	for _, mode := range []string{ModeExtension, ModeAccount} {
		e := newEnv(t, org, ringcentraltest.FakeOptions{}, Config{Mode: mode})
		if err := e.client.Verify(context.Background()); err != nil {
			t.Fatalf("mode %s, good credentials: %v", mode, err)
		}
		if got := e.log.take(); len(got) != 1 {
			t.Errorf("mode %s: verify sent %d call-log requests, want 1", mode, len(got))
		}
	}
	e := newEnv(t, org, ringcentraltest.FakeOptions{}, Config{JWT: "not-the-jwt"})
	err := e.client.Verify(context.Background())
	if !ingest.IsAuth(err) || !strings.Contains(err.Error(), "JWT") {
		t.Fatalf("wrong JWT: %v, want an auth error naming the JWT", err)
	}
}
