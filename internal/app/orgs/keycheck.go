package orgs

import (
	"context"
	"fmt"

	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// VerifyKey checks box against the key check value stored by the key's
// first use on the database, storing it now if there is none; a wrong key
// fails with store.ErrKeyMismatch before anything is opened or sealed.
func VerifyKey(ctx context.Context, st *store.Store, box *secret.Box) error {
	return st.VerifyKeyCheck(ctx, box.Check(), func(ctx context.Context) error { return probeSealed(ctx, st, box) })
}

// probeSealed opens the stored credentials of the first org that has some:
// on a database set up before key checks existed, the first key checked
// must be the one they were sealed with.
func probeSealed(ctx context.Context, st *store.Store, box *secret.Box) error {
	names, err := st.ListOrgs(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		o, err := st.GetOrg(ctx, n)
		if err != nil || o.Credentials == "" {
			continue
		}
		if _, err := OpenCredentials(box, o); err != nil {
			return fmt.Errorf("the stored credentials of org %s do not open with it", n)
		}
		return nil
	}
	return nil
}
