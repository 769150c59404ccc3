package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The pipeline's names this plugin reads (internal/bus's TopicRaw,
// GroupTransform and HeaderOrg; a test checks they agree). internal/bus
// itself is not imported: it locks files with flock, and the plugin is
// built for Windows too.
const (
	topicRaw       = "phonesignals.calls.raw"
	groupTransform = "phonesignals-transform"
	headerOrg      = "org"
)

// header returns the value of record header k ("" when absent).
func header(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// maxBacklogScan bounds the records one records_behind query reads: past
// it the answer is a lower bound (the frame says so).
const maxBacklogScan = 500_000

// quietPoll is how long a poll may bring nothing before the scan stops.
const quietPoll = 3 * time.Second

// backlog is what the transform has not loaded yet for one org.
type backlog struct {
	// Behind counts the org's records between the transform group's
	// committed offsets and the end of the raw topic.
	Behind int64
	// Capped is true when the scan stopped at maxBacklogScan records.
	Capped bool
}

// orgBacklog reads the raw topic from the transform group's committed
// offsets to the end offsets and counts the records whose org header is
// org. The topic is shared by every org, so only counting the org's own
// records keeps other orgs' volumes out of this org's dashboards.
func orgBacklog(ctx context.Context, brokers []string, org string) (backlog, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("phonesignals-grafana"))
	if err != nil {
		return backlog{}, fmt.Errorf("kafka client for %v: %w", brokers, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topicRaw)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return backlog{}, fmt.Errorf("listing end offsets of %s on %v (check jsonData.kafka): %w", topicRaw, brokers, err)
	}
	committed, err := adm.FetchOffsets(ctx, groupTransform)
	if err != nil {
		return backlog{}, fmt.Errorf("fetching offsets of group %s: %w", groupTransform, err)
	}
	start := map[int32]kgo.Offset{}
	remaining := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		at := int64(0)
		if c, ok := committed.Lookup(o.Topic, o.Partition); ok && c.At >= 0 {
			at = c.At
		}
		if o.Offset > at {
			start[o.Partition] = kgo.NewOffset().At(at)
			remaining[o.Partition] = o.Offset
		}
	})
	if len(start) == 0 {
		return backlog{}, nil
	}
	return scanBacklog(ctx, brokers, org, start, remaining)
}

// scanBacklog consumes each partition from start to its end offset.
func scanBacklog(ctx context.Context, brokers []string, org string, start map[int32]kgo.Offset, ends map[int32]int64) (backlog, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("phonesignals-grafana"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topicRaw: start}))
	if err != nil {
		return backlog{}, fmt.Errorf("kafka client for %v: %w", brokers, err)
	}
	defer cl.Close()
	var b backlog
	var scanned int64
	for len(ends) > 0 {
		pollCtx, cancel := context.WithTimeout(ctx, quietPoll)
		fs := cl.PollFetches(pollCtx)
		quiet := pollCtx.Err() != nil
		cancel()
		if err := ctx.Err(); err != nil {
			return b, fmt.Errorf("reading %s: %w", topicRaw, err)
		}
		if quiet && fs.NumRecords() == 0 {
			// Offsets without records (transaction markers) never
			// arrive: what was read is a lower bound.
			b.Capped = true
			return b, nil
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = err
			}
		})
		if ferr != nil {
			return b, fmt.Errorf("reading %s: %w", topicRaw, ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := ends[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			scanned++
			if header(r, headerOrg) == org {
				b.Behind++
			}
			if r.Offset+1 >= end {
				delete(ends, r.Partition)
			}
		})
		if scanned >= maxBacklogScan {
			b.Capped = true
			return b, nil
		}
	}
	return b, nil
}

func recordsBehindQuery(ctx context.Context, d *Datasource, r request) (*data.Frame, error) {
	if len(d.settings.Kafka) == 0 {
		return nil, badRequest("query %s (%s): this data source has no Kafka: set jsonData.kafka to the brokers phonesignals uses (HOST:PORT, comma-separated, e.g. redpanda:9092)", r.q.RefID, r.m.QueryType)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := orgBacklog(ctx, d.settings.Kafka, r.org)
	if err != nil {
		return nil, err
	}
	f := data.NewFrame("records_behind",
		data.NewField("org", nil, []string{r.org}),
		data.NewField("records_behind", nil, []int64{b.Behind}).SetConfig(&data.FieldConfig{
			Description: "Raw call records of this org on Kafka that the transform has not loaded into ClickHouse yet (after the consumer group's committed offsets)."}))
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: "records of org " + r.org + " on " + topicRaw + " after group " + groupTransform + "'s offsets"}
	if b.Capped {
		f.Meta.Notices = []data.Notice{{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("the backlog is larger than the %d records one query reads: records_behind is a lower bound (or offsets without records, such as transaction markers, were skipped)", maxBacklogScan)}}
	}
	return f, nil
}
