// Package servefleet runs `phonesignals serve` replicas as real processes
// over many orgs on the simulated providers: a 3-broker embedded Kafka,
// the local ClickHouse, Aircall and RingCentral fakes (one org answering
// 401, one hanging, one rate-limited hard), one replica killed with
// SIGKILL and restarted, while new calls and edits stream in. It checks
// that healthy orgs stay current, that the fakes' request logs never show
// two replicas following one org at once, and that every review number
// equals the independent computation once idle. Tests only: no product
// binary links it.
package servefleet
