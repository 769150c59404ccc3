package freshness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/store"
)

// firstID is the call id of the stream's first webhook, firstPolled of
// the first call serve polls.
const (
	firstID     = 100000
	firstPolled = 200000
)

// call is what the stream knows of one webhook.
type call struct {
	sent, acked, row time.Time
	ok               bool
}

// tracker keeps one org's calls (ids first, first+1, ...; RingCentral's
// rendered as fixture.Call.StrID) and its review's counts over time; panel
// is its Grafana data source.
type tracker struct {
	org      string
	provider string
	first    int
	panel    *plugin.Datasource
	mu       sync.Mutex
	calls    []call
	// counted[k-1] is when the review first counted k calls; plotted the
	// same for the Grafana plugin's team review.
	counted, plotted []time.Time
}

// stream posts the webhooks while serve polls the fakes' calls, watches
// raw_signals, the review and the Grafana plugin until every acknowledged
// or polled call is in all three, and reports.
func stream(ctx context.Context, cfg Config, st *store.Store, tr *tracker, polled []*tracker, url string) (Result, error) {
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		post(ctx, url, cfg.Rate, tr)
	}()
	_, _ = fmt.Fprintf(cfg.Out, "freshness: %d call.ended webhooks at %d/s for %s, and %d calls a second appearing at each of %d providers (%d each) polled every %s, "+
		"to serve --roles sync,webhooks,transform, --max-wait %s, ClickHouse 18.16, reads every %s\n",
		len(tr.calls), cfg.Rate, cfg.Duration, cfg.PollRate, len(polled), len(polled[0].calls), cfg.PollEvery, cfg.MaxWait, cfg.Every)
	errs := make(chan error, len(polled))
	for _, p := range polled {
		allPolled := make(chan struct{})
		go func() {
			defer close(allPolled)
			p.waitPolled(ctx, cfg.Duration+time.Minute)
		}()
		go func() { errs <- watch(ctx, cfg, st, p, allPolled) }()
	}
	err := watch(ctx, cfg, st, tr, sent)
	for range polled {
		err = errors.Join(err, <-errs)
	}
	if err != nil {
		return Result{}, err
	}
	res := tr.result()
	_, _ = fmt.Fprintf(cfg.Out, "  acknowledged     %d of %d (2xx), answer %s\n", res.Acked, res.Sent, res.Ack)
	_, _ = fmt.Fprintf(cfg.Out, "  2xx -> raw_signals  %s\n", res.ToRow)
	_, _ = fmt.Fprintf(cfg.Out, "  2xx -> review       %s\n", res.ToReview)
	_, _ = fmt.Fprintf(cfg.Out, "  2xx -> Grafana      %s\n", res.ToGrafana)
	for _, p := range polled {
		r := p.result()
		leg := Leg{Provider: p.provider, Calls: len(p.calls), Polled: r.Acked, ToRow: r.ToRow, ToReview: r.ToReview, ToGrafana: r.ToGrafana}
		res.Polled = append(res.Polled, leg)
		_, _ = fmt.Fprintf(cfg.Out, "  %s: polled %d of %d calls\n", leg.Provider, leg.Polled, leg.Calls)
		_, _ = fmt.Fprintf(cfg.Out, "    poll -> raw_signals %s\n", leg.ToRow)
		_, _ = fmt.Fprintf(cfg.Out, "    poll -> review      %s\n", leg.ToReview)
		_, _ = fmt.Fprintf(cfg.Out, "    poll -> Grafana     %s\n", leg.ToGrafana)
		if leg.Polled < leg.Calls {
			err = errors.Join(err, fmt.Errorf("freshness: serve polled %d of the %d calls the %s fake listed", leg.Polled, leg.Calls, leg.Provider))
		}
	}
	if res.Acked < res.Sent {
		err = errors.Join(err, fmt.Errorf("freshness: %d of %d webhooks were not acknowledged", res.Sent-res.Acked, res.Sent))
	}
	return res, err
}

