package main

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// TestCLIOrgConnectVerifies: `org connect` tries the credentials with one
// cheap request and saves nothing when the provider refuses them or
// cannot be reached; --no-verify saves untried, sending nothing. Before,
// every connect printed "connected" and only the next sync failed.
func TestCLIOrgConnectVerifies(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	org := fixture.Generate(fixture.Spec{Seed: 3, Org: "acme", Employees: 2, Days: 2})
	const apiID, token = "acme-id", "acme-token-verify"
	fake := aircalltest.NewFake(org, aircalltest.FakeOptions{APIID: apiID, APIToken: token, RateLimitPerMinute: 100000})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	e.ok(t, "migrate")
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	good, bad := writeFile(t, dir, "good", token), writeFile(t, dir, "bad", "the-api-key-from-the-ui")
	connect := func(tokenFile, url string, extra ...string) []string {
		return append([]string{"org", "connect", "--org", "acme", "--api-id", apiID, "--api-token-file", tokenFile, "--api-url", url}, extra...)
	}
	stored := func() string {
		o, err := e.store(t).GetOrg(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		return o.Credentials + o.APIURL
	}

	_, err := e.fail(t, connect(bad, api.URL+"/v1")...)
	mustContain(t, "connect with a wrong token", err.Error(), "rejected the credentials of org \"acme\" (HTTP 401)",
		"the token is not the API key", "nothing was saved", "--no-verify")
	if s := stored(); s != "" || fake.Stats().Unauthorized != 1 {
		t.Fatalf("a refused connect stored %q (fake refused %d requests, want 1)", s, fake.Stats().Unauthorized)
	}

	l, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	_, err = e.fail(t, connect(good, dead+"/v1")...)
	mustContain(t, "connect to a dead address", err.Error(), "cannot connect to Aircall at "+dead, "(2 attempts)", "connection refused", "nothing was saved")
	if s := stored(); s != "" {
		t.Fatalf("a connect that could not reach the provider stored %q", s)
	}

	before := fake.Stats().Requests
	out := e.ok(t, connect(good, api.URL+"/v1")...)
	mustContain(t, "connect", out, "credentials verified and stored encrypted")
	if n := fake.Stats().Requests - before; n != 1 {
		t.Errorf("verifying sent %d requests, want 1", n)
	}
	before = fake.Stats().Requests
	out = e.ok(t, connect(bad, api.URL+"/v1", "--no-verify")...)
	mustContain(t, "connect --no-verify", out, "credentials not verified, stored encrypted")
	if n := fake.Stats().Requests - before; n != 0 {
		t.Errorf("--no-verify sent %d requests, want none", n)
	}

	// RingCentral: a JWT that is not the app's is refused at connect.
	rorg := fixture.Generate(fixture.Spec{Seed: 4, Org: "globex", Provider: fixture.RingCentral, Employees: 2, Days: 2})
	rfake := ringcentraltest.NewFake(rorg, ringcentraltest.FakeOptions{ClientID: "cid", ClientSecret: "csecret", JWT: "the-jwt"})
	rapi := httptest.NewServer(rfake)
	t.Cleanup(rapi.Close)
	e.ok(t, "org", "add", "--org", "globex", "--provider", "ringcentral")
	rc := func(jwt string) []string {
		return []string{"org", "connect", "--org", "globex", "--client-id", "cid", "--client-secret-file", writeFile(t, dir, "cs", "csecret"),
			"--jwt-file", writeFile(t, dir, "jwt", jwt), "--api-url", rapi.URL}
	}
	_, err = e.fail(t, rc("an-old-jwt")...)
	mustContain(t, "connect with a wrong JWT", err.Error(), "ringcentral rejected the credentials", "the JWT was rejected", "nothing was saved")
	mustContain(t, "connect with the right JWT", e.ok(t, rc("the-jwt")...), "credentials verified and stored encrypted")
}

// TestCLIDeadProviderFailsFast: doctor and sync against an address that
// refuses name the connect error and the address after one retry, where
// doctor used to retry 7 times over 1m31s and sync to print "waiting for
// rate limit" while backing off.
func TestCLIDeadProviderFailsFast(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	e.ok(t, "migrate")
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", writeFile(t, dir, "tok", "tok"), "--api-url", dead+"/v1", "--no-verify")
	out, derr := e.run(t, "doctor", "--org", "acme")
	if derr == nil {
		t.Fatalf("doctor passed against a dead provider:\n%s", out)
	}
	mustContain(t, "doctor", out+derr.Error(), "cannot connect to Aircall at "+dead, "(2 attempts)")
	start := time.Now().Add(-time.Hour).UTC().Format(time.DateOnly)
	_, err = e.fail(t, "sync", "--org", "acme", "--from", start, "--to", time.Now().UTC().Add(24*time.Hour).Format(time.DateOnly))
	mustContain(t, "sync", err.Error(), "cannot connect to Aircall at "+dead, "(2 attempts)", "connection refused")
	if strings.Contains(err.Error(), "giving up after") {
		t.Errorf("sync retried a dead address as a server error: %v", err)
	}
}
