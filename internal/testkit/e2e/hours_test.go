package e2e

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/load/aggregate"
	"github.com/phonesignals/phonesignals/transform"
)

// TestWorkingHoursPipeline runs an org in Los Angeles (08:00-18:00
// Mon-Fri) over the November daylight-saving switch through the whole
// pipeline, checks every review number against fixture.TruthWith and the
// README's definition written apart (fixture.LocalHours), then moves the
// org to Paris hours from a past day: the stored calls from then on are
// re-rated, their days recomputed, and the numbers match a truth that
// uses each rule from its own day.
func TestWorkingHoursPipeline(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	o := fixture.Generate(fixture.Spec{Seed: 17, Org: "acme", Employees: 8, UnmappedUsers: 1, Days: 45, CallsPerDay: 6,
		Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)})
	r.configure(o)
	la, err := model.ParseWorkingHours("America/Los_Angeles", "08:00-18:00", "Mon-Fri")
	if err != nil {
		t.Fatal(err)
	}
	laFrom := time.Date(2026, 9, 1, 7, 0, 0, 0, time.UTC)
	if err := r.st.SetHours(ctx, o.Name, laFrom, la, false); err != nil {
		t.Fatal(err)
	}
	now := o.End.Add(24 * time.Hour)
	fake := aircalltest.NewFake(o, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 1_000_000, Now: func() time.Time { return now }})
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	client, err := aircall.New(o.Name, aircall.Config{BaseURL: hs.URL + "/v1", APIID: "id", APIToken: "tok",
		RateLimitPerMinute: 1_000_000, MaxResults: 500, Now: func() time.Time { return now }, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Sync(ctx, ingest.SyncRequest{Org: o.Name, Window: ingest.Window{From: o.Start, To: o.End}, Job: "all"},
		r.pub, r.st.Checkpoints(o.Name), ingest.NoProgress); err != nil {
		t.Fatal(err)
	}
	ld := r.loader()
	c, err := transform.New(transform.Config{Bus: r.bus, Box: r.box, Decoders: providers.Registry().Decoders(),
		Writer: ld, DeadLetters: r.st, MaxBatch: 500, Hours: r.st.NewHoursCache(), SessionTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := c.RunUntilIdle(dctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := ld.Close(ctx); err != nil {
		t.Fatal(err)
	}
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	laTruth := fixture.LocalHours("America/Los_Angeles", 8*60, 18*60, weekdays...)
	r.verifyWith(o, laTruth)
	// The seed's UTC rule would give other numbers: the test can fail.
	utcCount, laCount := 0, 0
	for _, call := range o.Calls {
		if call.AfterHours {
			utcCount++
		}
		if laTruth(call.StartedAt) {
			laCount++
		}
	}
	if utcCount == laCount {
		t.Fatalf("the fixture rates %d calls after hours under both rules: it proves nothing", laCount)
	}

	// Paris hours from 2026-10-20, a day already loaded.
	paris, err := model.ParseWorkingHours("Europe/Paris", "09:00-17:00", "every")
	if err != nil {
		t.Fatal(err)
	}
	parisFrom := time.Date(2026, 10, 20, 0, 0, 0, 0, paris.Location())
	if err := r.st.SetHours(ctx, o.Name, parisFrom, paris, false); err != nil {
		t.Fatal(err)
	}
	until := time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
	if err := r.st.RerateAfterHours(ctx, o.Name, parisFrom, until, paris); err != nil {
		t.Fatal(err)
	}
	agg, err := aggregate.New(r.st.Conn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := agg.Rebuild(ctx, o.Name, aggregate.Range{From: parisFrom.UTC()}); err != nil {
		t.Fatal(err)
	}
	parisTruth := fixture.LocalHours("Europe/Paris", 9*60, 17*60, time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday)
	r.verifyWith(o, func(t time.Time) bool {
		if t.Before(parisFrom) {
			return laTruth(t)
		}
		return parisTruth(t)
	})
	sched, err := r.st.Hours(ctx, o.Name)
	if err != nil || len(sched) != 2 || sched.At(parisFrom.Add(-time.Second)).String() != la.String() || sched.At(parisFrom).String() != paris.String() {
		t.Fatalf("stored schedule %v, %v", sched, err)
	}
}
