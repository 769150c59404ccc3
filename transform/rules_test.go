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
	ans := at("2026-08-03T10:00:05Z")
	tests := []struct {
		name     string
		prov     string
		status   string
		answered *time.Time
		notes    []string
		tags     []string
		want     bool
	}{
		{"aircall done answered", model.ProviderAircall, "done", &ans, nil, nil, true},
		{"aircall done not answered", model.ProviderAircall, "done", nil, nil, nil, false},
		{"aircall answered not done", model.ProviderAircall, "answered", &ans, nil, nil, false},
		{"aircall missed with resolved note", model.ProviderAircall, "done", nil, []string{"Issue Resolved"}, nil, true},
		{"fixed", model.ProviderAircall, "done", nil, []string{"password reset, FIXED"}, nil, true},
		{"satisfied", model.ProviderAircall, "initial", nil, []string{"customer satisfied"}, nil, true},
		{"keyword only in tag does not resolve", model.ProviderAircall, "done", nil, nil, []string{"resolved"}, false},
		{"rc connected", model.ProviderRingCentral, "Call connected", nil, nil, nil, true},
		{"rc accepted", model.ProviderRingCentral, "Accepted", nil, nil, nil, true},
		{"rc missed", model.ProviderRingCentral, "Missed", nil, nil, nil, false},
		{"rc voicemail", model.ProviderRingCentral, "Voicemail", nil, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &model.Call{Provider: tt.prov, ProviderStatus: tt.status, AnsweredAt: tt.answered, Notes: tt.notes, Tags: tt.tags}
			if got := Resolved(c); got != tt.want {
				t.Fatalf("Resolved = %v, want %v", got, tt.want)
			}
		})
	}
}
