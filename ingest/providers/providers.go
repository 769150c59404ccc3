package providers

import (
	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/ringcentral"
)

// list is the registry: one line per provider.
var list = []ingest.Provider{
	aircall.Provider,
	ringcentral.Provider,
}

// List returns the registered providers, for a registry with more (tests).
func List() []ingest.Provider { return append([]ingest.Provider(nil), list...) }

// Registry returns the registry of every supported provider.
func Registry() *ingest.Registry {
	r, err := ingest.NewRegistry(list...)
	if err != nil {
		// The list is fixed at build time; TestRegistry keeps it valid.
		panic(err)
	}
	return r
}
