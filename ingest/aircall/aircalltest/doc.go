// Package aircalltest is the test double of Aircall's public API: a real
// HTTP server (Fake, for httptest.NewServer) that serves a fixture org the
// way Aircall does, with its quirks: Basic auth and 401s, paged listings
// with the 10,000-result cap, the per-company rate limit with 429 storms,
// 503s, a kill switch, duplicated and reordered pages, users with e-mail
// addresses, webhooks and transcripts. Aircall's API facts are restated
// here rather than imported from package aircall, so a drift in the
// client shows in the client's tests. Tests and the demo use it; the
// product binary never links it (internal/testkit/archtest).
package aircalltest
