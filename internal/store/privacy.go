package store

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The privacy settings of an org live in its settings (orgs.settings, the
// JSON `org connect --setting` writes too) under these keys, so the SQL
// view cohort_cycle_baselines_published reads the same floor.
const (
	// SettingMinCohort is the smallest cohort whose medians are shown.
	SettingMinCohort = "min_cohort"
	// SettingRetention is how long call rows are kept (a Retention).
	SettingRetention = "retention"
)

// DefaultMinCohort is the floor of an org that set none: a cohort of 1 or 2
// would publish a median that is one person's number, or can be subtracted
// back to it.
const DefaultMinCohort = 3

// MaxMinCohort bounds `org privacy --min-cohort`.
const MaxMinCohort = 1000

// Privacy is an org's privacy floor and retention.
type Privacy struct {
	// MinCohort is the smallest cohort size whose medians are published.
	MinCohort int
	// Retention is how long call rows are kept; zero keeps them forever.
	Retention Retention
	// Problems name stored values that could not be read (the default is
	// used instead), each with its fix.
	Problems []string
}

// Retention is a span of whole days, weeks, months or years.
type Retention struct {
	N    int
	Unit string // "d", "w", "mo" or "y"; "" for none
}

var retentionRe = regexp.MustCompile(`^([0-9]{1,5})(d|w|mo|y)$`)

// ParseRetention reads "24mo", "2y", "52w", "730d", or "off" (keep forever).
func ParseRetention(s string) (Retention, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case "off", "none", "forever":
		return Retention{}, nil
	}
	m := retentionRe.FindStringSubmatch(v)
	if m == nil {
		hint := ""
		if strings.HasSuffix(v, "m") {
			hint = " (months are mo: 24mo)"
		}
		return Retention{}, fmt.Errorf("retention %q: want a number of days, weeks, months or years such as 730d, 104w, 24mo or 2y, or off%s", s, hint)
	}
	n, _ := strconv.Atoi(m[1])
	if n == 0 {
		return Retention{}, fmt.Errorf("retention %q: must be at least 1%s (or off to keep calls forever)", s, m[2])
	}
	return Retention{N: n, Unit: m[2]}, nil
}

// IsZero reports a retention that keeps calls forever.
func (r Retention) IsZero() bool { return r.N == 0 }

// String is the form ParseRetention reads ("off" when zero).
func (r Retention) String() string {
	if r.IsZero() {
		return "off"
	}
	return strconv.Itoa(r.N) + r.Unit
}

// Cutoff is the first instant whose calls are kept at now: the start of
// the UTC day now falls on, the retention earlier. Whole days, so the
// per-day aggregates of the days before it go with their calls. Zero for
// a retention that keeps everything.
func (r Retention) Cutoff(now time.Time) time.Time {
	if r.IsZero() {
		return time.Time{}
	}
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch r.Unit {
	case "d":
		return day.AddDate(0, 0, -r.N)
	case "w":
		return day.AddDate(0, 0, -7*r.N)
	case "mo":
		return day.AddDate(0, -r.N, 0)
	default:
		return day.AddDate(-r.N, 0, 0)
	}
}

// PrivacyOf reads o's privacy settings. A stored value that is not valid
// (written with `org connect --setting`) falls back to the default, as the
// SQL view does, and is named in Problems.
func PrivacyOf(o Org) Privacy {
	p := Privacy{MinCohort: DefaultMinCohort}
	if v, ok := o.Settings[SettingMinCohort]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxMinCohort {
			p.Problems = append(p.Problems, fmt.Sprintf("setting %s=%q is not a cohort size from 1 to %d: using %d; fix it with `phonesignals org privacy --org %s --min-cohort N`",
				SettingMinCohort, v, MaxMinCohort, DefaultMinCohort, o.Name))
		} else {
			p.MinCohort = n
		}
	}
	if v, ok := o.Settings[SettingRetention]; ok && v != "" {
		r, err := ParseRetention(v)
		if err != nil {
			p.Problems = append(p.Problems, fmt.Sprintf("setting %s: %v: keeping every call; fix it with `phonesignals org privacy --org %s --retention 24mo` (or off)", SettingRetention, err, o.Name))
		} else {
			p.Retention = r
		}
	}
	return p
}

// MedianNA is why a cohort of size employees shows no median under the
// floor minCohort, or "" when it shows one. The view
// cohort_cycle_baselines_published says the same words.
func MedianNA(size uint64, minCohort int) string {
	if minCohort < 1 || size >= uint64(minCohort) {
		return ""
	}
	return fmt.Sprintf("cohort of %d is below the minimum cohort size of %d", size, minCohort)
}

// PrivacyChange is what `org privacy` sets; nil fields stay as they are.
type PrivacyChange struct {
	MinCohort *int
	Retention *Retention
}

// SetPrivacy stores the change in org's settings (a new version of its
// row) and returns the resulting settings.
func (s *Store) SetPrivacy(ctx context.Context, org string, ch PrivacyChange) (Privacy, error) {
	if ch.MinCohort != nil && (*ch.MinCohort < 1 || *ch.MinCohort > MaxMinCohort) {
		return Privacy{}, fmt.Errorf("--min-cohort %d: want a cohort size from 1 (no floor) to %d", *ch.MinCohort, MaxMinCohort)
	}
	o, err := s.GetOrg(ctx, org)
	if err != nil {
		return Privacy{}, err
	}
	if ch.MinCohort == nil && ch.Retention == nil {
		return PrivacyOf(o), nil
	}
	settings := make(map[string]string, len(o.Settings)+2)
	for k, v := range o.Settings {
		settings[k] = v
	}
	if ch.MinCohort != nil {
		settings[SettingMinCohort] = strconv.Itoa(*ch.MinCohort)
	}
	if ch.Retention != nil {
		if ch.Retention.IsZero() {
			delete(settings, SettingRetention)
		} else {
			settings[SettingRetention] = ch.Retention.String()
		}
	}
	o.Settings = settings
	if err := s.SaveOrg(ctx, o); err != nil {
		return Privacy{}, err
	}
	return PrivacyOf(o), nil
}
