// Package toytest is a toy third phone provider, complete enough to run
// through the whole CLI (org connect, sync, run, review, doctor): it shows
// that a provider is its own package plus one line in the registry. It is
// a test package: nothing in the product imports it.
package toytest
