package aircall

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestConnectFailuresFailFast: a provider that cannot be reached (refused,
// not TLS, untrusted certificate) is a *ingest.ConnectError naming the
// address after ingest.ConnectRetries retries, for a sync and for Verify,
// where it used to take MaxRetries growing back-offs (7 retries, 1m31s for
// doctor). Its back-off is reported as a connection-error wait, never as a
// rate-limit one.
func TestConnectFailuresFailFast(t *testing.T) {
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	untrusted := httptest.NewUnstartedServer(http.NotFoundHandler())
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	closed := closedAddr(t)
	cases := []struct {
		name, base, addr, want string
	}{
		{"refused", "http://" + closed + "/v1", "http://" + closed, "connection refused"},
		{"not TLS", "https://" + strings.TrimPrefix(plain.URL, "http://") + "/v1", "https://" + strings.TrimPrefix(plain.URL, "http://"), "HTTP response to HTTPS client"},
		{"untrusted certificate", untrusted.URL + "/v1", untrusted.URL, "certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newVClock(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
			var reasons []string
			c, err := New("acme", Config{BaseURL: tc.base, APIID: "id", APIToken: "tok", Now: clock.Now, Sleep: clock.Sleep, MaxRetries: 8})
			if err != nil {
				t.Fatal(err)
			}
			p := ingest.ProgressFunc(func(s ingest.Status) {
				if s.Waiting > 0 {
					reasons = append(reasons, s.WaitReason)
				}
			})
			_, err = c.Sync(context.Background(), ingest.SyncRequest{Org: "acme",
				Window: ingest.Window{From: clock.Now().Add(-time.Hour), To: clock.Now()}}, &ingest.CountSink{}, nil, p)
			checkConnectError(t, "sync", err, tc.addr, tc.want)
			if len(reasons) != ingest.ConnectRetries || reasons[0] != "connection error" {
				t.Errorf("sync waits %q, want %d connection-error waits", reasons, ingest.ConnectRetries)
			}
			if clock.slept > 5*time.Second {
				t.Errorf("sync backed off %s before naming the connect error", clock.slept)
			}
			checkConnectError(t, "verify", c.Verify(context.Background()), tc.addr, tc.want)
		})
	}
}

func checkConnectError(t *testing.T, what string, err error, addr, want string) {
	t.Helper()
	var ce *ingest.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: %v (%T), want an *ingest.ConnectError", what, err, err)
	}
	if ce.Addr != addr || ce.Attempts != ingest.ConnectRetries+1 {
		t.Errorf("%s: addr %q after %d attempts, want %q after %d", what, ce.Addr, ce.Attempts, addr, ingest.ConnectRetries+1)
	}
	msg := err.Error()
	for _, w := range []string{"cannot connect to Aircall at " + addr, want, "--api-url"} {
		if !strings.Contains(strings.ToLower(msg), strings.ToLower(w)) {
			t.Errorf("%s: %q does not say %q", what, msg, w)
		}
	}
}

// TestVerify: one cheap request; wrong credentials are an *ingest.AuthError.
func TestVerify(t *testing.T) {
	e := newEnv(t, fixture.Spec{Seed: 7, Employees: 2, Days: 1}, aircalltest.FakeOptions{})
	if err := e.client(t, Config{}).Verify(context.Background()); err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	if n := e.fake.Stats().Requests; n != 1 {
		t.Errorf("verify sent %d requests, want 1", n)
	}
	err := e.client(t, Config{APIID: testAPIID, APIToken: "wrong"}).Verify(context.Background())
	if !ingest.IsAuth(err) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: %v, want an auth error", err)
	}
}
