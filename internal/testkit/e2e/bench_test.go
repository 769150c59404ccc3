package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/transform"
	"github.com/phonesignals/phonesignals/transform/transformtest"
)

// BenchmarkTransformLoad measures the transform stage (decrypt, decode,
// rules, Arrow, ClickHouse insert, commit) over N synced calls and reports
// it as a ratio of a baseline measured in the same run: the same number of
// raw records merely consumed from Kafka.
func BenchmarkTransformLoad(b *testing.B) {
	r := newRig(b)
	o := fixture.Generate(fixture.Spec{Seed: 21, Org: "bench", Employees: 40, Days: 30, CallsPerDay: 20})
	fake := aircalltest.NewFake(o, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 1_000_000, Now: func() time.Time { return o.End.Add(24 * time.Hour) }})
	hs := httptest.NewServer(fake)
	defer hs.Close()
	client, err := aircall.New(o.Name, aircall.Config{BaseURL: hs.URL + "/v1", APIID: "id", APIToken: "tok", RateLimitPerMinute: 1_000_000})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	var transformDur, consumeDur time.Duration
	rows := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := client.Sync(ctx, ingest.SyncRequest{Org: o.Name, Window: ingest.Window{From: o.Start, To: o.End}}, r.pub, nil, ingest.NoProgress); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		n := consumeOnly(b, r.bus)
		consumeDur += time.Since(start)
		b.StartTimer()
		start = time.Now()
		st := r.drain()
		transformDur += time.Since(start)
		rows += st.Rows
		if n < st.Rows {
			b.Fatalf("baseline read %d records, transform %d", n, st.Rows)
		}
	}
	b.ReportMetric(float64(rows)/transformDur.Seconds(), "rows/s")
	b.ReportMetric(transformDur.Seconds()/consumeDur.Seconds(), "x_consume_only")
}

// BenchmarkWebhookKafkaAck measures webhooks answered per second when each
// answer waits for the Kafka acknowledgement, and the same deliveries with
// a sink that acknowledges at once (the HTTP-only baseline).
func BenchmarkWebhookKafkaAck(b *testing.B) {
	r := newRig(b)
	body := []byte(`{"resource":"call","event":"call.ended","timestamp":1785000000,"token":"tok","data":{"id":1,"direction":"inbound","status":"done","started_at":1785000000,"duration":30}}`)
	run := func(sink ingest.Sink, n int) time.Duration {
		ws, err := aircall.NewWebhookServer(aircall.WebhookConfig{Listen: "127.0.0.1:0", Orgs: aircall.StaticOrgs{{Org: "acme", Token: "tok"}},
			Sink: sink, TranscriptSink: &ingesttest.MemSink{}, Deliveries: nopDeliveries{}})
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(ws.Handler())
		defer hs.Close()
		start := time.Now()
		for i := 0; i < n; i++ {
			resp, err := http.Post(hs.URL, "application/json", bytes.NewReader(body))
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("delivery: %v %v", err, resp)
			}
			resp.Body.Close()
		}
		return time.Since(start)
	}
	const n = 500
	base := run(&ingesttest.MemSink{}, n)
	b.ResetTimer()
	var d time.Duration
	for i := 0; i < b.N; i++ {
		d += run(r.pub, n)
	}
	b.StopTimer()
	per := float64(b.N*n) / d.Seconds()
	b.ReportMetric(per, "webhooks/s")
	b.ReportMetric(per/(float64(n)/base.Seconds()), "x_of_no_kafka")
}

// consumeOnly reads every raw record once with a plain consumer (no
// decoding, no ClickHouse): the floor the transform is compared with.
func consumeOnly(b *testing.B, cfg bus.Config) int {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(append(cfg.Opts(), kgo.ConsumeTopics(bus.TopicRaw), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, bus.TopicRaw)
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	n := 0
	for int64(n) < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("read %d of %d records", n, total)
		}
		n += fs.NumRecords()
	}
	return n
}

// BenchmarkReviewQuery measures one employee's review (metrics and
// baseline, through the versioned views) over a large org, as a ratio of a
// plain scan of the same org's raw rows measured in the same run.
func BenchmarkReviewQuery(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	o := fixture.Generate(fixture.Spec{Seed: 31, Org: "big", Employees: 60, Days: 92, CallsPerDay: 30})
	r.configure(o)
	bb := transform.NewBatchBuilder(nil)
	defer bb.Release()
	for i, c := range o.Calls {
		call := modeltest.Call{Org: o.Name, Provider: o.Provider, CallID: fmt.Sprint(c.ID), UserID: c.UserID, StartedAt: c.StartedAt,
			Direction: c.Direction, DurationSec: uint32(c.Duration), Status: "done", ProviderStatus: "done", AnsweredAt: c.AnsweredAt,
			Notes: c.Notes, Tags: c.Tags, EscalationAvailable: true, Version: uint64(i), ObservedAt: c.EndedAt}
		if err := transformtest.Add(bb, &call); err != nil {
			b.Fatal(err)
		}
	}
	rec := bb.NewRecord()
	if err := r.loader().Write(ctx, rec); err != nil {
		b.Fatal(err)
	}
	rec.Release()
	cy := o.Cycles[1].ID
	var base time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		start := time.Now()
		var n uint64
		if err := r.st.Conn().QueryRow(ctx, "SELECT count() FROM raw_signals WHERE org = ? AND user_id != ''", o.Name).Scan(&n); err != nil {
			b.Fatal(err)
		}
		base += time.Since(start)
		b.StartTimer()
		m, err := r.st.Review(ctx, o.Name, cy, "E001")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.st.Baseline(ctx, o.Name, cy, m.Cohort); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(o.Calls)), "calls")
	b.ReportMetric(float64(b.Elapsed())/float64(base), "x_plain_scan")
}
