package model

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MinuteRange is [Start, End) in minutes of a local day (0 to 1440).
type MinuteRange struct{ Start, End int }

// WorkingHours is an org's after-hours rule: a call is after hours when
// it starts, in the rule's time zone, on a day not in Days or outside
// every range of Ranges. Local wall time decides, so daylight saving is
// handled as a clock on the wall shows it (Go's IANA time zone database).
type WorkingHours struct {
	// Zone is the IANA time zone name ("UTC", "America/Los_Angeles").
	Zone string
	// Ranges are sorted and do not overlap.
	Ranges []MinuteRange
	// Days is indexed by time.Weekday.
	Days [7]bool

	loc *time.Location
}

// SeedHours is the seed's rule, the default of every org: 08:00 to 18:00
// UTC, every day.
var SeedHours = WorkingHours{Zone: "UTC", Ranges: []MinuteRange{{8 * 60, 18 * 60}}, Days: [7]bool{true, true, true, true, true, true, true}, loc: time.UTC}

var dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// ParseWorkingHours reads a rule: zone an IANA name, hours a comma list
// of HH:MM-HH:MM ranges (24:00 ends a day; ranges may not overlap or
// cross midnight), days a comma list of weekdays or ranges of them
// (Mon-Fri, Sat,Sun, Fri-Mon; "every" for all seven).
func ParseWorkingHours(zone, hours, days string) (WorkingHours, error) {
	var errs []error
	w := WorkingHours{Zone: strings.TrimSpace(zone)}
	loc, err := time.LoadLocation(w.Zone)
	if err != nil || w.Zone == "" || strings.EqualFold(w.Zone, "local") {
		errs = append(errs, fmt.Errorf("time zone %q is not an IANA time zone name (for example America/Los_Angeles, Europe/Paris, UTC)", zone))
	}
	w.loc = loc
	if w.Ranges, err = parseRanges(hours); err != nil {
		errs = append(errs, err)
	}
	if w.Days, err = parseDays(days); err != nil {
		errs = append(errs, err)
	}
	return w, errors.Join(errs...)
}

func parseRanges(s string) ([]MinuteRange, error) {
	var out []MinuteRange
	for _, part := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		start, err1 := parseClock(from)
		end, err2 := parseClock(to)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("hours %q: want HH:MM-HH:MM ranges separated by commas, such as 08:00-12:00,13:00-18:00", s)
		}
		if start >= end {
			return nil, fmt.Errorf("hours %q: %s ends before it starts (a range cannot cross midnight: split it at 24:00 and 00:00)", s, part)
		}
		out = append(out, MinuteRange{start, end})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	for i := 1; i < len(out); i++ {
		if out[i].Start < out[i-1].End {
			return nil, fmt.Errorf("hours %q: %s and %s overlap", s, clockRange(out[i-1]), clockRange(out[i]))
		}
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return hh*60 + mm, nil
}

func parseDays(s string) ([7]bool, error) {
	var out [7]bool
	if strings.EqualFold(strings.TrimSpace(s), "every") {
		return [7]bool{true, true, true, true, true, true, true}, nil
	}
	for _, part := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, okA := dayIndex(from)
		b, okB := a, okA
		if isRange {
			b, okB = dayIndex(to)
		}
		if !okA || !okB {
			return out, fmt.Errorf("days %q: want weekdays Mon..Sun, ranges such as Mon-Fri, separated by commas, or every", s)
		}
		for d := a; ; d = (d + 1) % 7 {
			out[d] = true
			if d == b {
				break
			}
		}
	}
	return out, nil
}

func dayIndex(s string) (int, bool) {
	for i, n := range dayNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return i, true
		}
	}
	return 0, false
}

// Location is the rule's time zone.
func (w WorkingHours) Location() *time.Location {
	if w.loc == nil {
		if loc, err := time.LoadLocation(w.Zone); err == nil {
			return loc
		}
		return time.UTC
	}
	return w.loc
}

