package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/model"
)

// orgTransport is the HTTP transport of one org's connector: it names the
// replica in the User-Agent (the provider's, and the fakes', request logs
// show which replica asked) and counts the answers, so a failed round is
// told apart as rate limited, provider down or hung.
type orgTransport struct {
	base    http.RoundTripper
	agent   string
	tooMany atomic.Int64
	server  atomic.Int64
	noReply atomic.Int64
}

// UserAgent is the User-Agent of serve's provider requests: "phonesignals
// serve REPLICA".
func UserAgent(replica string) string { return "phonesignals serve " + replica }

func (t *orgTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", t.agent)
	resp, err := t.base.RoundTrip(r)
	switch {
	case err != nil:
		t.noReply.Add(1)
	case resp.StatusCode == http.StatusTooManyRequests:
		t.tooMany.Add(1)
	case resp.StatusCode >= 500:
		t.server.Add(1)
	}
	return resp, err
}

// answers is a snapshot of the counters, to diff around a round.
type answers struct{ tooMany, server, noReply int64 }

func (t *orgTransport) snapshot() answers {
	return answers{t.tooMany.Load(), t.server.Load(), t.noReply.Load()}
}

func (a answers) since(b answers) answers {
	return answers{a.tooMany - b.tooMany, a.server - b.server, a.noReply - b.noReply}
}

// errKafka marks a round that failed publishing, not fetching.
var errKafka = errors.New("publishing to kafka")

// kafkaSink tags the sink's errors with errKafka.
type kafkaSink struct{ ingest.Sink }

func (s kafkaSink) Publish(ctx context.Context, calls []model.RawCall) error {
	if err := s.Sink.Publish(ctx, calls); err != nil {
		return fmt.Errorf("%w: %w", errKafka, err)
	}
	return nil
}

// Error kinds of a failed round, the org_errors_total{kind} label.
const (
	KindAuth         = "auth"
	KindRateLimited  = "rate_limited"
	KindProviderDown = "provider_down"
	KindTimeout      = "timeout"
	KindKafka        = "kafka"
	KindConfig       = "config"
	KindOther        = "other"
)

// classify names what made a round fail, from its error and the answers
// the org's transport saw meanwhile.
func classify(err error, a answers) string {
	switch {
	case ingest.IsAuth(err):
		return KindAuth
	case errors.Is(err, errKafka):
		return KindKafka
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case a.tooMany > 0:
		return KindRateLimited
	case a.server > 0 || a.noReply > 0:
		return KindProviderDown
	}
	return KindOther
}

// fixFor says what the operator does about a failure of kind.
func fixFor(kind, org string) string {
	switch kind {
	case KindAuth:
		return fmt.Sprintf("the provider rejects the stored credentials: connect the org again with valid ones (phonesignals org connect --org %s ...), then phonesignals doctor --org %s", org, org)
	case KindRateLimited:
		return fmt.Sprintf("the provider keeps answering 429: another integration shares the org's rate limit, or the limit is lower than set (phonesignals org connect --org %s --setting rate_limit=N / heavy_limit=N)", org)
	case KindProviderDown:
		return "the provider answers 5xx or not at all: an outage on its side or the network; retried with back-off"
	case KindTimeout:
		return "the provider did not answer in time (--request-timeout, --round-timeout): retried with back-off; check the provider's status page"
	case KindKafka:
		return "kafka did not acknowledge the calls: check --brokers and the broker's health"
	case KindConfig:
		return fmt.Sprintf("the org's stored connection cannot be used: phonesignals org connect --org %s ... (then doctor --org %s)", org, org)
	}
	return fmt.Sprintf("see the error; phonesignals doctor --org %s", org)
}
