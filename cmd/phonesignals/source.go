package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/ringcentral"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// providerSource is the connector of one org plus the provider-specific
// extras the CLI uses.
type providerSource struct {
	ingest.Source
	aircall *aircall.Client
}

// newSource builds the org's connector from its sealed credentials and
// settings (see `org connect --setting`).
func newSource(box *secret.Box, o store.Org, httpClient *http.Client) (*providerSource, error) {
	cr, err := openCredentials(box, o)
	if err != nil {
		return nil, err
	}
	s := settings{}
	for k, v := range o.Settings {
		s[k] = v
	}
	switch o.Provider {
	case model.ProviderAircall:
		cfg := aircall.Config{
			BaseURL:            o.APIURL,
			APIID:              cr.APIID,
			APIToken:           cr.APIToken,
			PerPage:            s.int("per_page"),
			RateLimitPerMinute: s.int("rate_limit"),
			Mode:               s.str("mode"),
			WindowSize:         s.dur("window"),
			HTTPClient:         httpClient,
			Logger:             slog.Default(),
		}
		if err := s.err(); err != nil {
			return nil, fmt.Errorf("settings of org %s: %w", o.Name, err)
		}
		c, err := aircall.New(o.Name, cfg)
		if err != nil {
			return nil, fmt.Errorf("configuring aircall for org %s: %w", o.Name, err)
		}
		return &providerSource{Source: c, aircall: c}, nil
	case model.ProviderRingCentral:
		cfg := ringcentral.Config{
			BaseURL:      o.APIURL,
			ClientID:     cr.ClientID,
			ClientSecret: cr.ClientSecret,
			JWT:          cr.JWT,
			AccountID:    o.AccountID,
			Mode:         s.str("mode"),
			PerPage:      s.int("per_page"),
			HeavyLimit:   s.int("heavy_limit"),
			HeavyWindow:  s.dur("heavy_window"),
			AuthLimit:    s.int("auth_limit"),
			AuthWindow:   s.dur("auth_window"),
			WindowSize:   s.dur("window"),
			HTTPClient:   httpClient,
			Logger:       slog.Default(),
		}
		if err := s.err(); err != nil {
			return nil, fmt.Errorf("settings of org %s: %w", o.Name, err)
		}
		c, err := ringcentral.New(o.Name, cfg)
		if err != nil {
			return nil, fmt.Errorf("configuring ringcentral for org %s: %w", o.Name, err)
		}
		return &providerSource{Source: c}, nil
	}
	return nil, fmt.Errorf("org %s has unknown provider %q", o.Name, o.Provider)
}

// settings reads typed values from an org's settings map, collecting
// errors that name the key.
type settings map[string]string

func (s settings) str(k string) string { return s[k] }

func (s settings) int(k string) int {
	v, ok := s[k]
	if !ok || v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		s["__err"] += fmt.Sprintf("setting %s=%q is not a whole number; ", k, v)
	}
	return n
}

func (s settings) dur(k string) time.Duration {
	v, ok := s[k]
	if !ok || v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		s["__err"] += fmt.Sprintf("setting %s=%q is not a duration like 24h or 30s; ", k, v)
	}
	return d
}

func (s settings) err() error {
	if e := s["__err"]; e != "" {
		delete(s, "__err")
		return fmt.Errorf("%s(fix with `phonesignals org connect --setting KEY=VALUE`)", e)
	}
	return nil
}
