package transform

import (
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAfterHours(t *testing.T) {
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-08-03T07:59:59Z", true},
		{"2026-08-03T08:00:00Z", false},
		{"2026-08-03T12:00:00Z", false},
		{"2026-08-03T17:59:59Z", false},
		{"2026-08-03T18:00:00Z", true},
		{"2026-08-03T23:59:59Z", true},
		{"2026-08-03T00:00:00Z", true},
		// Local offsets are converted: 09:30+02:00 is 07:30 UTC.
		{"2026-08-03T09:30:00+02:00", true},
		{"2026-08-03T19:30:00+02:00", false},
	}
	for _, tt := range tests {
		if got := AfterHours(at(tt.at)); got != tt.want {
			t.Errorf("AfterHours(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestEscalated(t *testing.T) {
	tests := []struct {
		name  string
		prov  string
		notes []string
		tags  []string
		want  bool
	}{
		{"none", model.ProviderAircall, nil, nil, false},
		{"escalated note mixed case", model.ProviderAircall, []string{"ESCALATED to tier 2"}, nil, true},
		{"escalation tag", model.ProviderAircall, nil, []string{"Escalation"}, true},
		{"urgent", model.ProviderAircall, []string{"urgent: outage"}, nil, true},
		{"manager", model.ProviderAircall, []string{"wants the Manager"}, nil, true},
		{"complaint tag", model.ProviderAircall, nil, []string{"Complaint"}, true},
		{"refund", model.ProviderAircall, []string{"asked for a REFUND"}, nil, true},
		{"near miss manage", model.ProviderAircall, []string{"We will manage it"}, []string{"Sales"}, false},
		{"keyword in second note", model.ProviderAircall, []string{"hello", "refunded"}, nil, true},
		{"ringcentral never", model.ProviderRingCentral, []string{"urgent"}, []string{"refund"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &model.Call{Provider: tt.prov, Notes: tt.notes, Tags: tt.tags, EscalationAvailable: tt.prov == model.ProviderAircall}
			if got := Escalated(c); got != tt.want {
				t.Fatalf("Escalated = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResolved(t *testing.T) {
	// Connected and Completed are set by the providers' decoders (their
	// tests pin which provider statuses set them); the rule knows no
	// provider.
	tests := []struct {
		name                 string
		connected, completed bool
		notes                []string
		tags                 []string
		want                 bool
	}{
		{"connected and completed", true, true, nil, nil, true},
		{"completed, never connected", false, true, nil, nil, false},
		{"connected, not completed", true, false, nil, nil, false},
		{"missed with resolved note", false, true, []string{"Issue Resolved"}, nil, true},
		{"fixed", false, false, []string{"password reset, FIXED"}, nil, true},
		{"satisfied", false, false, []string{"customer satisfied"}, nil, true},
		{"keyword only in tag does not resolve", false, true, nil, []string{"resolved"}, false},
		{"nothing", false, false, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &model.Call{Connected: tt.connected, Completed: tt.completed, Notes: tt.notes, Tags: tt.tags}
			if got := Resolved(c); got != tt.want {
				t.Fatalf("Resolved = %v, want %v", got, tt.want)
			}
		})
	}
}

func unix(s int64) time.Time { return time.Unix(s, 0) }
