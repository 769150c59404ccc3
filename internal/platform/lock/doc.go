// Package lock takes exclusive, process-scoped locks on files, so two
// processes on one machine cannot run the same job at once (two syncs of
// one org would spend the provider's API quota twice).
package lock
