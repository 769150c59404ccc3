package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/phonesignals/phonesignals/internal/store/cherr"
	"github.com/phonesignals/phonesignals/load/aggregate"
)

// Config configures a Loader.
type Config struct {
	// Conn is an open ClickHouse connection. Required.
	Conn driver.Conn
	// Table is the target table. Default "raw_signals".
	Table string
	// Now stamps loaded_at and dates the refresher's reports; default
	// time.Now. No version depends on it: the marks and aggregate rows are
	// ordered by the store (aggregate.Maintainer), so loaders whose clocks disagree or
	// step back stay exact. Tests skew it to prove that.
	Now func() time.Time
	// RefreshEvery is the longest a day of user_day_metrics stays behind
	// raw_signals while batches keep streaming in; once they pause for two
	// seconds the background refresher catches up at once. Default 30s;
	// negative: never in the background, only on Close or an explicit
	// Aggregates().Refresh. Reads are exact either way (dirty days are read
	// from raw_signals), only slower.
	RefreshEvery time.Duration
}

// Validate reports every problem, each naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.Conn == nil {
		errs = append(errs, errors.New("load: Conn is nil; open ClickHouse first"))
	}
	return errors.Join(errs...)
}

// Loader inserts record batches.
type Loader struct {
	cfg Config
	// agg keeps user_day_metrics; nil when Table is not raw_signals.
	agg *aggregate.Maintainer
}

// New returns a Loader.
func New(cfg Config) (*Loader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Table = cmp.Or(cfg.Table, "raw_signals")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Loader{cfg: cfg}
	if cfg.Table == "raw_signals" {
		agg, err := aggregate.New(cfg.Conn, cfg.Now)
		if err != nil {
			return nil, err
		}
		l.agg = agg
		if cfg.RefreshEvery == 0 {
			cfg.RefreshEvery = 30 * time.Second
		}
		if cfg.RefreshEvery > 0 {
			agg.Start(cfg.RefreshEvery)
		}
	}
	return l, nil
}

// Aggregates returns the user_day_metrics maintainer (nil when Table is
// not raw_signals).
func (l *Loader) Aggregates() *aggregate.Maintainer { return l.agg }

// Write inserts every row of rec in one INSERT (one block per month
// partition), then marks the days of its calls dirty in user_day_metrics:
// a poll of one record (BeginPoll).
func (l *Loader) Write(ctx context.Context, rec arrow.Record) error {
	keys, err := CallKeys(rec)
	if err != nil {
		return err
	}
	p := l.BeginPoll(ctx, keys)
	defer p.Close()
	if err := p.Write(ctx, []arrow.Record{rec}); err != nil {
		return err
	}
	return p.Finish(ctx)
}

// Close stops the background refresher and recomputes the days still
// dirty, so the aggregates are current when a run ends.
func (l *Loader) Close(ctx context.Context) error {
	if l.agg == nil {
		return nil
	}
	return l.agg.Close(ctx)
}

// insert writes recs in one INSERT; the records' field names are the
// table's column names (all records share one schema), loaded_at is added
// here.
func (l *Loader) insert(ctx context.Context, recs []arrow.Record) error {
	n := 0
	for _, rec := range recs {
		n += int(rec.NumRows())
	}
	if n == 0 {
		return nil
	}
	schema := recs[0].Schema()
	names := make([]string, 0, schema.NumFields()+1)
	for _, f := range schema.Fields() {
		names = append(names, f.Name)
	}
	names = append(names, "loaded_at")
	// 18.16 needs the column list: without it the server sends an empty
	// header and Append fails.
	batch, err := l.cfg.Conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s (%s)", l.cfg.Table, strings.Join(names, ", ")))
	if err != nil {
		return cherr.Classify(fmt.Errorf("preparing insert into %s: %w", l.cfg.Table, err))
	}
	for _, rec := range recs {
		if err := appendColumns(batch, schema, rec, l.cfg.Table); err != nil {
			_ = batch.Abort()
			return err
		}
	}
	now := l.cfg.Now().Unix()
	loaded := make([]int64, n)
	for i := range loaded {
		loaded[i] = now
	}
	if err := batch.Column(schema.NumFields()).Append(loaded); err != nil {
		_ = batch.Abort()
		return cherr.Permanentf("column loaded_at of %s does not take DateTime values (schema drift?): %w", l.cfg.Table, err)
	}
	if err := batch.Send(); err != nil {
		return cherr.Classify(fmt.Errorf("inserting %d rows into %s: %w", n, l.cfg.Table, err))
	}
	return nil
}

// appendColumns appends rec's columns to the batch's.
func appendColumns(batch driver.Batch, schema *arrow.Schema, rec arrow.Record, table string) error {
	if !rec.Schema().Equal(schema) {
		return cherr.Permanentf("records of one insert into %s have different schemas: %s and %s", table, schema, rec.Schema())
	}
	for i := 0; i < int(rec.NumCols()); i++ {
		col, err := columnValues(rec.Column(i))
		if err != nil {
			return cherr.Permanentf("converting column %s: %w", schema.Field(i).Name, err)
		}
		if err := batch.Column(i).Append(col); err != nil {
			// The driver converts on the client: a failure here means the
			// live column's type is not the one the pipeline writes.
			return cherr.Permanentf("column %s of %s does not take the pipeline's %s values (schema drift? `phonesignals doctor` compares the live schema with the expected one): %w",
				schema.Field(i).Name, table, schema.Field(i).Type, err)
		}
	}
	return nil
}

// columnValues converts an Arrow column into the Go slice clickhouse-go
// appends columnar, copying as little as its API allows: numbers and
// timestamps (int64 seconds) go in as the Arrow value buffers themselves,
// strings as headers pointing into the Arrow value buffer (no byte is
// copied here). The driver then copies each column once into its own
// block.
func columnValues(a arrow.Array) (any, error) {
	switch c := a.(type) {
	case *array.String:
		out := make([]string, c.Len())
		for i := range out {
			out[i] = c.Value(i)
		}
		return out, nil
	// The driver copies numbers into its own column buffers: the Arrow
	// values go in as they are.
	case *array.Uint8:
		return c.Uint8Values(), nil
	case *array.Uint32:
		return c.Uint32Values(), nil
	case *array.Uint64:
		return c.Uint64Values(), nil
	case *array.Timestamp:
		unit := c.DataType().(*arrow.TimestampType).Unit
		if unit == arrow.Second {
			// The driver takes int64 seconds: the Arrow value buffer as it
			// is (arrow.Timestamp is an int64).
			v := c.TimestampValues()
			return unsafe.Slice((*int64)(unsafe.SliceData(v)), len(v)), nil
		}
		out := make([]time.Time, c.Len())
		for i := range out {
			out[i] = c.Value(i).ToTime(unit).UTC()
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported arrow type %s", a.DataType())
}
