package plugin

import (
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/internal/store"
)

// TalkMetrics are the talk-time numbers beside the seed's seven (issue 20,
// section 4; the README's definitions table), in the review's order. The
// review frames carry each with its cohort median and difference, as the
// seven; avg_answer_sec has no median.
var TalkMetrics = []Metric{
	{Name: "answered_calls", Title: "Answered calls", Definition: "Calls in total_calls that were answered, either direction: Aircall answered_at set and no voicemail left; RingCentral result Call connected or Accepted."},
	{Name: "missed_calls", Title: "Missed calls", HigherIsWorse: true, Definition: "Inbound calls in total_calls that reached the employee and were not answered: Aircall inbound calls that ended without answered_at or with a voicemail left (Aircall drops the user of most unanswered calls, which then count for nobody); RingCentral inbound results Missed, Voicemail, Rejected, Declined, No Answer and Busy."},
	{Name: "voicemail_calls", Title: "Voicemails", HigherIsWorse: true, Definition: "Missed calls in which the caller left a voicemail: Aircall voicemail set; RingCentral result Voicemail."},
	{Name: "talk_time_sec", Title: "Talk time", Unit: "s", Definition: "Total talk time in seconds of the answered calls: Aircall ended_at - answered_at (0 while the call lasts or if it ended before its answer time); RingCentral, whose call log has no answer time, the connected call's duration (from its start, so it may include ringing)."},
	{Name: "avg_talk_sec", Title: "Average talk time", Unit: "s", Definition: "talk_time_sec / answered_calls, rounded half away from zero; 0 with no answered call."},
	{Name: "avg_answer_sec", Title: "Average time to answer", Unit: "s", HigherIsWorse: true, NA: true, Definition: "Mean of answered_at - started_at in seconds over the answered inbound calls, rounded half away from zero. n/a (null), never 0, when there is none: always for RingCentral, whose call log has no answer time. No cohort median (its n/a employees would leave a median over other people than cohort_size)."},
}

// talkValue is a talk metric's number in m: ok is false when it is n/a,
// known false when name is not a talk metric.
func talkValue(m store.Metrics, name string) (v uint64, ok, known bool) {
	t := m.Talk
	switch name {
	case "answered_calls":
		return t.AnsweredCalls, true, true
	case "missed_calls":
		return t.MissedCalls, true, true
	case "voicemail_calls":
		return t.VoicemailCalls, true, true
	case "talk_time_sec":
		return t.TalkTimeSec, true, true
	case "avg_talk_sec":
		return t.AvgTalkSec, true, true
	case "avg_answer_sec":
		return t.AvgAnswerSec, t.AnswerTimeAvailable, true
	}
	return 0, false, false
}

// talkMedian is a talk metric's cohort median in c, as talkValue.
func talkMedian(c store.CohortMedians, name string) (v float64, ok, known bool) {
	t := c.Talk
	switch name {
	case "answered_calls":
		return t.AnsweredCalls, true, true
	case "missed_calls":
		return t.MissedCalls, true, true
	case "voicemail_calls":
		return t.VoicemailCalls, true, true
	case "talk_time_sec":
		return t.TalkTimeSec, true, true
	case "avg_talk_sec":
		return t.AvgTalkSec, true, true
	case "avg_answer_sec":
		return 0, false, true
	}
	return 0, false, false
}

// talkFields are the talk metrics of the employee_metrics frame, one
// value per employee (avg_answer_sec null where n/a), and
// answer_time_available.
func talkFields(ms []store.Metrics) []*data.Field {
	var out []*data.Field
	for _, mt := range TalkMetrics {
		vals := make([]*uint64, len(ms))
		for i, m := range ms {
			if v, ok, _ := talkValue(m, mt.Name); ok {
				vals[i] = &v
			}
		}
		cfg := &data.FieldConfig{Description: mt.Definition, Unit: mt.Unit}
		if mt.NA {
			cfg.NoValue = naText
		}
		out = append(out, data.NewField(mt.Name, nil, vals).SetConfig(cfg))
	}
	avail := make([]bool, len(ms))
	for i, m := range ms {
		avail[i] = m.AnswerTimeAvailable
	}
	return append(out, data.NewField("answer_time_available", nil, avail).SetConfig(&data.FieldConfig{
		Description: "Whether avg_answer_sec is a number: false (n/a) when no answered inbound call has an answer time (always for RingCentral)."}))
}

// talkMedianFields are the cohort_baselines frame's talk medians, null
// below the org's privacy floor like median_total_calls.
func talkMedianFields(bs []store.Baseline, floor int) []*data.Field {
	names := []string{"median_answered_calls", "median_missed_calls", "median_voicemail_calls", "median_talk_time_sec", "median_avg_talk_sec"}
	cols := make([][]*float64, len(names))
	for j := range cols {
		cols[j] = make([]*float64, len(bs))
	}
	for i, b := range bs {
		if store.MedianNA(b.Size, floor) != "" {
			continue
		}
		t := b.TalkMedians
		for j, v := range []float64{t.AnsweredCalls, t.MissedCalls, t.VoicemailCalls, t.TalkTimeSec, t.AvgTalkSec} {
			cols[j][i] = &v
		}
	}
	out := make([]*data.Field, len(names))
	for j, n := range names {
		out[j] = data.NewField(n, nil, cols[j]).SetConfig(&data.FieldConfig{NoValue: naText, Description: MedianNADefinition})
	}
	return out
}
