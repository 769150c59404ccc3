package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// TestCLIServeStatus: `serve status` lists every org once, with the
// replica whose status row is newest, stale when that row is older than
// --stale-after, its lag and last error; orgs no replica follows say why.
func TestCLIServeStatus(t *testing.T) {
	e := newCLIEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, o := range []string{"alpha", "bravo", "charlie", "delta"} {
		e.ok(t, "org", "add", "--org", o, "--provider", fixture.Aircall)
	}
	st := e.store(t)
	now := time.Now().UTC().Truncate(time.Second)
	for _, o := range []string{"alpha", "bravo", "charlie"} {
		so, err := st.GetOrg(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		so.Credentials = "sealed"
		if err := st.SaveOrg(ctx, so); err != nil {
			t.Fatal(err)
		}
	}
	type run struct {
		org, id, status, err string
		written, success     time.Duration // before now
	}
	for _, r := range []run{
		{"alpha", "serve/old-1/s1", "ok", "", 20 * time.Minute, 21 * time.Minute},
		{"alpha", "serve/new-2/s7", "ok", "", 30 * time.Second, 90 * time.Second},
		{"bravo", "serve/gone-3/s2", "auth_error", "auth: 401 (fix: phonesignals org connect --org bravo)", 10 * time.Minute, time.Hour},
		{"charlie", "cli-sync", "ok", "", time.Minute, time.Minute},
	} {
		if err := st.RecordRun(ctx, store.Run{ID: r.id, Org: r.org, Provider: fixture.Aircall, Started: now.Add(-2 * time.Hour), Finished: now.Add(-r.written),
			Window: model.Window{From: now.Add(-2 * time.Hour), To: now.Add(-r.success)}, Status: r.status, Error: r.err}); err != nil {
			t.Fatal(err)
		}
	}
	out := e.ok(t, "serve", "status", "--stale-after", "3m")
	t.Log(out)
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		org, _, _ := strings.Cut(l, " ")
		if lines[org] != "" {
			t.Errorf("org %s listed twice:\n%s", org, out)
		}
		lines[org] = l
	}
	tests := []struct {
		org      string
		want     []string
		wantNone []string
	}{
		{"alpha", []string{"new-2", " ok "}, []string{"old-1", "stale"}},
		{"bravo", []string{"gone-3 (stale: no status for 10m", "auth_error", "org connect --org bravo", now.Add(-time.Hour).Format(time.RFC3339)}, nil},
		{"charlie", []string{"not followed by serve"}, []string{"cli-sync"}},
		{"delta", []string{"not connected"}, nil},
	}
	for _, tt := range tests {
		l, ok := lines[tt.org]
		if !ok {
			t.Errorf("org %s missing from serve status:\n%s", tt.org, out)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(l, w) {
				t.Errorf("org %s: %q lacks %q", tt.org, l, w)
			}
		}
		for _, w := range tt.wantNone {
			if strings.Contains(l, w) {
				t.Errorf("org %s: %q has %q", tt.org, l, w)
			}
		}
	}
}
