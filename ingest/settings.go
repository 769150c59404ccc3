package ingest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SettingKind is the type of a provider setting's value.
type SettingKind int

// The kinds of setting values; each parses as Settings reads it.
const (
	// SettingString is any text (Settings.String).
	SettingString SettingKind = iota
	// SettingInt is a whole number (Settings.Int).
	SettingInt
	// SettingDuration is a Go duration such as 24h or 30s
	// (Settings.Duration).
	SettingDuration
)

// SettingField is one setting a provider reads from an org's settings
// (`org connect --setting NAME=VALUE`), declared so that a key the
// provider does not read, or a value of the wrong type, is refused when
// it is set instead of being stored and ignored.
type SettingField struct {
	// Name is the key ("rate_limit"). Required.
	Name string
	// Kind is the value's type. Default SettingString.
	Kind SettingKind
	// Doc says what the setting does, for error messages and help.
	Doc string
	// Default is the value used when the setting is unset, as text ("60");
	// documentation only: the connector applies it.
	Default string
	// Validate checks a value beyond its kind (a closed set of modes, a
	// range); nil accepts every value of the kind.
	Validate func(v string) error
}

// parse checks v against the field's kind and Validate.
func (f SettingField) parse(v string) error {
	switch f.Kind {
	case SettingInt:
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
	case SettingDuration:
		if _, err := time.ParseDuration(v); err != nil {
			return fmt.Errorf("%q is not a duration like 24h or 30s", v)
		}
	}
	if f.Validate != nil {
		return f.Validate(v)
	}
	return nil
}

// SettingSpec is every setting one provider reads.
type SettingSpec []SettingField

// Names returns the setting names, sorted.
func (s SettingSpec) Names() []string {
	out := make([]string, len(s))
	for i, f := range s {
		out[i] = f.Name
	}
	sort.Strings(out)
	return out
}

// Check refuses setting k=v of provider when the provider does not read k
// (naming the provider and the keys it reads) or v does not parse.
func (s SettingSpec) Check(provider, k, v string) error {
	for _, f := range s {
		if f.Name != k {
			continue
		}
		if err := f.parse(v); err != nil {
			return fmt.Errorf("--setting %s=%s: %v (%s: %s)", k, v, err, k, f.describe())
		}
		return nil
	}
	valid := "none"
	if len(s) > 0 {
		valid = strings.Join(s.Names(), ", ")
	}
	return fmt.Errorf("--setting %s: provider %s has no setting %q; its settings: %s", k, provider, k, valid)
}

// describe is the field's doc and default, for messages.
func (f SettingField) describe() string {
	d := f.Doc
	if f.Default != "" {
		d += ", default " + f.Default
	}
	return d
}
