package plugin_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/queries"
)

// opsTruth is what the test wrote into the operations tables of one org.
type opsTruth struct {
	lastOK      time.Time
	okRuns      int
	lastStatus  string
	deadAt      []time.Time
	behind      int64
	kafkaBroker string
}

// seedOps records sync runs (the last one failed) and dead letters of org.
func seedOps(t *testing.T, ctx context.Context, st *store.Store, org, provider string, base time.Time) opsTruth {
	t.Helper()
	var tr opsTruth
	for i := 0; i < 3; i++ {
		start := base.Add(time.Duration(i) * 6 * time.Hour)
		r := store.Run{ID: fmt.Sprintf("run-%s-%d", org, i), Org: org, Provider: provider, Started: start, Status: "running"}
		if err := st.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Finished, r.Status, r.Calls = start.Add(10*time.Minute), "ok", 100+i
		if i == 2 {
			r.Status, r.Error = "error", "aircall: 503 upstream"
		} else {
			tr.lastOK, tr.okRuns = r.Finished, tr.okRuns+1
		}
		tr.lastStatus = r.Status
		if err := st.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Written with chosen times (RecordDeadLetters stamps now).
	batch, err := st.Conn().PrepareBatch(ctx, queries.InsertDeadLetters)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		at := base.Add(time.Duration(i*30) * time.Minute)
		if err := batch.Append(org, provider, fmt.Sprint(i), bus.TopicDead, uint32(0), uint64(i), fmt.Sprintf("decode: bad field (%d)", i%2), at); err != nil {
			t.Fatal(err)
		}
		tr.deadAt = append(tr.deadAt, at)
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	return tr
}

// startKafka is an in-process Kafka with the raw topic: records of acme
// and globex, of which the transform group committed the first part.
// It returns the broker and how many acme records are behind.
func startKafka(t *testing.T, ctx context.Context) (string, int64) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, bus.TopicRaw))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(bus.TopicRaw), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := 0; i < 90; i++ {
		org := "acme"
		if i%3 == 0 {
			org = "globex"
		}
		recs = append(recs, &kgo.Record{Partition: int32(i % 3), Key: []byte(fmt.Sprintf("%s/x/%d", org, i)), Value: []byte("sealed"),
			Headers: []kgo.RecordHeader{{Key: bus.HeaderOrg, Value: []byte(org)}}})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Committed: partition 0 up to 10, partition 1 up to 25, partition 2
	// nothing. Records at or after these offsets are behind.
	committed := map[int32]int64{0: 10, 1: 25}
	var behind int64
	for _, r := range recs {
		if r.Offset >= committed[r.Partition] && string(r.Headers[0].Value) == "acme" {
			behind++
		}
	}
	offs := kadm.Offsets{}
	for p, o := range committed {
		offs.Add(kadm.Offset{Topic: bus.TopicRaw, Partition: p, At: o})
	}
	resp, err := kadm.NewClient(cl).CommitOffsets(ctx, bus.GroupTransform, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("committing the transform group's offsets: %v", err)
	}
	return addr, behind
}

// truthMedian is the exact median of vs (the mean of the middle pair).
func truthMedian(vs []int) float64 {
	sort.Ints(vs)
	n := len(vs)
	if n%2 == 1 {
		return float64(vs[n/2])
	}
	return float64(vs[n/2-1]+vs[n/2]) / 2
}

func metricOf(m fixture.Metrics, name string) int {
	return map[string]int{"total_calls": m.TotalCalls, "inbound_calls": m.InboundCalls, "outbound_calls": m.OutboundCalls,
		"avg_duration_sec": m.AvgDurationSec, "after_hours_calls": m.AfterHoursCalls, "escalated_calls": m.EscalatedCalls,
		"resolved_calls": m.ResolvedCalls, "answered_calls": m.AnsweredCalls, "missed_calls": m.MissedCalls, "voicemail_calls": m.VoicemailCalls,
		"talk_time_sec": m.TalkTimeSec, "avg_talk_sec": m.AvgTalkSec, "avg_answer_sec": m.AvgAnswerSec}[name]
}

