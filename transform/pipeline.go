package transform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

// A poll's records are cut into one chunk per worker (more when a chunk
// would exceed MaxBatch); workers decode the chunks in parallel, each into
// its own Arrow batch. The Writer (load.Loader) then stores the poll's
// batches in one ClickHouse insert, and its stale-day lookup runs on the
// server while the poll decodes. The offsets of the whole poll are
// committed only after the writer acknowledged it (GroupTransactSession
// commits everything polled, so a poll is the unit of commit).

// chunk is one Arrow batch in the making.
type chunk struct {
	recs     []*kgo.Record
	rec      arrow.Record
	dead     []model.DeadLetter
	deadRecs []*kgo.Record
	// fatal stops the consumer before this chunk is written (a record the
	// master key does not open: see openFailure).
	fatal error
}

// worker is one decoder's reusable state.
type worker struct {
	bb   *BatchBuilder
	call model.Call
	buf  []byte
}

// loaded is what a poll's pipeline wrote.
type loaded struct {
	rows, batches int
	dead          []model.DeadLetter
	deadRecs      []*kgo.Record
}

// load decodes recs in parallel and writes their batches. On an error the
// batches decoded are released and nothing is committed.
func (c *Consumer) load(ctx context.Context, recs []*kgo.Record) (loaded, error) {
	poll := c.cfg.Writer.BeginPoll(ctx, callKeys(recs))
	defer poll.Close()
	if c.cfg.Hours != nil {
		if err := c.cfg.Hours.Prepare(ctx, pollOrgs(recs)); err != nil {
			return loaded{}, fmt.Errorf("reading the working hours of the poll's orgs: %w", err)
		}
	}
	start := time.Now()
	chunks := c.decode(recs)
	decoded := time.Now()
	defer func() {
		c.cfg.Logger.Debug("poll loaded", "records", len(recs), "decode", decoded.Sub(start), "store", time.Since(decoded))
		for _, ch := range chunks {
			ch.rec.Release()
		}
	}()
	var out loaded
	batches := make([]arrow.Record, 0, len(chunks))
	for _, ch := range chunks {
		if ch.fatal != nil {
			return out, ch.fatal
		}
		out.rows += int(ch.rec.NumRows())
		out.dead = append(out.dead, ch.dead...)
		out.deadRecs = append(out.deadRecs, ch.deadRecs...)
		if ch.rec.NumRows() > 0 {
			batches = append(batches, ch.rec)
		}
	}
	out.batches = len(batches)
	return out, c.store(ctx, poll, batches, out.dead)
}

// decode cuts recs into chunks and decodes them on the workers.
func (c *Consumer) decode(recs []*kgo.Record) []*chunk {
	w := len(c.workers)
	n := max(w, (len(recs)+c.cfg.MaxBatch-1)/c.cfg.MaxBatch)
	n = (n + w - 1) / w * w // a multiple of the workers, so they end together
	size := max(1, (len(recs)+n-1)/n)
	var chunks []*chunk
	for i := 0; i < len(recs); i += size {
		chunks = append(chunks, &chunk{recs: recs[i:min(i+size, len(recs))]})
	}
	queue := make(chan *chunk, len(chunks))
	for _, ch := range chunks {
		queue <- ch
	}
	close(queue)
	var wg sync.WaitGroup
	for _, wk := range c.workers[:min(w, len(chunks))] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range queue {
				c.decodeChunk(wk, ch)
			}
		}()
	}
	wg.Wait()
	return chunks
}

// callKeys names the calls of recs from their headers, before they are
// decoded (a record whose headers are wrong is dead-lettered later; its
// key then only widens the lookup). The strings are views of the records'
// header bytes, not copies: the poll's writer uses them only while the
// poll's records are held.
func callKeys(recs []*kgo.Record) []model.CallKey {
	keys := make([]model.CallKey, 0, len(recs))
	for _, r := range recs {
		keys = append(keys, model.CallKey{Org: headerView(r, bus.HeaderOrg), Provider: headerView(r, bus.HeaderProvider), CallID: headerView(r, bus.HeaderCallID)})
	}
	return keys
}

// pollOrgs returns the distinct orgs of recs' headers.
func pollOrgs(recs []*kgo.Record) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range recs {
		if org := headerView(r, bus.HeaderOrg); !seen[org] {
			seen[org] = true
			out = append(out, strings.Clone(org))
		}
	}
	return out
}

// headerView is bus.Header without the copy.
func headerView(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return unsafe.String(unsafe.SliceData(h.Value), len(h.Value))
		}
	}
	return ""
}

// decodeChunk turns a chunk's records into its batch and dead letters.
func (c *Consumer) decodeChunk(w *worker, ch *chunk) {
	for _, r := range ch.recs {
		err := c.decodeRecord(w, r)
		if errors.Is(err, secret.ErrWrongKey) {
			// Chunks are written in order and a wrong key fails every
			// record, so nothing of the poll is loaded; records sealed
			// under two keys could load the chunks before this one,
			// which come again with the offsets never committed.
			ch.fatal = openFailure(r, err)
			break
		}
		if err != nil {
			d, dr := deadLetter(r, err)
			ch.dead = append(ch.dead, d)
			ch.deadRecs = append(ch.deadRecs, dr)
			// The reason names the field; the body is never logged.
			c.cfg.Logger.Warn("dead-lettering raw call", "org", d.Org, "provider", d.Provider, "call_id", d.CallID, "offset", r.Offset, "reason", d.Reason)
		}
	}
	ch.rec = w.bb.NewRecord()
}

// decodeRecord opens r, decodes it with its provider's decoder and
// appends its row.
func (c *Consumer) decodeRecord(w *worker, r *kgo.Record) error {
	raw, err := bus.DecodeTo(c.cfg.Box, r, &w.buf)
	if err != nil {
		return fmt.Errorf("decoding record: %w", err)
	}
	dec, ok := c.decoders[raw.Provider]
	if !ok {
		return fmt.Errorf("provider %q has no decoder (want %s)", raw.Provider, strings.Join(c.providers, " or "))
	}
	// Decoders name the provider, org, call and field in their errors.
	if err := dec(raw, &w.call); err != nil {
		return err
	}
	return w.bb.Add(Route{Org: raw.Org, Provider: raw.Provider, Source: raw.Source, Event: raw.Event,
		CallID: raw.CallID, ObservedAt: raw.ObservedAt, Seq: uint64(r.Offset)}, &w.call)
}
