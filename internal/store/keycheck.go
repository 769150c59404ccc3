package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/phonesignals/phonesignals/queries"
)

// ErrKeyMismatch says the master key in use is not the one the database was
// set up with.
var ErrKeyMismatch = errors.New("master key does not match")

// KeyMismatchError is returned by VerifyKeyCheck on a mismatch.
type KeyMismatchError struct {
	// Since is when the expected key was first used on this database.
	Since time.Time
	// Reason says how the mismatch showed, for a first use the stored
	// sealed data that failed to open.
	Reason string
}

func (e *KeyMismatchError) Error() string {
	what := "the master key is not the one this database was set up with"
	if !e.Since.IsZero() {
		what += fmt.Sprintf(" (first used %s)", e.Since.UTC().Format(time.RFC3339))
	}
	if e.Reason != "" {
		what += ": " + e.Reason
	}
	return what + "; nothing was read or written. Set PHONESIGNALS_MASTER_KEY (or --master-key-file) to that key and run the command again"
}

// Unwrap makes errors.Is(err, ErrKeyMismatch) true.
func (e *KeyMismatchError) Unwrap() error { return ErrKeyMismatch }

// VerifyKeyCheck compares check (secret.Box.Check of the key in use) with
// the value stored by the first use of a key on this database, storing it
// when there is none. On a first use, probe (when not nil) tries to open
// sealed data stored before key checks existed; its error refuses the key.
// A *KeyMismatchError says the key is wrong.
func (s *Store) VerifyKeyCheck(ctx context.Context, check string, probe func(ctx context.Context) error) error {
	stored, since, ok, err := s.keyCheck(ctx)
	if err != nil {
		return err
	}
	if !ok {
		if probe != nil {
			if err := probe(ctx); err != nil {
				return &KeyMismatchError{Reason: err.Error()}
			}
		}
		if err := s.insert(ctx, queries.InsertKeyChecks, []any{check, time.Now().UTC()}); err != nil {
			return fmt.Errorf("storing the master key check: %w", err)
		}
		// Two first uses at once: the oldest row wins for both.
		if stored, since, ok, err = s.keyCheck(ctx); err != nil {
			return err
		}
	}
	if ok && stored != check {
		return &KeyMismatchError{Since: since}
	}
	return nil
}

func (s *Store) keyCheck(ctx context.Context) (check string, since time.Time, ok bool, err error) {
	var rows []struct {
		Check string    `ch:"key_check"`
		Since time.Time `ch:"created_at"`
	}
	if err := s.conn.Select(ctx, &rows, queries.KeyCheckGet); err != nil {
		return "", time.Time{}, false, fmt.Errorf("reading the master key check: %w", err)
	}
	if len(rows) == 0 {
		return "", time.Time{}, false, nil
	}
	return rows[0].Check, rows[0].Since, true, nil
}