// checkReviewRows checks team_review / employee_review / employee_trend
// rows against the fixture: each number, the cohort median of each number
// computed here from the truth, and the difference.
func checkReviewRows(t *testing.T, f *data.Frame, o *fixture.Org, cycles map[string]fixture.Cycle) int {
	t.Helper()
	ring := o.Provider == fixture.RingCentral
	cohortOf := map[string]string{}
	for _, e := range o.Employees {
		cohortOf[e.ID] = e.Cohort
	}
	col := func(name string, i int) any {
		fl, idx := f.FieldByName(name)
		if idx < 0 {
			t.Fatalf("frame %s has no field %s", f.Name, name)
		}
		return fl.At(i)
	}
	checked := 0
	for i := 0; i < f.Rows(); i++ {
		c, id := cycles[col("cycle_id", i).(string)], col("employee_id", i).(string)
		truth, _ := o.Truth(c.Start, c.End)
		for _, m := range slices.Concat(plugin.Metrics, plugin.TalkMetrics) {
			var peers []int
			for _, e := range o.Employees {
				if e.Cohort == cohortOf[id] {
					peers = append(peers, metricOf(truth[e.ID], m.Name))
				}
			}
			val, med, diff := col(m.Name, i).(*uint64), col(m.Name+"_median", i).(*float64), col(m.Name+"_vs_median", i).(*float64)
			if ring && m.Name == "escalated_calls" {
				if val != nil || med != nil || diff != nil {
					t.Errorf("%s %s: escalated %v median %v diff %v for RingCentral, want all n/a (null), never 0", c.ID, id, val, med, diff)
				}
				continue
			}
			if m.Name == "avg_answer_sec" {
				// No median; n/a (null) without an answered inbound call
				// with an answer time, always for RingCentral.
				w := truth[id]
				if med != nil || diff != nil || (val == nil) == w.AnswerTimeAvailable || (val != nil && int(*val) != w.AvgAnswerSec) || (ring && val != nil) {
					t.Errorf("%s %s avg_answer_sec: %v median %v diff %v, want %d available %v and no median", c.ID, id, deref(val), derefF(med), derefF(diff), w.AvgAnswerSec, w.AnswerTimeAvailable)
				}
				checked++
				continue
			}
			want, wantMed := metricOf(truth[id], m.Name), truthMedian(peers)
			if val == nil || int(*val) != want || med == nil || *med != wantMed {
				t.Errorf("%s %s %s: %v median %v, want %d median %v", c.ID, id, m.Name, deref(val), derefF(med), want, wantMed)
				continue
			}
			switch {
			case wantMed == 0 && want != 0:
				if diff != nil {
					t.Errorf("%s %s %s: difference %v from a 0 median, want empty", c.ID, id, m.Name, *diff)
				}
			case wantMed == 0:
				if diff == nil || *diff != 0 {
					t.Errorf("%s %s %s: difference %v, want 0", c.ID, id, m.Name, derefF(diff))
				}
			default:
				if w := math.Round((float64(want)-wantMed)/wantMed*1000) / 10; diff == nil || *diff != w {
					t.Errorf("%s %s %s: difference %v, want %v", c.ID, id, m.Name, derefF(diff), w)
				}
			}
			checked++
		}
	}
	return checked
}

func deref(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}

