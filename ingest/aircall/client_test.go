package aircall

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{APIID: "id", APIToken: "tok"}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"minimal", ok, nil},
		{"missing credentials", Config{}, []string{"APIID is empty", "APIToken is empty", "org connect"}},
		{"out of range", Config{APIID: "id", APIToken: "tok", PerPage: 100, RateLimitPerMinute: -1, MaxResults: -5, Mode: "team", WindowSize: 1500 * time.Millisecond, Overlap: -time.Hour, BaseURL: "api.aircall.io"},
			[]string{"PerPage 100", "RateLimitPerMinute -1", "MaxResults -5", `Mode "team"`, "WindowSize 1.5s", "Overlap -1h0m0s", "BaseURL"}},
		{"per-user", Config{APIID: "id", APIToken: "tok", Mode: ModePerUser, PerPage: 50, RateLimitPerMinute: 120}, nil},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err != nil) != (len(tt.want) > 0) {
			t.Errorf("%s: Validate() = %v", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", tt.name, err, w)
			}
		}
	}
	if _, err := New("", ok); err == nil || !strings.Contains(err.Error(), "org is empty") {
		t.Errorf("New with empty org: %v", err)
	}
	c, err := New("acme", ok)
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.BaseURL != DefaultBaseURL || c.cfg.PerPage != 50 || c.cfg.RateLimitPerMinute != 60 || c.cfg.Mode != ModeOrg ||
		c.cfg.MaxResults != 10000 || c.cfg.Overlap != 24*time.Hour || c.cfg.TranscriptRetryDelay != 30*time.Second || c.cfg.TranscriptMaxAttempts != 10 {
		t.Errorf("defaults not applied: %+v", c.cfg)
	}
}