// AfterHours reports whether a call starting at t is after hours: the
// business hours of a local date are the instants from time.Date(date,
// range start) to time.Date(date, range end) in the rule's zone (Go
// normalises a time a daylight-saving switch skips), on the listed days.
// BusinessIntervals gives the same instants, so SQL re-rating agrees.
func (w WorkingHours) AfterHours(t time.Time) bool {
	loc := w.Location()
	l := t.In(loc)
	if !w.Days[l.Weekday()] {
		return true
	}
	y, m, d := l.Date()
	for _, r := range w.Ranges {
		start := time.Date(y, m, d, r.Start/60, r.Start%60, 0, 0, loc)
		end := time.Date(y, m, d, r.End/60, r.End%60, 0, 0, loc)
		if !t.Before(start) && t.Before(end) {
			return false
		}
	}
	return true
}

// Interval is [Start, End) in UNIX seconds.
type Interval struct{ Start, End int64 }

// BusinessIntervals returns the business hours of every local date from
// the one holding from to the one holding to, oldest first.
func (w WorkingHours) BusinessIntervals(from, to time.Time) []Interval {
	loc := w.Location()
	var out []Interval
	f := from.In(loc)
	for day := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc); !day.After(to); day = day.AddDate(0, 0, 1) {
		if !w.Days[day.Weekday()] {
			continue
		}
		y, m, d := day.Date()
		for _, r := range w.Ranges {
			out = append(out, Interval{time.Date(y, m, d, r.Start/60, r.Start%60, 0, 0, loc).Unix(), time.Date(y, m, d, r.End/60, r.End%60, 0, 0, loc).Unix()})
		}
	}
	return out
}

// HoursText is the rule's hours as ParseWorkingHours reads them.
func (w WorkingHours) HoursText() string {
	parts := make([]string, len(w.Ranges))
	for i, r := range w.Ranges {
		parts[i] = clockRange(r)
	}
	return strings.Join(parts, ",")
}

// DaysText is the rule's days as ParseWorkingHours reads them.
func (w WorkingHours) DaysText() string {
	var parts []string
	for start := 1; start < 8; {
		d := start % 7
		if !w.Days[d] {
			start++
			continue
		}
		end := start
		for end+1 < 8 && w.Days[(end+1)%7] {
			end++
		}
		if end == start {
			parts = append(parts, dayNames[d])
		} else {
			parts = append(parts, dayNames[d]+"-"+dayNames[end%7])
		}
		start = end + 1
	}
	if len(parts) == 1 && parts[0] == "Mon-Sun" {
		return "every"
	}
	return strings.Join(parts, ",")
}

// String is the rule in one line: "08:00-18:00 every day, UTC".
func (w WorkingHours) String() string {
	days := w.DaysText()
	if days == "every" {
		days = "every day"
	}
	return w.HoursText() + " " + days + ", " + w.Zone
}

func clockRange(r MinuteRange) string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", r.Start/60, r.Start%60, r.End/60, r.End%60)
}

// HoursVersion is a rule and the instant it takes effect.
type HoursVersion struct {
	From  time.Time
	Hours WorkingHours
	// Withdrawn means the org returns to SeedHours from From.
	Withdrawn bool
}

// Schedule is an org's rules by effective time, oldest first: a call is
// rated by the newest version at or before its start, and by SeedHours
// before the first.
type Schedule []HoursVersion

// At returns the rule in effect at t.
func (s Schedule) At(t time.Time) WorkingHours {
	i := sort.Search(len(s), func(i int) bool { return s[i].From.After(t) })
	if i == 0 || s[i-1].Withdrawn {
		return SeedHours
	}
	return s[i-1].Hours
}

// AfterHours reports whether a call starting at t is after hours under
// the rule in effect then.
func (s Schedule) AfterHours(t time.Time) bool { return s.At(t).AfterHours(t) }

// Custom reports whether any version differs from the seed's rule, that
// is whether the stored UTC flag of the transform's kernel is not enough.
func (s Schedule) Custom() bool { return len(s) > 0 }

// During returns the rules in effect at some instant of [from, to), in
// order, each once: what rated a cycle's calls.
func (s Schedule) During(from, to time.Time) []WorkingHours {
	out := []WorkingHours{s.At(from)}
	for _, v := range s {
		if v.From.After(from) && v.From.Before(to) {
			if w := s.At(v.From); w.String() != out[len(out)-1].String() {
				out = append(out, w)
			}
		}
	}
	return out
}
