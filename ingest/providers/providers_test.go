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
	bad.Decode, bad.Title = nil, ""
	_, err := ingest.NewRegistry(List()[0], List()[0], bad)
	for _, want := range []string{`provider "aircall" is registered twice`, `provider "toy": Title is empty`, `provider "toy": Decode is nil`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewRegistry = %v, want %q", err, want)
		}
	}
}
