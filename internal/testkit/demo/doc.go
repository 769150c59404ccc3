// Package demo runs the whole pipeline end to end on generated orgs: it
// serves a simulated Aircall org and RingCentral org over HTTP, configures,
// syncs, transforms and loads them through the product's own packages,
// checks every review number against an independent computation
// (internal/testkit/fixture) and prints reviews and a summary. It is test
// support: only the demo binary, cmd/phonesignals-demo, links it, so the
// product binary links none of the test doubles.
package demo
