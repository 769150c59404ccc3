package orgs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// cacheFile is WebhookDirectory.CacheFile's content. Tokens stay sealed as
// ClickHouse stores them: the file is no easier to use than the table.
type cacheFile struct {
	SavedAt time.Time   `json:"saved_at"`
	Orgs    []cachedOrg `json:"orgs"`
}

// cachedOrg is one org of the saved list.
type cachedOrg struct {
	Org string `json:"org"`
	// WebhookToken is the sealed token (store.Org.WebhookToken).
	WebhookToken string `json:"webhook_token_sealed"`
	Transcripts  bool   `json:"transcripts"`
}

// orgsHash identifies a list's content, so an unchanged list is not
// written again every TTL.
func orgsHash(orgs []cachedOrg) (string, error) {
	b, err := json.Marshal(orgs)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// saveCache writes cf to path (mode 0600, atomically) unless its list
// hashes to prev; it returns the list's hash.
func saveCache(path, prev string, cf cacheFile) (string, error) {
	h, err := orgsHash(cf.Orgs)
	if err != nil || h == prev {
		return h, err
	}
	b, err := json.MarshalIndent(cf, "", "  ")
	if err != nil {
		return prev, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return prev, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return prev, err
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; say so for any umask.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return prev, err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return prev, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return prev, err
	}
	if err := tmp.Close(); err != nil {
		return prev, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return prev, err
	}
	return h, nil
}

// loadCache reads path; nil without error when it does not exist.
func loadCache(path string) (*cacheFile, string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var cf cacheFile
	if err := json.Unmarshal(b, &cf); err != nil {
		return nil, "", fmt.Errorf("decoding %s: %w", path, err)
	}
	h, err := orgsHash(cf.Orgs)
	return &cf, h, err
}
