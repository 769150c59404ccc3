package ringcentral

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/phonesignals/phonesignals/ingest"
)

// Name is RingCentral's provider id: in orgs.provider, the Kafka headers
// and the CLI. It is written here only: the rest of phonesignals reaches
// RingCentral through the registry, never by name.
const Name = "ringcentral"

// Title is the provider's name for people, in messages.
const Title = "RingCentral"

// Provider is RingCentral as the rest of phonesignals sees it (registered
// in ingest/providers).
var Provider = ingest.Provider{
	Name:       Name,
	Title:      Title,
	UserIDName: "RingCentral extension",
	Credentials: []ingest.CredentialField{
		{Key: "client_id", Flag: "client-id", Usage: "RingCentral app client id"},
		{Key: "client_secret", Flag: "client-secret-file", File: true, Usage: "file holding the RingCentral client secret"},
		{Key: "jwt", Flag: "jwt-file", File: true, Usage: "file holding the RingCentral JWT credential"},
	},
	CredentialsHint: "(from the RingCentral Developer Console)",
	AccountID:       true,
	NoEscalation:    "its call log has no notes or tags",
	Settings:        Settings,
	NewSource:       NewSource,
	Decode:          Decode,
	Diagnose:        Diagnose,
	Users:           ingest.ListUsersOf(NewSource),
}

// Settings are the org settings NewSource reads (`org connect --setting`);
// `org connect` refuses any other key.
var Settings = ingest.SettingSpec{
	{Name: "mode", Default: ModeExtension, Doc: ModeExtension + " reads each extension's call log, " + ModeAccount + " the company's",
		Validate: func(v string) error {
			if v == "" || v == ModeExtension || v == ModeAccount {
				return nil
			}
			return fmt.Errorf("%q is not one of %s, %s", v, ModeExtension, ModeAccount)
		}},
	{Name: "per_page", Kind: ingest.SettingInt, Default: strconv.Itoa(MaxPerPage), Doc: "page size of the call log"},
	{Name: "heavy_limit", Kind: ingest.SettingInt, Default: "10", Doc: "requests of the Heavy rate-limit group per heavy_window"},
	{Name: "heavy_window", Kind: ingest.SettingDuration, Default: "60s", Doc: "the Heavy group's window"},
	{Name: "medium_limit", Kind: ingest.SettingInt, Default: "40", Doc: "requests of the Medium group (the extension list) per medium_window"},
	{Name: "medium_window", Kind: ingest.SettingDuration, Default: "60s", Doc: "the Medium group's window"},
	{Name: "auth_limit", Kind: ingest.SettingInt, Default: "5", Doc: "token requests per auth_window"},
	{Name: "auth_window", Kind: ingest.SettingDuration, Default: "60s", Doc: "the Auth group's window"},
	{Name: "window", Kind: ingest.SettingDuration, Default: "168h", Doc: "length of a backfill's base windows"},
}

// NewSource builds the RingCentral connector of one org from its stored
// connection; settings: mode, per_page, heavy_limit, heavy_window,
// medium_limit, medium_window (the extension list), auth_limit,
// auth_window, window.
func NewSource(o ingest.OrgConfig) (ingest.Source, error) {
	s := cmp.Or(o.Settings, ingest.NewSettings(nil))
	cfg := Config{
		BaseURL:      o.BaseURL,
		ClientID:     o.Credentials["client_id"],
		ClientSecret: o.Credentials["client_secret"],
		JWT:          o.Credentials["jwt"],
		AccountID:    o.AccountID,
		Mode:         s.String("mode"),
		PerPage:      s.Int("per_page"),
		HeavyLimit:   s.Int("heavy_limit"),
		HeavyWindow:  s.Duration("heavy_window"),
		MediumLimit:  s.Int("medium_limit"),
		MediumWindow: s.Duration("medium_window"),
		AuthLimit:    s.Int("auth_limit"),
		AuthWindow:   s.Duration("auth_window"),
		WindowSize:   s.Duration("window"),
		HTTPClient:   o.HTTPClient,
		Logger:       cmp.Or(o.Logger, slog.Default()),
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("settings of org %s: %w", o.Org, err)
	}
	c, err := New(o.Org, cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring ringcentral for org %s: %w", o.Org, err)
	}
	return c, nil
}

// Diagnose explains the account-not-found error for doctor.
func Diagnose(err error, o ingest.OrgConfig) (problem, fix string, ok bool) {
	if !errors.Is(err, ErrAccountNotFound) {
		return "", "", false
	}
	return fmt.Sprintf("RingCentral does not know account %q", cmp.Or(o.AccountID, "~")),
		fmt.Sprintf("set the org's account id with `phonesignals org connect --org %s --account-id ID`, or ~ for the JWT user's own account", o.Org), true
}
