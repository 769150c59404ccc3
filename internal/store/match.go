package store

import (
	"fmt"
	"io"
	"net/mail"
	"sort"
	"strings"
)

// MatchOptions tunes MatchByEmail.
type MatchOptions struct {
	// Move lets a match replace a mapping that exists: an employee mapped
	// to another provider user takes the one its e-mail matches, and a
	// user mapped to another employee moves (that employee keeps none).
	// Default false: existing mappings stay and are reported.
	Move bool
	// UserIDName names the provider's user in messages ("Aircall user").
	// Default "provider user".
	UserIDName string
}

// Matched is a row whose provider_user_id an e-mail match filled in.
type Matched struct {
	Employee Employee
	User     ProviderUser
	// Replaced is the provider user the employee was mapped to before
	// (with Move); empty when it had none.
	Replaced string
	// From is the employee the user was taken from (with Move); empty
	// when nobody held it.
	From string
}

// RowProblem is a row an e-mail match did not fill in, and why.
type RowProblem struct {
	Employee Employee
	Reason   string
}

// MatchResult is what MatchByEmail did with each row.
type MatchResult struct {
	// Rows are the input rows with the matched provider_user_ids filled
	// in, existing mappings kept (or released with Move): what to import.
	Rows []Employee
	// Matched are the rows filled in.
	Matched []Matched
	// Kept are rows whose existing mapping differs from their e-mail's
	// match and stays (without Move).
	Kept []RowProblem
	// Unmatched are rows with no e-mail, or an e-mail no user has.
	Unmatched []RowProblem
	// Ambiguous are rows whose e-mail matches several users, or a user
	// another row's e-mail matches too or another row is mapped to.
	Ambiguous []RowProblem
}

// NormalizeEmail is the form e-mails are compared in: the address of a
// "Name <addr>" form, trimmed, lower case; "" for no e-mail.
func NormalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	if a, err := mail.ParseAddress(s); err == nil {
		s = a.Address
	}
	return strings.ToLower(s)
}

// matcher is the state of one MatchByEmail.
type matcher struct {
	opts    MatchOptions
	byEmail map[string][]ProviderUser
	stored  map[string]string // employee id -> provider user id stored
	res     MatchResult
	// claims are the rows (indices) each provider user was matched to.
	claims map[string][]int
	prev   []string // each row's mapping before matching
}

// MatchByEmail fills in the provider_user_id of every row that has an
// e-mail but no provider_user_id from users, the provider's own list: a
// row whose e-mail (compared by NormalizeEmail) is exactly one user's
// gets that user's id. stored is the org's current roster: a row without
// an id whose employee is mapped keeps that mapping unless opts.Move.
// Rows with no e-mail or an e-mail no user has are Unmatched; an e-mail of
// several users, or a user two rows match or another row holds (without
// Move), is Ambiguous and the row stays as it was.
func MatchByEmail(rows, stored []Employee, users []ProviderUser, opts MatchOptions) MatchResult {
	if opts.UserIDName == "" {
		opts.UserIDName = "provider user"
	}
	m := &matcher{opts: opts, byEmail: map[string][]ProviderUser{}, stored: map[string]string{}, claims: map[string][]int{}}
	for _, u := range users {
		if e := NormalizeEmail(u.Email); e != "" {
			m.byEmail[e] = append(m.byEmail[e], u)
		}
	}
	for _, e := range stored {
		m.stored[e.ID] = e.ProviderUserID
	}
	m.res.Rows = append([]Employee(nil), rows...)
	m.prev = make([]string, len(rows))
	for i, r := range rows {
		m.prev[i] = r.ProviderUserID
		if r.ProviderUserID == "" {
			m.prev[i] = m.stored[r.ID]
			m.res.Rows[i].ProviderUserID = m.prev[i]
			m.match(i, r)
		}
	}
	m.settle()
	return m.res
}

// match finds row i's user by e-mail and claims it, or records why not.
func (m *matcher) match(i int, r Employee) {
	prev, who := m.prev[i], m.opts.UserIDName
	cands := m.byEmail[NormalizeEmail(r.Email)]
	switch {
	case NormalizeEmail(r.Email) == "":
		if prev == "" {
			m.res.Unmatched = append(m.res.Unmatched, RowProblem{r, "no e-mail to match"})
		}
	case len(cands) == 0:
		if prev == "" {
			m.res.Unmatched = append(m.res.Unmatched, RowProblem{r, fmt.Sprintf("no %s has e-mail %s", who, r.Email)})
		}
	case len(cands) > 1:
		for _, u := range cands {
			if u.ID == prev {
				return // the e-mail is ambiguous, the existing mapping is not
			}
		}
		m.res.Ambiguous = append(m.res.Ambiguous, RowProblem{r, fmt.Sprintf("e-mail %s matches %d %ss: %s", r.Email, len(cands), who, userIDs(cands))})
	case prev == "" || prev == cands[0].ID || m.opts.Move:
		m.claims[cands[0].ID] = append(m.claims[cands[0].ID], i)
	default:
		m.res.Kept = append(m.res.Kept, RowProblem{r, fmt.Sprintf("stays mapped to %s %s; its e-mail matches %s %s (use --move to map it to that one)", who, prev, who, cands[0].ID)})
	}
}