// post sends the tracker's webhooks at rate per second, each in its own
// goroutine as Aircall's deliveries arrive, and waits for their answers.
func post(ctx context.Context, url string, rate int, tr *tracker) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	started := time.Now().Add(-2 * time.Minute).Unix()
	for i := range tr.calls {
		if i > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-tick.C:
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"resource":"call","event":"call.ended","timestamp":%d,"token":%q,"data":{"id":%d,"direction":"inbound","status":"done",`+
				`"started_at":%d,"answered_at":%d,"ended_at":%d,"duration":60,"user":{"id":%d}}}`,
				time.Now().Unix(), token, firstID+i, started, started+5, started+65, i%users+1)
			at := time.Now()
			resp, err := client.Post(url, "application/json", strings.NewReader(body))
			done := time.Now()
			ok := err == nil && resp.StatusCode/100 == 2
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			tr.mu.Lock()
			tr.calls[i].sent, tr.calls[i].acked, tr.calls[i].ok = at, done, ok
			tr.mu.Unlock()
		}()
	}
	wg.Wait()
}

// watch reads raw_signals and the review, each in a loop of its own
// every cfg.Every, until the stream is sent and every acknowledged call is
// in both, or a minute after the stream when some never arrive. A read
// is stamped with the time it started: ClickHouse answers from the parts
// there were when the query began.
func watch(ctx context.Context, cfg Config, st *store.Store, tr *tracker, sent <-chan struct{}) error {
	errs := make(chan error, 3)
	go func() {
		errs <- sample(ctx, cfg.Every, sent, func(at time.Time) (bool, error) {
			ids, err := rowIDs(ctx, st, tr.org)
			return tr.observeRows(at, ids), err
		})
	}()
	go func() {
		errs <- sample(ctx, cfg.Every, sent, func(at time.Time) (bool, error) {
			n, err := reviewed(ctx, st, tr.org)
			return tr.observe(&tr.counted, at, n), err
		})
	}()
	go func() {
		errs <- sample(ctx, cfg.Every, sent, func(at time.Time) (bool, error) {
			n, err := plotted(ctx, tr.panel)
			return tr.observe(&tr.plotted, at, n), err
		})
	}()
	return errors.Join(<-errs, <-errs, <-errs)
}

// sample calls read every so often until it reports all is there once
// sent is closed, or a minute after that.
func sample(ctx context.Context, every time.Duration, sent <-chan struct{}, read func(at time.Time) (bool, error)) error {
	var deadline <-chan time.Time
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return errors.New("freshness: a minute after the stream, raw_signals or the review still lacks some acknowledged calls")
		case <-sent:
			sent, deadline = nil, time.After(time.Minute)
		case <-tick.C:
		}
		all, err := read(time.Now())
		if err != nil {
			return err
		}
		if all && sent == nil {
			return nil
		}
	}
}

// rowIDs returns the stream's call ids in raw_signals.
func rowIDs(ctx context.Context, st *store.Store, org string) ([]int, error) {
	rs, err := st.Conn().Query(ctx, "SELECT DISTINCT call_id FROM raw_signals WHERE org = ?", org)
	if err != nil {
		return nil, fmt.Errorf("reading raw_signals: %w", err)
	}
	defer rs.Close()
	var ids []int
	for rs.Next() {
		var s string
		if err := rs.Scan(&s); err != nil {
			return nil, err
		}
		if id, ok := callNumber(s); ok {
			ids = append(ids, id)
		}
	}
	return ids, rs.Err()
}

// callNumber is the number of a call id: Aircall's as is, RingCentral's
// rendered by fixture.Call.StrID ("RC%010dX").
func callNumber(id string) (int, bool) {
	if rest, ok := strings.CutPrefix(id, "RC"); ok {
		id = strings.TrimSuffix(rest, "X")
	}
	n, err := strconv.Atoi(id)
	return n, err == nil
}

// reviewed returns how many calls the review of the cycle counts.
func reviewed(ctx context.Context, st *store.Store, org string) (int, error) {
	blocks, err := review.LoadCycle(ctx, st, org, cycleID)
	if err != nil {
		return 0, fmt.Errorf("reading the review: %w", err)
	}
	total := 0
	for _, b := range blocks {
		total += int(b.Metrics.TotalCalls)
	}
	return total, nil
}

// observeRows records the ids a read started at at saw, and reports
// whether every acknowledged call is in raw_signals.
func (tr *tracker) observeRows(at time.Time, ids []int) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, id := range ids {
		if i := id - tr.first; i >= 0 && i < len(tr.calls) && tr.calls[i].row.IsZero() {
			tr.calls[i].row = at
		}
	}
	for _, c := range tr.calls {
		if c.ok && c.row.IsZero() {
			return false
		}
	}
	return true
}

// observe records in seen how many calls a review started at at counted,
// and reports whether it counts every acknowledged call.
func (tr *tracker) observe(seen *[]time.Time, at time.Time, counted int) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for len(*seen) < counted {
		*seen = append(*seen, at)
	}
	acked := 0
	for _, c := range tr.calls {
		if c.ok {
			acked++
		}
	}
	return counted >= acked
}

// result computes the figures. The review counts calls, not ids: the k-th
// call acknowledged is taken as in the review once it counts k calls.
func (tr *tracker) result() Result {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var ack, toRow []time.Duration
	var acks []time.Time
	for _, c := range tr.calls {
		if !c.ok {
			continue
		}
		ack = append(ack, c.acked.Sub(c.sent))
		// A row seen before the answer arrived counts as 0.
		toRow = append(toRow, max(0, c.row.Sub(c.acked)))
		acks = append(acks, c.acked)
	}
	slices.SortFunc(acks, time.Time.Compare)
	return Result{Sent: len(tr.calls), Acked: len(ack), Ack: percentiles(ack), ToRow: percentiles(toRow),
		ToReview: percentiles(delays(acks, tr.counted)), ToGrafana: percentiles(delays(acks, tr.plotted))}
}

// delays pairs the k-th acknowledgement with when k calls were first
// counted.
func delays(acks, counted []time.Time) []time.Duration {
	var out []time.Duration
	for k, at := range acks {
		if k < len(counted) {
			out = append(out, max(0, counted[k].Sub(at)))
		}
	}
	return out
}

// plotted returns how many calls the Grafana plugin's team review of the
// cycle counts: the sum of its total_calls column, as the team dashboard's
// panel gets it from QueryData.
func plotted(ctx context.Context, panel *plugin.Datasource) (int, error) {
	q := json.RawMessage(`{"queryType":"` + plugin.QueryTeamReview + `","cycle":"` + cycleID + `"}`)
	resp, err := panel.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", QueryType: plugin.QueryTeamReview, JSON: q}}})
	if err != nil {
		return 0, fmt.Errorf("querying the Grafana plugin: %w", err)
	}
	r := resp.Responses["A"]
	if r.Error != nil {
		return 0, fmt.Errorf("the Grafana plugin's team review: %w", r.Error)
	}
	total := 0
	for _, f := range r.Frames {
		fld, _ := f.FieldByName("total_calls")
		if fld == nil {
			return 0, fmt.Errorf("the Grafana plugin's team review has no total_calls field")
		}
		for i := range fld.Len() {
			if v, ok := fld.ConcreteAt(i); ok {
				total += int(v.(uint64))
			}
		}
	}
	return total, nil
}
