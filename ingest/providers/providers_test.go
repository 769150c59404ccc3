package providers

import (
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/providers/toytest"
)

func TestRegistry(t *testing.T) {
	reg := Registry()
	if got := strings.Join(reg.Names(), ","); got != "aircall,ringcentral" {
		t.Fatalf("providers %s", got)
	}
	for _, p := range reg.All() {
		if err := p.Validate(); err != nil {
			t.Error(err)
		}
	}
	if _, err := reg.Lookup("teams"); err == nil || !strings.Contains(err.Error(), `provider "teams": must be aircall or ringcentral`) {
		t.Errorf("Lookup(teams) = %v", err)
	}
}

// Adding a provider is one more entry in the list.
func TestRegistryWithThirdProvider(t *testing.T) {
	reg, err := ingest.NewRegistry(append(List(), toytest.Provider)...)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(reg.Names(), ","); got != "aircall,ringcentral,toy" {
		t.Fatalf("providers %s", got)
	}
	if _, ok := reg.Decoders()["toy"]; !ok {
		t.Error("no decoder for toy")
	}
	if len(List()) != 2 {
		t.Error("List shares its backing array with the registry")
	}
}

func TestRegistryRefusesBadProviders(t *testing.T) {
	bad := toytest.Provider
	bad.Decode, bad.Title, bad.Webhooks = nil, "", &ingest.WebhookSpec{}
	_, err := ingest.NewRegistry(List()[0], List()[0], bad)
	for _, want := range []string{`provider "aircall" is registered twice`, `provider "toy": Title is empty`, `provider "toy": Decode is nil`,
		`provider "toy": Webhooks.NewReceiver is nil`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewRegistry = %v, want %q", err, want)
		}
	}
}

// The capabilities the app reaches through the registry: which providers
// push webhooks (with transcripts) and which settings each reads.
func TestRegistryCapabilities(t *testing.T) {
	reg, err := ingest.NewRegistry(append(List(), toytest.Provider)...)
	if err != nil {
		t.Fatal(err)
	}
	var hooks []string
	for _, p := range reg.WithWebhooks() {
		hooks = append(hooks, p.Name)
		if p.Webhooks.NewTranscriptWorker == nil {
			t.Errorf("%s: webhooks without a transcript worker", p.Name)
		}
	}
	if got := strings.Join(hooks, ","); got != "aircall" {
		t.Errorf("WithWebhooks = %s, want aircall", got)
	}
	for _, tt := range []struct{ provider, settings string }{
		{"aircall", "mode, per_page, rate_limit, window"},
		{"ringcentral", "auth_limit, auth_window, heavy_limit, heavy_window, medium_limit, medium_window, mode, per_page, window"},
		{"toy", ""},
	} {
		p, err := reg.Lookup(tt.provider)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(p.Settings.Names(), ", "); got != tt.settings {
			t.Errorf("%s settings %q, want %q", tt.provider, got, tt.settings)
		}
	}
}