// settle gives each claimed user to the one row that claimed it, unless
// another row claimed it too or holds it.
func (m *matcher) settle() {
	holder := map[string]int{}
	for i, r := range m.res.Rows {
		if r.ProviderUserID != "" {
			holder[r.ProviderUserID] = i
		}
	}
	byID := map[string]ProviderUser{}
	for _, us := range m.byEmail {
		for _, u := range us {
			byID[u.ID] = u
		}
	}
	for _, id := range sortedKeys(m.claims) {
		m.give(byID[id], m.claims[id], holder)
	}
}

// give maps user u to the single row claiming it (claimants), taking it
// from its holder with Move.
func (m *matcher) give(u ProviderUser, claimants []int, holder map[string]int) {
	who := m.opts.UserIDName
	if len(claimants) > 1 {
		var ids []string
		for _, i := range claimants {
			ids = append(ids, m.res.Rows[i].ID)
		}
		for _, i := range claimants {
			m.res.Ambiguous = append(m.res.Ambiguous, RowProblem{m.res.Rows[i], fmt.Sprintf("%s %s is the e-mail match of employees %s: one user counts for one employee", who, u.ID, strings.Join(ids, ", "))})
		}
		return
	}
	i := claimants[0]
	row := m.res.Rows[i]
	if row.ProviderUserID == u.ID {
		return // already mapped to it
	}
	from := ""
	if h, ok := holder[u.ID]; ok && h != i && m.res.Rows[h].ProviderUserID == u.ID {
		hr := m.res.Rows[h]
		if !m.opts.Move || m.stored[hr.ID] != hr.ProviderUserID {
			m.res.Ambiguous = append(m.res.Ambiguous, RowProblem{row, fmt.Sprintf("its e-mail matches %s %s, which employee %s (%s) is mapped to%s", who, u.ID, hr.ID, hr.Name, moveHint(m.opts.Move))})
			return
		}
		m.res.Rows[h].ProviderUserID = ""
		from = hr.ID
	}
	m.res.Rows[i].ProviderUserID = u.ID
	m.res.Matched = append(m.res.Matched, Matched{Employee: m.res.Rows[i], User: u, Replaced: row.ProviderUserID, From: from})
}

// moveHint says how to take a user from its holder, when --move would.
func moveHint(move bool) string {
	if move {
		return " in the same file (fix one of the two rows)"
	}
	return " (use --move to move it)"
}

func userIDs(us []ProviderUser) string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	sort.Strings(ids)
	return joinAnd(ids)
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Changed are the rows whose provider_user_id differs from stored's (new
// employees included): what a match of the stored roster writes.
func (r MatchResult) Changed(stored []Employee) []Employee {
	cur := map[string]Employee{}
	for _, e := range stored {
		cur[e.ID] = e
	}
	var out []Employee
	for _, e := range r.Rows {
		if c, ok := cur[e.ID]; !ok || c.ProviderUserID != e.ProviderUserID {
			out = append(out, e)
		}
	}
	return out
}

// Err is the error of a match with ambiguous rows (nil without): every
// ambiguous row with its reason, the unmatched ones too, and the fix.
func (r MatchResult) Err(org string) error {
	if len(r.Ambiguous) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "org %s: %d rows match ambiguously by e-mail, nothing imported:", org, len(r.Ambiguous))
	for _, p := range r.Ambiguous {
		fmt.Fprintf(&b, "\n  %s", p)
	}
	if len(r.Unmatched) > 0 {
		fmt.Fprintf(&b, "\nand %d rows match no user:", len(r.Unmatched))
		for _, p := range r.Unmatched {
			fmt.Fprintf(&b, "\n  %s", p)
		}
	}
	fmt.Fprintf(&b, "\nfix: give these rows their provider_user_id by hand (`phonesignals employees list --org %s` prints the roster CSV; "+
		"`phonesignals employees discover --org %s` lists the ids) and import the file, or give each user its own e-mail at the provider", org, org)
	return fmt.Errorf("%s", b.String())
}

// String is "E001 (ada@acme.example): why".
func (p RowProblem) String() string {
	e := p.Employee
	where := e.ID
	if e.Line > 0 {
		where = fmt.Sprintf("line %d: %s", e.Line, e.ID)
	}
	if e.Email != "" {
		where += " <" + e.Email + ">"
	}
	return where + ": " + p.Reason
}

// Write prints what the match did: the rows matched, the mappings kept
// and the rows not matched, each with its reason. who names the
// provider's user ("Aircall user").
func (r MatchResult) Write(w io.Writer, org, who string) {
	if who == "" {
		who = "provider user"
	}
	fmt.Fprintf(w, "matched %d employees of org %s to their %s by e-mail\n", len(r.Matched), org, who)
	for _, m := range r.Matched {
		line := fmt.Sprintf("  %s <%s>: %s %s (%s)", m.Employee.ID, m.Employee.Email, who, m.User.ID, m.User.Name)
		if m.Replaced != "" {
			line += ", was " + m.Replaced
		}
		if m.From != "" {
			line += ", moved from employee " + m.From
		}
		fmt.Fprintln(w, line)
	}
	if len(r.Kept) > 0 {
		fmt.Fprintf(w, "kept %d existing mappings:\n", len(r.Kept))
		for _, p := range r.Kept {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if len(r.Unmatched) > 0 {
		fmt.Fprintf(w, "not matched, %d rows (give them a provider_user_id by hand; `phonesignals employees discover --org %s` lists the ids):\n", len(r.Unmatched), org)
		for _, p := range r.Unmatched {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}
