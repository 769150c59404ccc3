package queries

import "strings"

// CallKey names one call: raw_signals' sort key.
type CallKey struct {
	Org, Provider, CallID string
}

// RenderCallKeys fills the {orgs} and {calls} markers of TouchedDays with
// literal lists of keys (org names and (org, provider, call_id) tuples as
// quoted ClickHouse strings). keys must not be empty.
func RenderCallKeys(stmt string, keys []CallKey) string {
	var orgs, calls strings.Builder
	seen := map[string]bool{}
	for i, k := range keys {
		if !seen[k.Org] {
			if len(seen) > 0 {
				orgs.WriteString(", ")
			}
			seen[k.Org] = true
			orgs.WriteString(quote(k.Org))
		}
		if i > 0 {
			calls.WriteString(", ")
		}
		calls.WriteString("(" + quote(k.Org) + ", " + quote(k.Provider) + ", " + quote(k.CallID) + ")")
	}
	return strings.NewReplacer("{orgs}", orgs.String(), "{calls}", calls.String()).Replace(stmt)
}
