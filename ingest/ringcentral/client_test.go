package ringcentral

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := Config{ClientID: "id", ClientSecret: "secret", JWT: "jwt"}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // field names the error must mention; none: valid
	}{
		{"minimal", func(*Config) {}, nil},
		{"everything set", func(c *Config) {
			c.BaseURL, c.AccountID, c.Mode, c.PerPage = "https://platform.devtest.ringcentral.com/", "400123456", ModeAccount, 250
		}, nil},
		{"empty", func(c *Config) { *c = Config{} }, []string{"ClientID", "ClientSecret", "JWT"}},
		{"bad values", func(c *Config) {
			c.BaseURL, c.Mode, c.PerPage, c.SyncRecordCount = "platform.ringcentral.com", "company", 1000, 251
			c.HeavyLimit, c.AuthWindow, c.WindowSize, c.AccountID = -1, -time.Second, -time.Hour, "12/34"
		}, []string{"BaseURL", "Mode", "PerPage", "SyncRecordCount", "HeavyLimit", "AuthWindow", "WindowSize", "AccountID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mutate(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := New("acme", cfg); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an invalid config")
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tt.want) {
				t.Errorf("%d errors, want %d:\n%v", n, len(tt.want), err)
			}
			for _, f := range tt.want {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error does not name %s:\n%v", f, err)
				}
			}
			if _, err := New("acme", cfg); err == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestConfigDefaultsAndSecrets(t *testing.T) {
	c, err := New("acme", Config{ClientID: "id", ClientSecret: "s3cret", JWT: "eyJ.jwt", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	got := c.cfg
	if got.BaseURL != DefaultBaseURL || got.AccountID != "~" || got.Mode != ModeExtension || got.PerPage != 250 ||
		got.HeavyLimit != 10 || got.HeavyWindow != time.Minute || got.AuthLimit != 5 || got.AuthWindow != time.Minute ||
		got.DefaultRetryAfter != 30*time.Second || got.WindowSize != 7*24*time.Hour || got.SyncRecordCount != 250 {
		t.Errorf("defaults: %+v", got)
	}
	if v := got.LogValue().String(); strings.Contains(v, "s3cret") || strings.Contains(v, "eyJ") {
		t.Errorf("LogValue leaks a secret: %s", v)
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name string
		run  func(b *bucket) time.Duration // returns the wait asked at the end
		want time.Duration
	}{
		{"under the limit", func(b *bucket) time.Duration {
			b.record(at(0))
			b.record(at(10))
			return b.wait(at(20))
		}, 0},
		{"full: wait for the oldest to leave the window", func(b *bucket) time.Duration {
			for i := range 3 {
				b.record(at(i * 100))
			}
			return b.wait(at(300))
		}, 700 * time.Millisecond},
		{"sliding: old requests expire", func(b *bucket) time.Duration {
			for i := range 3 {
				b.record(at(i * 100))
			}
			return b.wait(at(1050))
		}, 0},
		{"headers lower the limit and stretch the window", func(b *bucket) time.Duration {
			b.record(at(0))
			b.observe(hdr("X-Rate-Limit-Limit", "1", "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Window", "2"), at(0))
			return b.wait(at(500))
		}, 1500 * time.Millisecond},
		{"requests we did not send count too", func(b *bucket) time.Duration {
			b.record(at(0))
			// The server saw 3 of 3: someone else sent two.
			b.observe(hdr("X-Rate-Limit-Limit", "3", "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Window", "1"), at(0))
			return b.wait(at(100))
		}, 900 * time.Millisecond},
		{"a 429 without headers teaches the limit", func(b *bucket) time.Duration {
			b.record(at(0))
			b.record(at(1))
			b.record(at(2)) // this one got the 429
			b.learn(at(2))
			if b.limit() != 2 {
				return -1
			}
			b.sent = nil
			b.record(at(2000))
			b.record(at(2001))
			return b.wait(at(2002))
		}, 998 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBucket("Heavy", 3, time.Second)
			if got := tt.run(b); got != tt.want {
				t.Errorf("wait = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"30", 30 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{now.Add(time.Minute).Format(http.TimeFormat), time.Minute, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.v != "" {
			h.Set("Retry-After", tt.v)
		}
		got, ok := retryAfter(h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseAPIError(t *testing.T) {
	tests := []struct {
		body            string
		code, msg, para string
	}{
		{`{"errorCode":"CMN-102","message":"Resource for parameter [accountId] is not found","errors":[{"errorCode":"CMN-102","message":"x","parameterName":"accountId"}]}`,
			"CMN-102", "Resource for parameter [accountId] is not found", "accountId"},
		{`{"error":"invalid_grant","error_description":"Invalid token","errors":[{"errorCode":"OAU-213","message":"Token is invalid"}]}`,
			"invalid_grant", "Invalid token", ""},
		{`<html>Bad gateway</html>`, "", "<html>Bad gateway</html>", ""},
	}
	for _, tt := range tests {
		e := parseAPIError(400, []byte(tt.body))
		if e.Code != tt.code || e.Message != tt.msg || e.Parameter != tt.para {
			t.Errorf("parseAPIError(%s) = %+v", tt.body, e)
		}
	}
	var target *APIError
	if !errors.As(error(parseAPIError(418, nil)), &target) {
		t.Error("APIError is not an error")
	}
}
