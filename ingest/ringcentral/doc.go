// Package ringcentral is the RingCentral connector: it exchanges an org's
// JWT for access tokens, reads the Platform API call log (per extension or
// company-wide) within the Heavy rate-limit group, publishes every record
// untouched to the sink, and decodes those raw records for the transform.
//
// Fake serves a generated fixture org with the real API's shapes and
// quirks, for tests and the CLI demo.
package ringcentral
