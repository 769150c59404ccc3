// Package freshness is the benchmark behind `make bench-freshness`: a
// steady stream of Aircall call.ended webhooks, and of calls appearing at
// the fake Aircall and RingCentral APIs (aircalltest.Fake,
// ringcentraltest.Fake) of two more orgs, each at a stated rate, against
// `phonesignals serve` with the sync, webhooks and transform roles
// (serve.Service: its sync role polls the two orgs every second,
// its receiver reads the first org's sealed token from the store and
// publishes to the embedded broker, its transform and load stage is wired
// as `run` wires it) and ClickHouse 18.16. It times each call from its
// acknowledgement (the 2xx) or its poll (the fake's response that first
// carried it) to its row in raw_signals, to its number in the review
// (review.LoadCycle, the path of `phonesignals review`) and to its number
// in the Grafana plugin's team review (the backend's QueryData, as a
// dashboard panel asks it).
package freshness
