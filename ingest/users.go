package ingest

import (
	"context"
	"fmt"
)

// ProviderUser is one user of the provider's own user list (an Aircall
// user, a RingCentral User extension): what `employees discover` shows
// and `employees import --match email` maps roster rows to.
type ProviderUser struct {
	// ID is the provider user id calls carry (Aircall user.id, RingCentral
	// extension.id): an employee's provider_user_id.
	ID string
	// Name is the user's name as the provider shows it.
	Name string
	// Email is the user's e-mail address; empty when the provider has none.
	Email string
}

// UserLister is implemented by connectors (Sources) that can list their
// provider's users, every page of them, within the provider's rate limit.
type UserLister interface {
	ListUsers(ctx context.Context) ([]ProviderUser, error)
}

// ListUsersOf adapts a provider's NewSource, whose sources are
// UserListers, to Provider.ListUsers.
func ListUsersOf(newSource func(OrgConfig) (Source, error)) func(context.Context, OrgConfig) ([]ProviderUser, error) {
	return func(ctx context.Context, o OrgConfig) ([]ProviderUser, error) {
		src, err := newSource(o)
		if err != nil {
			return nil, err
		}
		l, ok := src.(UserLister)
		if !ok {
			return nil, fmt.Errorf("the connector of org %s (%T) cannot list its provider's users", o.Org, src)
		}
		return l.ListUsers(ctx)
	}
}

// ListUsers lists the users of org o's provider p, or says that p cannot
// and what to do instead.
func (p Provider) ListUsers(ctx context.Context, o OrgConfig) ([]ProviderUser, error) {
	if p.Users == nil {
		return nil, fmt.Errorf("%s cannot list its users: fill provider_user_id (the %s id) in the roster CSV by hand and import it with `phonesignals employees import --org %s FILE.csv`",
			p.Title, p.UserIDName, o.Org)
	}
	users, err := p.Users(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("listing the %ss of org %s: %w", p.UserIDName, o.Org, err)
	}
	return users, nil
}

// Verifier is implemented by connectors (Sources) that can check their
// credentials with one cheap request, for `org connect`.
type Verifier interface {
	// Verify sends one cheap authenticated request: nil when the provider
	// accepts the credentials, an *AuthError when it refuses them, a
	// *ConnectError when it cannot be reached.
	Verify(ctx context.Context) error
}

// VerifyCredentials checks org o's credentials with p's connector, with
// one cheap request. ok is false when p's connector cannot verify (the
// credentials are then stored unchecked).
func (p Provider) VerifyCredentials(ctx context.Context, o OrgConfig) (ok bool, err error) {
	src, err := p.NewSource(o)
	if err != nil {
		return true, err
	}
	v, can := src.(Verifier)
	if !can {
		return false, nil
	}
	if err := v.Verify(ctx); err != nil {
		return true, fmt.Errorf("verifying the %s credentials of org %s: %w", p.Title, o.Org, err)
	}
	return true, nil
}
