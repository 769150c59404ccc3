package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvKey is the environment variable holding the master key.
const EnvKey = "PHONESIGNALS_MASTER_KEY"

// formatV1 prefixes every sealed value so the format can change later
// without guessing.
const formatV1 byte = 1

// ErrNoKey says no master key was configured.
var ErrNoKey = errors.New("no master key: set " + EnvKey + " to 32 random bytes in base64 or hex (for example `openssl rand -base64 32`), or pass --master-key-file")

// ErrWrongKey says a sealed value did not open: it was sealed under another
// master key, or altered. Callers must stop rather than discard the value.
var ErrWrongKey = errors.New("sealed value does not open with this master key (wrong PHONESIGNALS_MASTER_KEY, or tampered data)")

// checkLabel is what the key check value authenticates; changing it
// invalidates every stored check.
const checkLabel = "phonesignals master key check v1"

// Box seals and opens values with one master key.
type Box struct {
	aead  cipher.AEAD
	check string
}

// ParseKey decodes a 32-byte key given in base64 (standard or URL) or hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrNoKey
	}
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if k, err := dec(s); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, fmt.Errorf("master key is not 32 bytes in base64 or hex (got %d characters): generate one with `openssl rand -base64 32`", len(s))
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("master key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating GCM: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(checkLabel))
	return &Box{aead: aead, check: hex.EncodeToString(mac.Sum(nil)[:16])}, nil
}

// Check is the key check value: an HMAC-SHA256 of a constant under the
// key, truncated to 128 bits. Storing it tells a later process whether it
// holds the same key without storing anything that helps recover the key.
func (b *Box) Check() string { return b.check }

// FromEnv returns a Box for the key in $PHONESIGNALS_MASTER_KEY, or else in
// keyFile when it is not empty.
func FromEnv(keyFile string) (*Box, error) {
	if v := os.Getenv(EnvKey); v != "" {
		k, err := ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", EnvKey, err)
		}
		return New(k)
	}
	if keyFile == "" {
		return nil, ErrNoKey
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("reading master key file %s: %w", keyFile, err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("reading master key file %s: %w", keyFile, err)
	}
	return New(k)
}

// KeyFile is the master key file to read when EnvKey is unset: flagFile
// (--master-key-file) when given, else dataDir/master.key when it exists,
// else "" (FromEnv then fails with ErrNoKey).
func KeyFile(flagFile, dataDir string) string {
	if flagFile != "" {
		return flagFile
	}
	def := filepath.Join(dataDir, "master.key")
	if _, err := os.Stat(def); err == nil {
		return def
	}
	return ""
}

// EnsureKeyFile creates keyFile with a fresh random key (mode 0600) when it
// does not exist. The demo uses it so that it runs with no setup.
func EnsureKeyFile(keyFile string) error {
	if _, err := os.Stat(keyFile); err == nil {
		return nil
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return fmt.Errorf("generating master key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(keyFile), err)
	}
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing master key file %s: %w", keyFile, err)
	}
	return nil
}

// Seal encrypts plain, binding it to aad (for example org and call id) so a
// sealed value cannot be moved to another record unnoticed.
func (b *Box) Seal(plain, aad []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the OS RNG failing leaves nothing safe to do
	}
	out := make([]byte, 0, 1+len(nonce)+len(plain)+b.aead.Overhead())
	out = append(out, formatV1)
	out = append(out, nonce...)
	return b.aead.Seal(out, nonce, plain, aad)
}

// Open decrypts a value made by Seal with the same aad.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) { return b.OpenTo(nil, sealed, aad) }

// OpenTo is Open appending the plain text to dst[:0], so a hot loop can
// reuse one buffer instead of allocating one per value.
func (b *Box) OpenTo(dst, sealed, aad []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() || sealed[0] != formatV1 {
		return nil, errors.New("sealed value is truncated or not in format v1")
	}
	if dst != nil {
		dst = dst[:0]
	}
	plain, err := b.aead.Open(dst, sealed[1:1+ns], sealed[1+ns:], aad)
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}

// SealString seals s and returns base64, for String columns.
func (b *Box) SealString(s, aad string) string {
	return base64.StdEncoding.EncodeToString(b.Seal([]byte(s), []byte(aad)))
}

// OpenString opens a value made by SealString.
func (b *Box) OpenString(s, aad string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("sealed value is not base64: %w", err)
	}
	p, err := b.Open(raw, []byte(aad))
	return string(p), err
}
