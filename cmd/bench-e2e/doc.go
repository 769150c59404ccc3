// Command bench-e2e times `phonesignals run --until-idle` over generated
// Aircall-like calls (see internal/testkit/benche2e); `make bench-e2e` runs it.
package main
