package store

import (
	"context"
	"fmt"

	"github.com/phonesignals/phonesignals/queries"
)

// RequireMigrated fails unless every migration this binary knows is
// applied, naming `phonesignals migrate`: commands that only read check
// it instead of migrating, so they never change a store.
func (s *Store) RequireMigrated(ctx context.Context) error {
	migs, err := queries.Migrations()
	if err != nil {
		return err
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("database %s has no phonesignals schema (%w): run `phonesignals migrate` first", s.cfg.Database, err)
	}
	if want := migs[len(migs)-1].Version; v < want {
		return fmt.Errorf("database %s is at migration %03d and this phonesignals needs %03d: run `phonesignals migrate` (stop run and serve meanwhile)",
			s.cfg.Database, v, want)
	}
	return nil
}
