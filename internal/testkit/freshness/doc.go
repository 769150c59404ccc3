// Package freshness is the benchmark behind `make bench-freshness`: a
// steady stream of Aircall call.ended webhooks at a stated rate against
// `phonesignals serve` with the webhooks and transform roles (serve.Service,
// its receiver reading the org's sealed token from the store and publishing
// to the embedded broker, its transform and load stage as `run` wires it)
// and ClickHouse 18.16, timing each call from its acknowledgement (the 2xx)
// to its row in raw_signals, to its number in the review (review.LoadCycle,
// the path of `phonesignals review`) and to its number in the Grafana
// plugin's team review (the backend's QueryData, as a dashboard panel asks).
package freshness
