package orgs

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/ingest/providers/toytest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// The receivers come from the registry: one per provider with webhooks,
// and a second push provider is refused while they would share a port.
func TestWebhookStagesReceivers(t *testing.T) {
	pushingToy := toytest.Provider
	pushingToy.Webhooks = aircall.Provider.Webhooks
	registry := func(ps ...ingest.Provider) *ingest.Registry {
		r, err := ingest.NewRegistry(ps...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tt := range []struct {
		name      string
		reg       *ingest.Registry
		wantNames string
		wantErr   string
	}{
		{name: "registry", reg: providers.Registry(), wantNames: "aircall"},
		{name: "no push provider", reg: registry(ringcentral.Provider, toytest.Provider)},
		{name: "two push providers", reg: registry(append(providers.List(), pushingToy)...), wantErr: "providers aircall, toy all push webhooks"},
		{name: "no registry", wantErr: "Registry is nil"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws := WebhookStages{Registry: tt.reg, Listen: "127.0.0.1:0", Sink: &ingesttest.MemSink{}}
			rs, names, err := ws.Receivers()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Receivers() = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names, ","); got != tt.wantNames || len(rs) != len(names) {
				t.Errorf("Receivers() = %d receivers of %q, want %q", len(rs), got, tt.wantNames)
			}
		})
	}
}

// The webhook token list and the transcript connections a provider's
// stages read hold only that provider's orgs, and only the orgs that want
// transcripts get a connection.
func TestStagesReadTheirProvidersOrgs(t *testing.T) {
	srv := startServer(t, t.TempDir(), 0, 0)
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
	for _, o := range []struct {
		name, provider string
		transcripts    bool
	}{{"acme", aircall.Name, true}, {"initech", aircall.Name, false}, {"globex", ringcentral.Name, true}} {
		if _, err := st.AddOrg(ctx, o.name, o.provider); err != nil {
			t.Fatal(err)
		}
		so, err := st.GetOrg(ctx, o.name)
		if err != nil {
			t.Fatal(err)
		}
		SealWebhookToken(box, &so, "tok-"+o.name)
		if err := SealCredentials(box, &so, map[string]string{"api_id": "id-" + o.name}); err != nil {
			t.Fatal(err)
		}
		so.Transcripts = o.transcripts
		if err := st.SaveOrg(ctx, so); err != nil {
			t.Fatal(err)
		}
	}
	list, err := (&WebhookDirectory{Store: st, Box: box, Provider: aircall.Name}).WebhookOrgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ingest.WebhookOrg{{Org: "acme", Token: "tok-acme", Transcripts: true}, {Org: "initech", Token: "tok-initech"}}
	slices.SortFunc(list, func(a, b ingest.WebhookOrg) int { return strings.Compare(a.Org, b.Org) })
	if !slices.Equal(list, want) {
		t.Errorf("aircall's webhook orgs %+v, want %+v", list, want)
	}
	if _, err := (&WebhookDirectory{Store: st, Box: box}).WebhookOrgs(ctx); err == nil || !strings.Contains(err.Error(), "Provider is empty") {
		t.Errorf("a directory of no provider answered %v, want an error", err)
	}
	tos := &TranscriptOrgs{Store: st, Box: box, Provider: aircall.Name}
	for _, tt := range []struct {
		org, wantAPIID string
		wantOK         bool
	}{{"acme", "id-acme", true}, {"initech", "", false}, {"globex", "", false}} {
		cfg, ok, err := tos.TranscriptOrg(ctx, tt.org)
		if err != nil || ok != tt.wantOK || cfg.Credentials["api_id"] != tt.wantAPIID || (ok && cfg.Org != tt.org) {
			t.Errorf("TranscriptOrg(%s) = %+v, %v, %v; want ok %v with api_id %q", tt.org, cfg, ok, err, tt.wantOK, tt.wantAPIID)
		}
	}
}
