package transform

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/secret"
)

// A poll's records are cut into chunks of at most MaxBatch records. Workers
// decode chunks in parallel, each into its own Arrow batch; the consumer
// writes the batches in order as they are ready, so ClickHouse loads chunk
// N while chunk N+1 is decoded. The offsets of the whole poll are committed
// only after every chunk was acknowledged (GroupTransactSession commits
// everything polled, so a poll is the unit of commit).

// chunk is one Arrow batch in the making.
type chunk struct {
	recs     []*kgo.Record
	rec      arrow.Record
	dead     []model.DeadLetter
	deadRecs []*kgo.Record
	// fatal stops the consumer before this chunk is written (a record the
	// master key does not open: see openFailure).
	fatal error
	done  chan struct{}
}

// worker is one decoder's reusable state.
type worker struct {
	bb   *BatchBuilder
	view model.CallView
	buf  []byte
}

// loaded is what a poll's pipeline wrote.
type loaded struct {
	rows, batches int
	dead          []model.DeadLetter
	deadRecs      []*kgo.Record
}

// load decodes recs in parallel and writes their batches in order. On an
// error the chunks still being decoded are waited for and released.
func (c *Consumer) load(ctx context.Context, recs []*kgo.Record) (loaded, error) {
	size := min(c.cfg.MaxBatch, (len(recs)+len(c.workers)-1)/len(c.workers))
	var chunks []*chunk
	for i := 0; i < len(recs); i += size {
		chunks = append(chunks, &chunk{recs: recs[i:min(i+size, len(recs))], done: make(chan struct{})})
	}
	queue := make(chan *chunk, len(chunks))
	for _, ch := range chunks {
		queue <- ch
	}
	close(queue)
	for _, w := range c.workers[:min(len(c.workers), len(chunks))] {
		go func() {
			for ch := range queue {
				c.decodeChunk(w, ch)
				close(ch.done)
			}
		}()
	}
	var out loaded
	var err error
	for _, ch := range chunks {
		<-ch.done
		if err == nil && ch.fatal != nil {
			err = ch.fatal
		}
		if err == nil {
			err = c.store(ctx, ch.rec, ch.dead)
			out.rows += int(ch.rec.NumRows())
			out.batches++
			out.dead = append(out.dead, ch.dead...)
			out.deadRecs = append(out.deadRecs, ch.deadRecs...)
		}
		ch.rec.Release()
	}
	return out, err
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
	if err := dec(raw, &w.view); err != nil {
		return err
	}
	return w.bb.AddView(Route{Org: raw.Org, Provider: raw.Provider, Source: raw.Source, Event: raw.Event,
		CallID: raw.CallID, ObservedAt: raw.ObservedAt}, &w.view)
}

// rowDecoder adapts a provider's Decode to the view the builders take.
func rowDecoder(d Decoder) ViewDecoder {
	return func(raw model.RawCall, v *model.CallView) error {
		call, err := d(raw)
		if err != nil {
			return err
		}
		v.FromCall(&call)
		return nil
	}
}
