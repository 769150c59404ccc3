// Package serve is `phonesignals serve`: one long-running service that
// keeps every connected org current. Its sync role follows each org the
// replica owns in a goroutine of its own (a backfill through a fair pool,
// then polling rounds that re-read recent calls), with the org's own
// connector and rate limiter, per-request and per-round timeouts and
// exponential back-off, so one org's failure never delays another. The
// orgs are shared between replicas by Kafka's consumer group protocol
// (owner.go). Its other roles reuse the existing stages: the Aircall
// webhook receiver, the transcript worker and the transform.
package serve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// Roles of a serve process (`--roles`).
const (
	RoleSync        = "sync"
	RoleWebhooks    = "webhooks"
	RoleTranscripts = "transcripts"
	RoleTransform   = "transform"
)

// AllRoles is the default: everything in one process.
var AllRoles = []string{RoleSync, RoleWebhooks, RoleTranscripts, RoleTransform}

// Defaults of Config.
const (
	// DefaultEvery is the poll interval of a followed org.
	DefaultEvery = time.Minute
	// DefaultReread is how far back a deep round re-reads: Aircall calls
	// are ended, tagged, commented and reassigned for hours after they
	// start, and Aircall retries a failed webhook for up to about 12
	// hours before it disables the webhook; 24 h covers that horizon
	// twice, so an edit whose webhook Aircall gave up on is still polled.
	// It is also RingCentral's own default look-back (dateFrom = dateTo -
	// 24 h).
	DefaultReread = 24 * time.Hour
	// DefaultRereadEvery is how often a followed org gets a deep round.
	DefaultRereadEvery = 15 * time.Minute
	// DefaultRefreshEvery is how often the org list is read again: an org
	// added or connected is followed, and one removed or disconnected
	// stopped, within this plus one round.
	DefaultRefreshEvery = 30 * time.Second
	// DefaultRequestTimeout bounds one provider request.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultRoundTimeout bounds one round or backfill chunk.
	DefaultRoundTimeout = 10 * time.Minute
	// DefaultMaxBackoff caps the back-off of a failing org.
	DefaultMaxBackoff = 10 * time.Minute
	// DefaultSessionTimeout is the consumer group session: a replica that
	// stops heartbeating loses its orgs to the others after it.
	DefaultSessionTimeout = 10 * time.Second
	// DefaultGrace is how long in-flight rounds get to finish on SIGTERM
	// before they are cancelled; the whole stop stays under 30 s.
	DefaultGrace = 10 * time.Second
	// DefaultStatusEvery is how often a followed org's status is written
	// to sync_runs when nothing changed.
	DefaultStatusEvery = time.Minute
)

// Config is a serve process. Zero fields take the defaults noted.
type Config struct {
	// Store reads the orgs and records their status. Required.
	Store *store.Store
	// Registry builds the orgs' connectors, webhook receivers and
	// transcript workers. Required with RoleSync, RoleWebhooks and
	// RoleTranscripts.
	Registry *ingest.Registry
	// Box opens the stored credentials and seals published bodies.
	// Required.
	Box *secret.Box
	// Bus is where calls are published and the org ownership group runs.
	// Required.
	Bus bus.Config
	// Roles are what this process does. Default AllRoles.
	Roles []string
	// Replica names this replica in logs, status and User-Agent. Default
	// HOSTNAME-PID.
	Replica string
	// Listen is the webhook receiver's address. Default 127.0.0.1:8088.
	Listen string
	// WebhookCache is the webhook receiver's token cache file ("": none).
	WebhookCache string
	// Transform runs the transform until ctx ends. Required with
	// RoleTransform.
	Transform func(ctx context.Context) error
	// Ownership decides which orgs this replica follows. Default: the
	// Kafka consumer group GroupServe over TopicOrgs.
	Ownership Ownership
	// Every, Reread, RereadEvery, RefreshEvery, RequestTimeout,
	// RoundTimeout, MaxBackoff, SessionTimeout, Grace and StatusEvery
	// default to the Default* constants.
	Every, Reread, RereadEvery, RefreshEvery time.Duration
	RequestTimeout, RoundTimeout, MaxBackoff time.Duration
	SessionTimeout, Grace, StatusEvery       time.Duration
	// BackfillDays is how far back a newly followed org is backfilled
	// (resumable, checkpointed by day). Default 30; negative: none.
	BackfillDays int
	// Backfills is how many backfill chunks run at once across orgs.
	// Default 4.
	Backfills int
	// Transport sends the provider requests. Default ingest.Transport
	// (connects bounded by ingest.DialTimeout).
	Transport http.RoundTripper
	// Now is the clock of the sync windows. Default time.Now.
	Now func() time.Time
	// Logger receives the logs. Default slog.Default().
	Logger *slog.Logger
}

