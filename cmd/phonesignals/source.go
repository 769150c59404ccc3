package main

import (
	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
)

// providersKey holds the provider registry in cli.App.Metadata, so a test
// can run the CLI with a provider of its own.
const providersKey = "providers"

// providersOf returns the provider registry the app was built with.
func providersOf(c *cli.Context) *ingest.Registry {
	return c.App.Metadata[providersKey].(*ingest.Registry)
}
