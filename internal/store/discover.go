package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/queries"
)

// ProviderUser is a user of the provider's own user list (an Aircall user,
// a RingCentral User extension), as `employees discover` and `employees
// import --match email` see it. The connectors list them (ingest); the
// store only joins them with the roster and the calls.
type ProviderUser struct {
	ID    string
	Name  string
	Email string
}

// DiscoveredUser is one provider user with its current calls in a range
// and the active employee mapped to it, if any.
type DiscoveredUser struct {
	ProviderUser
	Calls uint64
	// Employee is the employee whose provider_user_id is ID; nil when none.
	Employee *Employee
}

// Discovery is the provider's user list joined with the roster and the
// calls of [From, To).
type Discovery struct {
	Org, Provider string
	From, To      time.Time
	Users         []DiscoveredUser
	// NotListed are employees mapped to a provider user id the provider
	// does not list (a typo, or a user deleted since).
	NotListed []Employee
}

// ProviderUserCalls counts the current calls of org from provider per
// provider user id, started in [from, to); users without calls are absent.
func (s *Store) ProviderUserCalls(ctx context.Context, org, provider string, from, to time.Time) (map[string]uint64, error) {
	var rows []UserCalls
	if err := s.conn.Select(ctx, &rows, queries.ProviderUserCalls, clickhouse.Named("org", org), clickhouse.Named("provider", provider),
		clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC())); err != nil {
		return nil, fmt.Errorf("counting the calls of org %s per %s user: %w", org, provider, err)
	}
	out := map[string]uint64{}
	for _, r := range rows {
		out[r.UserID] = r.Calls
	}
	return out, nil
}

// Discover joins users, the provider's list in its order, with org's
// roster and their current calls started in [from, to).
func (s *Store) Discover(ctx context.Context, org, provider string, users []ProviderUser, from, to time.Time) (Discovery, error) {
	d := Discovery{Org: org, Provider: provider, From: from.UTC(), To: to.UTC()}
	calls, err := s.ProviderUserCalls(ctx, org, provider, from, to)
	if err != nil {
		return d, err
	}
	roster, err := s.Employees(ctx, org)
	if err != nil {
		return d, err
	}
	d.Users, d.NotListed = joinRoster(users, roster, calls)
	return d, nil
}

// joinRoster pairs each provider user with its calls and the employee
// mapped to it, and returns the employees mapped to users not in the list.
func joinRoster(users []ProviderUser, roster []Employee, calls map[string]uint64) ([]DiscoveredUser, []Employee) {
	byUser := map[string]Employee{}
	for _, e := range roster {
		if e.ProviderUserID != "" {
			byUser[e.ProviderUserID] = e
		}
	}
	listed := map[string]bool{}
	out := make([]DiscoveredUser, 0, len(users))
	for _, u := range users {
		listed[u.ID] = true
		du := DiscoveredUser{ProviderUser: u, Calls: calls[u.ID]}
		if e, ok := byUser[u.ID]; ok {
			du.Employee = &e
		}
		out = append(out, du)
	}
	var notListed []Employee
	for _, e := range roster {
		if e.ProviderUserID != "" && !listed[e.ProviderUserID] {
			notListed = append(notListed, e)
		}
	}
	return out, notListed
}
