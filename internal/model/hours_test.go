package model

import (
	"strings"
	"testing"
	"time"
)

func TestParseWorkingHours(t *testing.T) {
	for _, tc := range []struct {
		zone, hours, days string
		want              string // String(), or the error's text
	}{
		{"America/Los_Angeles", "08:00-18:00", "Mon-Fri", "08:00-18:00 Mon-Fri, America/Los_Angeles"},
		{"Europe/Paris", "13:00-17:30, 08:30-12:00", "Sat,Sun", "08:30-12:00,13:00-17:30 Sat-Sun, Europe/Paris"},
		{"UTC", "00:00-24:00", "every", "00:00-24:00 every day, UTC"},
		{"Asia/Tokyo", "09:00-18:00", "Fri-Mon", "09:00-18:00 Mon,Fri-Sun, Asia/Tokyo"},
		{"Mars/Olympus", "08:00-18:00", "Mon-Fri", `time zone "Mars/Olympus" is not an IANA time zone name`},
		{"", "08:00-18:00", "Mon-Fri", `time zone "" is not an IANA time zone name`},
		{"UTC", "08:00-12:00,11:00-13:00", "Mon", "08:00-12:00 and 11:00-13:00 overlap"},
		{"UTC", "18:00-08:00", "Mon", "ends before it starts (a range cannot cross midnight"},
		{"UTC", "8-18", "Mon", "want HH:MM-HH:MM ranges"},
		{"UTC", "08:00-24:01", "Mon", "want HH:MM-HH:MM ranges"},
		{"UTC", "08:00-18:00", "Monday", "want weekdays Mon..Sun"},
	} {
		w, err := ParseWorkingHours(tc.zone, tc.hours, tc.days)
		got := w.String()
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("ParseWorkingHours(%q, %q, %q) = %q, want %q", tc.zone, tc.hours, tc.days, got, tc.want)
		}
		if err == nil {
			back, err := ParseWorkingHours(w.Zone, w.HoursText(), w.DaysText())
			if err != nil || back.String() != w.String() {
				t.Errorf("%q does not read back: %q, %v", w, back, err)
			}
		}
	}
}

// TestWorkingHoursDaylightSaving rates calls around Los Angeles' switches
// (2026-03-08 and 2026-11-01): local wall time decides.
func TestWorkingHoursDaylightSaving(t *testing.T) {
	la, err := ParseWorkingHours("America/Los_Angeles", "08:00-18:00", "Mon-Fri")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		utc   string
		after bool
	}{
		{"2026-03-06T15:59:00Z", true},  // Fri 07:59 PST
		{"2026-03-06T16:00:00Z", false}, // Fri 08:00 PST
		{"2026-03-09T15:00:00Z", false}, // Mon 08:00 PDT
		{"2026-03-09T14:59:00Z", true},  // Mon 07:59 PDT
		{"2026-03-10T00:59:00Z", false}, // Mon 17:59 PDT
		{"2026-03-10T01:00:00Z", true},  // Mon 18:00 PDT
		{"2026-03-07T18:00:00Z", true},  // Sat 10:00 PST
		{"2026-11-02T16:00:00Z", false}, // Mon 08:00 PST again
		{"2026-11-02T15:00:00Z", true},  // Mon 07:00 PST
		{"2026-09-01T17:00:00Z", false}, // Tue 10:00 PDT (after hours in UTC's rule)
		{"2026-09-02T02:00:00Z", true},  // Tue 19:00 PDT (business in UTC's rule)
	} {
		at, _ := time.Parse(time.RFC3339, tc.utc)
		if got := la.AfterHours(at); got != tc.after {
			t.Errorf("%s (%s local): after hours %v, want %v", tc.utc, at.In(la.Location()).Format("Mon 15:04 MST"), got, tc.after)
		}
	}
	if SeedHours.AfterHours(time.Date(2026, 9, 1, 17, 59, 0, 0, time.UTC)) || !SeedHours.AfterHours(time.Date(2026, 9, 1, 18, 0, 0, 0, time.UTC)) {
		t.Error("the seed's rule is not 08:00-18:00 UTC")
	}
}

func TestScheduleAt(t *testing.T) {
	la, _ := ParseWorkingHours("America/Los_Angeles", "08:00-18:00", "Mon-Fri")
	from := time.Date(2026, 9, 15, 7, 0, 0, 0, time.UTC)
	s := Schedule{{From: from, Hours: la}, {From: from.AddDate(0, 1, 0), Withdrawn: true}}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{from.Add(-time.Second), SeedHours.String()},
		{from, la.String()},
		{from.AddDate(0, 1, 0), SeedHours.String()},
	} {
		if got := s.At(tc.at).String(); got != tc.want {
			t.Errorf("At(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
}

// TestBusinessIntervalsAgree: a call is business-hours exactly when an
// interval holds it, minute by minute over two weeks around a switch.
func TestBusinessIntervalsAgree(t *testing.T) {
	for _, zone := range []string{"America/Los_Angeles", "Europe/Paris", "Australia/Lord_Howe", "UTC"} {
		w, err := ParseWorkingHours(zone, "00:30-02:30,08:00-18:00", "Mon-Sat")
		if err != nil {
			t.Fatal(err)
		}
		from := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 0, 16)
		ivs := w.BusinessIntervals(from, to)
		for at := from; at.Before(to); at = at.Add(7 * time.Minute) {
			in := false
			for _, iv := range ivs {
				in = in || (at.Unix() >= iv.Start && at.Unix() < iv.End)
			}
			if in == w.AfterHours(at) {
				t.Fatalf("%s %s (%s): after hours %v, intervals say business %v", zone, at, at.In(w.Location()), w.AfterHours(at), in)
			}
		}
	}
}

func TestScheduleDuring(t *testing.T) {
	la, _ := ParseWorkingHours("America/Los_Angeles", "08:00-18:00", "Mon-Fri")
	from := time.Date(2026, 9, 15, 7, 0, 0, 0, time.UTC)
	s := Schedule{{From: from, Hours: la}}
	sep, oct := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from, to time.Time
		want     string
	}{
		{sep, oct, SeedHours.String() + "|" + la.String()},
		{oct, oct.AddDate(0, 1, 0), la.String()},
		{sep, from, SeedHours.String()},
	} {
		var got []string
		for _, w := range s.During(tc.from, tc.to) {
			got = append(got, w.String())
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("During(%s, %s) = %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
}