func derefF(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// testNewQueryTypes checks the dashboards' and alert rules' query types
// against the fixture truth and the seeded operations.
func testNewQueryTypes(t *testing.T, p runningPlugin, dsAcme, dsGlobex backend.PluginContext, acme, globex seeded, ops opsTruth) {
	everything := backend.TimeRange{From: acme.org.Start, To: acme.org.End}
	cyclesOf := func(s seeded) map[string]fixture.Cycle {
		m := map[string]fixture.Cycle{}
		for _, c := range s.cycles {
			m[c.ID] = c
		}
		return m
	}
	t.Run("team review, employee review and trend match the fixture truth", func(t *testing.T) {
		for _, s := range []struct {
			name string
			ds   backend.PluginContext
			seeded
		}{{"aircall", dsAcme, acme}, {"ringcentral", dsGlobex, globex}} {
			cyc := cyclesOf(s.seeded)
			var checked int
			for _, c := range s.org.Cycles {
				resp := p.queryData(t, s.ds,
					query("T", map[string]any{"queryType": "team_review", "cycle": c.ID}, everything),
					query("E", map[string]any{"queryType": "employee_review", "cycle": c.ID, "employee": s.org.Employees[1].ID}, everything))
				team := frame(t, resp, "T")
				if team.Rows() != len(s.org.Employees) {
					t.Errorf("%s %s: team review has %d rows, want %d", s.name, c.ID, team.Rows(), len(s.org.Employees))
				}
				checked += checkReviewRows(t, team, s.org, cyc)
				if e := frame(t, resp, "E"); e.Rows() != 1 || checkReviewRows(t, e, s.org, cyc) == 0 {
					t.Errorf("%s %s: employee review has %d rows", s.name, c.ID, e.Rows())
				}
			}
			for _, e := range s.org.Employees[:3] {
				f := frame(t, p.queryData(t, s.ds, query("R", map[string]any{"queryType": "employee_trend", "employee": e.ID}, everything)), "R")
				if f.Rows() != len(s.cycles) {
					t.Errorf("%s %s: trend over %d cycles, want %d", s.name, e.ID, f.Rows(), len(s.cycles))
				}
				if tf, _ := f.FieldByName("time"); tf == nil || tf.Type() != data.FieldTypeTime {
					t.Errorf("%s: trend has no time field", s.name)
				}
				checked += checkReviewRows(t, f, s.org, cyc)
			}
			if checked < 50 {
				t.Errorf("%s: only %d numbers checked", s.name, checked)
			}
		}
	})

	t.Run("calls per week by direction and outcome", func(t *testing.T) {
		e := acme.org.Employees[0]
		tr := backend.TimeRange{From: time.Date(2026, 8, 5, 12, 0, 0, 0, time.UTC), To: time.Date(2026, 9, 9, 0, 0, 0, 0, time.UTC)}
		for _, emp := range []string{e.ID, ""} {
			want := map[string]uint64{}
			for _, c := range acme.org.CallsIn(tr.From, tr.To) {
				if c.Deleted || (emp != "" && c.UserID != e.ProviderUserID) {
					continue
				}
				d := c.StartedAt.UTC()
				d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
				d = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
				want[d.Format("01-02")+" "+c.Direction+" "+c.Outcome]++
			}
			f := frame(t, p.queryData(t, dsAcme, query("W", map[string]any{"queryType": "calls_weekly", "employee": emp}, tr)), "W")
			if f.Meta == nil || f.Meta.Type != data.FrameTypeTimeSeriesWide {
				t.Errorf("calls_weekly frame type %v, want timeseries-wide", f.Meta)
			}
			weeks := f.Fields[0]
			if weeks.Len() != 6 || !weeks.At(0).(time.Time).Equal(time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("%d weeks from %v, want 6 Mondays from 2026-08-03", weeks.Len(), weeks.At(0))
			}
			got := map[string]uint64{}
			for _, fl := range f.Fields[1:] {
				for i := 0; i < fl.Len(); i++ {
					if n := fl.At(i).(uint64); n > 0 {
						got[weeks.At(i).(time.Time).Format("01-02")+" "+fl.Labels["direction"]+" "+fl.Labels["outcome"]] = n
					}
				}
			}
			if !equalMaps(got, want) || len(want) < 6 {
				t.Errorf("employee %q weekly calls %v, want %v", emp, got, want)
			}
		}
	})

	t.Run("data freshness", func(t *testing.T) {
		now := ops.lastOK.Add(90 * time.Minute)
		tr := backend.TimeRange{From: ops.deadAt[0].Add(-time.Hour), To: now}
		resp := p.queryData(t, dsAcme,
			query("S", map[string]any{"queryType": "sync_status"}, tr),
			query("D", map[string]any{"queryType": "dead_letters"}, tr),
			query("K", map[string]any{"queryType": "records_behind"}, tr))
		s := frame(t, resp, "S")
		col := func(n string) any { fl, _ := s.FieldByName(n); return fl.At(0) }
		if col("last_run_status") != ops.lastStatus || !col("last_success").(*time.Time).Equal(ops.lastOK) ||
			*col("hours_since_success").(*float64) != 1.5 || col("successful_runs") != uint64(ops.okRuns) {
			t.Errorf("sync status %v %v %v %v, want %s %s 1.5h %d runs", col("last_run_status"), col("last_success"), derefF(col("hours_since_success").(*float64)), col("successful_runs"), ops.lastStatus, ops.lastOK, ops.okRuns)
		}
		var dead uint64
		d := frame(t, resp, "D")
		for i := 0; i < d.Rows(); i++ {
			dead += d.Fields[1].At(i).(uint64)
		}
		if d.Rows() != 2 || dead != uint64(len(ops.deadAt)) {
			t.Errorf("dead letters: %d reasons, %d records, want 2 and %d", d.Rows(), dead, len(ops.deadAt))
		}
		if k := frame(t, resp, "K"); k.Fields[1].At(0).(int64) != ops.behind {
			t.Errorf("records behind %v, want %d", k.Fields[1].At(0), ops.behind)
		}
		resp = p.queryData(t, dsGlobex, query("K", map[string]any{"queryType": "records_behind"}, tr), query("S", map[string]any{"queryType": "sync_status"}, tr))
		queryErr(t, resp, "K", backend.StatusBadRequest, "jsonData.kafka")
		if s := frame(t, resp, "S"); !strings.Contains(fmt.Sprint(s.Meta.Notices), "never synced") {
			t.Errorf("globex never synced, notices %v", s.Meta.Notices)
		}
	})

	t.Run("alert-shaped queries", func(t *testing.T) {
		testAlertQueries(t, p, dsAcme, dsGlobex, acme, ops)
	})
}

// checkAlertShape fails a frame Grafana alerting would refuse: it accepts
// a time series, or a table of string columns (labels) and exactly one
// numeric column.
func checkAlertShape(t *testing.T, f *data.Frame) {
	t.Helper()
	if f.TimeSeriesSchema().Type != data.TimeSeriesTypeNot {
		return
	}
	var numeric int
	for _, fl := range f.Fields {
		switch {
		case fl.Type().Numeric():
			numeric++
		case fl.Type() != data.FieldTypeString:
			t.Errorf("alert frame %s: field %s is %s, want only string labels and one number", f.Name, fl.Name, fl.Type())
		}
	}
	if numeric != 1 {
		t.Errorf("alert frame %s has %d numeric fields, want exactly 1", f.Name, numeric)
	}
	labels := map[string]bool{}
	for i := 0; i < f.Rows(); i++ {
		var k []string
		for _, fl := range f.Fields {
			if fl.Type() == data.FieldTypeString {
				k = append(k, fl.At(i).(string))
			}
		}
		if key := strings.Join(k, "\x00"); labels[key] {
			t.Errorf("alert frame %s: two rows with labels %q: alerting needs unique label sets", f.Name, k)
		} else {
			labels[key] = true
		}
	}
}

func testAlertQueries(t *testing.T, p runningPlugin, dsAcme, dsGlobex backend.PluginContext, acme seeded, ops opsTruth) {
	to := time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC)
	tr := backend.TimeRange{From: to.Add(-6 * time.Hour), To: to}
	req := func(ds backend.PluginContext, qs ...backend.DataQuery) *backend.QueryDataResponse {
		r := &backend.QueryDataRequest{PluginContext: ds, Queries: qs, Headers: map[string]string{backend.FromAlertHeaderName: "true"}}
		pr, err := p.data.QueryData(callCtx(t), backend.ToProto().QueryDataRequest(r))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := backend.FromProto().QueryDataResponse(pr)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := req(dsAcme,
		query("E", map[string]any{"queryType": "alert_escalated_calls", "hours": 72}, tr),
		query("S", map[string]any{"queryType": "alert_hours_since_sync"}, backend.TimeRange{From: ops.lastOK, To: ops.lastOK.Add(150 * time.Minute)}),
		query("D", map[string]any{"queryType": "alert_dead_letters"}, backend.TimeRange{From: ops.deadAt[0], To: ops.deadAt[3].Add(time.Minute)}),
		query("X", map[string]any{"queryType": "team_review", "cycle": "2026-08"}, tr))
	e := frame(t, resp, "E")
	checkAlertShape(t, e)
	want := map[string]uint64{}
	for _, emp := range acme.org.Employees {
		want[emp.ID] = 0
		for _, c := range acme.org.CallsIn(to.Add(-72*time.Hour), to) {
			if !c.Deleted && c.Escalated && c.UserID == emp.ProviderUserID {
				want[emp.ID]++
			}
		}
	}
	got, some := map[string]uint64{}, false
	for i := 0; i < e.Rows(); i++ {
		n := e.Fields[3].At(i).(*float64)
		got[e.Fields[0].At(i).(string)] = uint64(*n)
		some = some || *n > 0
	}
	if !equalMaps(got, want) || !some {
		t.Errorf("escalated calls per employee in the last 72h %v, want %v", got, want)
	}
	s := frame(t, resp, "S")
	checkAlertShape(t, s)
	if h := s.Fields[1].At(0).(*float64); h == nil || *h != 2.5 {
		t.Errorf("hours since sync %v, want 2.5", derefF(h))
	}
	d := frame(t, resp, "D")
	checkAlertShape(t, d)
	if n := *d.Fields[1].At(0).(*float64); n != 2 { // the last hour: deadAt[2] and deadAt[3]
		t.Errorf("dead letters in the last hour %v, want 2", n)
	}
	queryErr(t, resp, "X", backend.StatusBadRequest, "alert rule cannot use queryType \"team_review\"", "alert_escalated_calls, alert_hours_since_sync, alert_dead_letters")

	resp = req(dsGlobex, query("E", map[string]any{"queryType": "alert_escalated_calls"}, tr),
		query("S", map[string]any{"queryType": "alert_hours_since_sync"}, tr))
	queryErr(t, resp, "E", backend.StatusBadRequest, "ringcentral", "n/a, never 0")
	if s := frame(t, resp, "S"); s.Fields[1].At(0).(*float64) != nil {
		t.Errorf("globex never synced: hours since sync %v, want null (No Data)", *s.Fields[1].At(0).(*float64))
	}
}
