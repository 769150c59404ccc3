// Package providers is the registry of the phone providers phonesignals
// supports. Adding a provider means writing its connector package, which
// exports an ingest.Provider, and adding it to the list below: the CLI,
// the transform and doctor take everything else from the registry.
package providers