// has says whether role r is on.
func (c Config) has(r string) bool { return slices.Contains(c.Roles, r) }

// Validate reports every problem, each named.
func (c Config) Validate() error {
	var errs []error
	for _, r := range c.Roles {
		if !slices.Contains(AllRoles, r) {
			errs = append(errs, fmt.Errorf("serve: role %q: want some of %s", r, strings.Join(AllRoles, ",")))
		}
	}
	if c.Store == nil {
		errs = append(errs, errors.New("serve: Store is nil"))
	}
	if c.Box == nil {
		errs = append(errs, errors.New("serve: Box is nil (the master key)"))
	}
	for _, r := range []string{RoleSync, RoleWebhooks, RoleTranscripts} {
		if c.has(r) && c.Registry == nil {
			errs = append(errs, fmt.Errorf("serve: Registry is nil (needed by the %s role)", r))
		}
	}
	if c.has(RoleTransform) && c.Transform == nil {
		errs = append(errs, errors.New("serve: Transform is nil (needed by the transform role)"))
	}
	for name, d := range map[string]time.Duration{"Every": c.Every, "Reread": c.Reread, "RereadEvery": c.RereadEvery, "RefreshEvery": c.RefreshEvery,
		"RequestTimeout": c.RequestTimeout, "RoundTimeout": c.RoundTimeout, "MaxBackoff": c.MaxBackoff, "SessionTimeout": c.SessionTimeout,
		"Grace": c.Grace, "StatusEvery": c.StatusEvery} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("serve: %s %s is negative", name, d))
		}
	}
	if err := c.Bus.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if len(c.Roles) == 0 {
		c.Roles = AllRoles
	}
	if c.Replica == "" {
		host, _ := os.Hostname()
		c.Replica = fmt.Sprintf("%s-%d", cmp.Or(host, "replica"), os.Getpid())
	}
	c.Listen = cmp.Or(c.Listen, "127.0.0.1:8088")
	c.Every = cmp.Or(c.Every, DefaultEvery)
	c.Reread = cmp.Or(c.Reread, DefaultReread)
	c.RereadEvery = cmp.Or(c.RereadEvery, DefaultRereadEvery)
	c.RefreshEvery = cmp.Or(c.RefreshEvery, DefaultRefreshEvery)
	c.RequestTimeout = cmp.Or(c.RequestTimeout, DefaultRequestTimeout)
	c.RoundTimeout = cmp.Or(c.RoundTimeout, DefaultRoundTimeout)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, DefaultMaxBackoff)
	c.SessionTimeout = cmp.Or(c.SessionTimeout, DefaultSessionTimeout)
	c.Grace = cmp.Or(c.Grace, DefaultGrace)
	c.StatusEvery = cmp.Or(c.StatusEvery, DefaultStatusEvery)
	c.BackfillDays = cmp.Or(c.BackfillDays, 30)
	c.Backfills = cmp.Or(c.Backfills, 4)
	c.Transport = cmp.Or[http.RoundTripper](c.Transport, ingest.Transport)
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Logger = cmp.Or(c.Logger, slog.Default())
	return c
}
