package store

import (
	"strings"
	"testing"
	"time"
)

func TestParseRetention(t *testing.T) {
	now := time.Date(2026, 12, 4, 20, 15, 0, 0, time.UTC)
	for _, tt := range []struct {
		in, want, cutoff, err string
	}{
		{"24mo", "24mo", "2024-12-04", ""},
		{" 2Y ", "2y", "2024-12-04", ""},
		{"104w", "104w", "2024-12-06", ""},
		{"730d", "730d", "2024-12-04", ""},
		{"off", "off", "", ""},
		{"forever", "off", "", ""},
		{"24m", "", "", "months are mo: 24mo"},
		{"0d", "", "", "must be at least 1d"},
		{"-3mo", "", "", "want a number of days"},
		{"1.5y", "", "", "want a number of days"},
		{"", "", "", "want a number of days"},
	} {
		r, err := ParseRetention(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseRetention(%q) = %v, %v; want an error with %q", tt.in, r, err, tt.err)
			}
			continue
		}
		if err != nil || r.String() != tt.want {
			t.Errorf("ParseRetention(%q) = %v, %v; want %s", tt.in, r, err, tt.want)
			continue
		}
		got := ""
		if c := r.Cutoff(now); !c.IsZero() {
			got = c.Format(time.DateOnly)
		}
		if got != tt.cutoff {
			t.Errorf("%s: cutoff %q at %s, want %q", tt.in, got, now, tt.cutoff)
		}
	}
}

func TestPrivacyOf(t *testing.T) {
	for _, tt := range []struct {
		settings  map[string]string
		floor     int
		retention string
		problems  int
	}{
		{nil, DefaultMinCohort, "off", 0},
		{map[string]string{SettingMinCohort: "5", SettingRetention: "24mo"}, 5, "24mo", 0},
		{map[string]string{SettingMinCohort: "1"}, 1, "off", 0},
		// Written with `org connect --setting`: the defaults, each named.
		{map[string]string{SettingMinCohort: "0"}, DefaultMinCohort, "off", 1},
		{map[string]string{SettingMinCohort: "two", SettingRetention: "2 years"}, DefaultMinCohort, "off", 2},
	} {
		p := PrivacyOf(Org{Name: "acme", Settings: tt.settings})
		if p.MinCohort != tt.floor || p.Retention.String() != tt.retention || len(p.Problems) != tt.problems {
			t.Errorf("PrivacyOf(%v) = %+v", tt.settings, p)
		}
	}
	for _, tt := range []struct {
		size  uint64
		floor int
		na    bool
	}{{0, 3, true}, {2, 3, true}, {3, 3, false}, {1, 1, false}, {7, 0, false}} {
		if got := MedianNA(tt.size, tt.floor); (got != "") != tt.na {
			t.Errorf("MedianNA(%d, %d) = %q", tt.size, tt.floor, got)
		}
	}
}

// TestSetPrivacy keeps the org's other settings and refuses bad input.
func TestSetPrivacy(t *testing.T) {
	ts := coverageOrg(t)
	ctx := testCtx(t)
	o, err := ts.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	o.Settings = map[string]string{"rate_limit": "120"}
	if err := ts.SaveOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	five, zero := 5, 0
	r, _ := ParseRetention("2y")
	if _, err := ts.SetPrivacy(ctx, "acme", PrivacyChange{MinCohort: &zero}); err == nil || !strings.Contains(err.Error(), "--min-cohort 0") {
		t.Errorf("min cohort 0: %v", err)
	}
	if _, err := ts.SetPrivacy(ctx, "nope", PrivacyChange{MinCohort: &five}); err == nil || !strings.Contains(err.Error(), "org add --org nope") {
		t.Errorf("missing org: %v", err)
	}
	p, err := ts.SetPrivacy(ctx, "acme", PrivacyChange{MinCohort: &five, Retention: &r})
	if err != nil || p.MinCohort != 5 || p.Retention.String() != "2y" {
		t.Fatalf("SetPrivacy: %+v %v", p, err)
	}
	off := Retention{}
	if _, err := ts.SetPrivacy(ctx, "acme", PrivacyChange{Retention: &off}); err != nil {
		t.Fatal(err)
	}
	o, err = ts.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if o.Settings["rate_limit"] != "120" || o.Settings[SettingMinCohort] != "5" || o.Settings[SettingRetention] != "" {
		t.Errorf("settings after SetPrivacy: %v", o.Settings)
	}
}
