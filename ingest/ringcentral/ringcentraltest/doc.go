// Package ringcentraltest is the test double of RingCentral's call-log
// API: a real HTTP server (Fake) serving a fixture org with RingCentral's
// quirks: OAuth JWT token exchange and expiring tokens, the Heavy/Medium
// usage-group rate limits with their Retry-After, paged call-log reads,
// the ISync/FSync sync tokens, and the extension list with e-mail
// addresses. Tests and the demo use it; the product binary never links it
// (internal/testkit/archtest).
package ringcentraltest
