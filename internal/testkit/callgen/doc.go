// Package callgen generates Aircall-like raw calls for the benchmarks
// (`make bench-e2e`, the decode and rule micro-benchmarks): REST call
// objects of 650 bytes on average, 60% with notes of 0 to 500 bytes, tags,
// a few in the flexible shapes webhooks send, and the row each must become.
package callgen
