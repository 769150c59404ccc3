package orgs

import (
	"fmt"
	"regexp"
)

// MaxNameLength is the longest org name accepted. An org name becomes part
// of file names (the per-org sync lock, hex-encoded when it holds a '.'),
// Kafka keys and every ClickHouse row, so it stays short.
const MaxNameLength = 64

// NameRule says which org names ValidateName accepts, in the words its
// errors use.
const NameRule = "an org name is 1 to 64 characters: letters, digits, '-', '_' and '.', starting with a letter, a digit or '_'"

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// ValidateName checks an org name given on input (`org add`, `org
// connect`) against NameRule, and names the rule when it fails.
func ValidateName(name string) error {
	if len(name) <= MaxNameLength && nameRe.MatchString(name) {
		return nil
	}
	shown := name
	if len(shown) > 40 {
		shown = shown[:40] + "..."
	}
	return fmt.Errorf("org name %q (%d bytes) is not valid: %s", shown, len(name), NameRule)
}
