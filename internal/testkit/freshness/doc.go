// Package freshness is the benchmark behind `make bench-freshness`: a
// steady stream of Aircall call.ended webhooks at a stated rate against the
// real webhook server (aircall.WebhookServer publishing to the embedded
// broker), the transform and load stage as `run` wires it, and ClickHouse
// 18.16, timing each call from its acknowledgement (the 2xx) to its row in
// raw_signals and to its number in the review (review.LoadCycle, the path
// of `phonesignals review`).
package freshness
