package queries

import (
	"sort"
	"strings"

	"github.com/phonesignals/phonesignals/internal/model"
)

// maxListedCalls is the most call ids of one (org, provider) RenderCallKeys
// lists one by one; above it, it names their [min, max] range: a batch's
// new calls have neighbouring ids (Aircall numbers them in order), so the
// range reads about the same granules, and parsing a 20,000-element list
// cost 18.16 more than the lookup itself. A range is a superset: the days
// of calls in between are marked too, which only adds refresh work.
const maxListedCalls = 200

// RenderCallKeys fills the {orgs}, {calls} and {call_range} markers of
// TouchedDays: the quoted org names, a condition on raw_signals' sort key
// matching every call of keys (per org and provider, the ids listed or
// their range), and the range of all of keys' ids. keys must not be empty.
func RenderCallKeys(stmt string, keys []model.CallKey) string {
	type group struct{ org, provider string }
	ids := map[group][]string{}
	var groups []group
	for _, k := range keys {
		g := group{k.Org, k.Provider}
		if _, ok := ids[g]; !ok {
			groups = append(groups, g)
		}
		ids[g] = append(ids[g], k.CallID)
	}
	var orgs, cond strings.Builder
	seen := map[string]bool{}
	lo, hi := keys[0].CallID, keys[0].CallID
	for _, k := range keys[1:] {
		lo, hi = min(lo, k.CallID), max(hi, k.CallID)
	}
	for i, g := range groups {
		if !seen[g.org] {
			if len(seen) > 0 {
				orgs.WriteString(", ")
			}
			seen[g.org] = true
			orgs.WriteString(quote(g.org))
		}
		if i > 0 {
			cond.WriteString(" OR ")
		}
		list := ids[g]
		cond.WriteString("(org = " + quote(g.org) + " AND provider = " + quote(g.provider) + " AND call_id ")
		if len(list) > maxListedCalls {
			sort.Strings(list)
			cond.WriteString("BETWEEN " + quote(list[0]) + " AND " + quote(list[len(list)-1]) + ")")
			continue
		}
		cond.WriteString("IN (")
		for j, id := range list {
			if j > 0 {
				cond.WriteString(", ")
			}
			cond.WriteString(quote(id))
		}
		cond.WriteString("))")
	}
	return strings.NewReplacer("{orgs}", orgs.String(), "{calls}", cond.String(),
		"{call_range}", "call_id BETWEEN "+quote(lo)+" AND "+quote(hi)).Replace(stmt)
}

// ListedCalls is how many call ids RenderCallKeys would list one by one
// for keys: those of (org, provider) groups of at most maxListedCalls
// distinct ids (larger groups are named by their range). It bounds the
// size of the statement's AST, so a caller can send a batch whose calls
// are all named by ranges in one lookup instead of several.
func ListedCalls(keys []model.CallKey) int {
	type group struct{ org, provider string }
	n := map[group]int{}
	for _, k := range keys {
		n[group{k.Org, k.Provider}]++
	}
	listed := 0
	for _, c := range n {
		if c <= maxListedCalls {
			listed += c
		}
	}
	return listed
}
