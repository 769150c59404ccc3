package review

import (
	"strings"

	"github.com/phonesignals/phonesignals/internal/store"
)

// The talk-time numbers beside the seed's seven (migration 013; the
// README's definitions table). JSON and CSV always carry them; the text
// block only with Block.Extended (`review --extended`), after the seed's
// lines of each block, so the seed's block stays byte for byte.

// talkJSON are the talk-time fields of the JSON object. AvgAnswerSec is
// null where no answered inbound call has an answer time (always for
// RingCentral); the medians are null below the org's privacy floor, like
// median_total_calls.
type talkJSON struct {
	AnsweredCalls        uint64   `json:"answered_calls"`
	MissedCalls          uint64   `json:"missed_calls"`
	VoicemailCalls       uint64   `json:"voicemail_calls"`
	TalkTimeSec          uint64   `json:"talk_time_sec"`
	AvgTalkSec           uint64   `json:"avg_talk_sec"`
	AvgAnswerSec         *uint64  `json:"avg_answer_sec"`
	AnswerTimeAvailable  bool     `json:"answer_time_available"`
	MedianAnsweredCalls  *float64 `json:"median_answered_calls"`
	MedianMissedCalls    *float64 `json:"median_missed_calls"`
	MedianVoicemailCalls *float64 `json:"median_voicemail_calls"`
	MedianTalkTimeSec    *float64 `json:"median_talk_time_sec"`
	MedianAvgTalkSec     *float64 `json:"median_avg_talk_sec"`
}

// TalkCSVHeader are the talk-time columns of the CSV, after the others.
var TalkCSVHeader = []string{"answered_calls", "missed_calls", "voicemail_calls", "talk_time_sec", "avg_talk_sec", "avg_answer_sec",
	"median_answered_calls", "median_missed_calls", "median_voicemail_calls", "median_talk_time_sec", "median_avg_talk_sec"}

// talkMedianNames are the median lines, in TalkCSVHeader's order.
var talkMedianNames = TalkCSVHeader[6:]

// talkMedians are the cohort's talk medians in talkMedianNames' order;
// nil when the cohort is below the privacy floor.
func (b Block) talkMedians() []float64 {
	if b.MedianNAReason() != "" {
		return nil
	}
	t := b.Baseline.TalkMedians
	return []float64{t.AnsweredCalls, t.MissedCalls, t.VoicemailCalls, t.TalkTimeSec, t.AvgTalkSec}
}

func (b Block) talkJSON() talkJSON {
	t := b.Metrics.Talk
	j := talkJSON{AnsweredCalls: t.AnsweredCalls, MissedCalls: t.MissedCalls, VoicemailCalls: t.VoicemailCalls,
		TalkTimeSec: t.TalkTimeSec, AvgTalkSec: t.AvgTalkSec, AnswerTimeAvailable: t.AnswerTimeAvailable}
	if t.AnswerTimeAvailable {
		a := t.AvgAnswerSec
		j.AvgAnswerSec = &a
	}
	if m := b.talkMedians(); m != nil {
		j.MedianAnsweredCalls, j.MedianMissedCalls, j.MedianVoicemailCalls, j.MedianTalkTimeSec, j.MedianAvgTalkSec = &m[0], &m[1], &m[2], &m[3], &m[4]
	}
	return j
}

// answerText is avg_answer_sec as text: n/a where not available.
func answerText(t store.Talk, na string) string {
	if !t.AnswerTimeAvailable {
		return na
	}
	return u(t.AvgAnswerSec)
}

// talkText writes the [PHONE DATA] lines of --extended.
func (b Block) talkText(w *strings.Builder) {
	if !b.Extended {
		return
	}
	t := b.Metrics.Talk
	line(w, "answered_calls", u(t.AnsweredCalls))
	line(w, "missed_calls", u(t.MissedCalls))
	line(w, "voicemail_calls", u(t.VoicemailCalls))
	line(w, "talk_time_sec", u(t.TalkTimeSec))
	line(w, "avg_talk_sec", u(t.AvgTalkSec))
	line(w, "avg_answer_sec", answerText(t, NotAvailable))
}

// talkMediansText writes the [BASELINES] lines of --extended.
func (b Block) talkMediansText(w *strings.Builder) {
	if !b.Extended {
		return
	}
	m := b.talkMedians()
	for i, name := range talkMedianNames {
		v := NotAvailable
		if m != nil {
			v = FormatMedian(m[i])
		}
		line(w, name, v)
	}
}

// talkCSV are the CSV's talk-time cells: avg_answer_sec and the medians
// empty where n/a.
func (b Block) talkCSV() []string {
	t := b.Metrics.Talk
	out := []string{u(t.AnsweredCalls), u(t.MissedCalls), u(t.VoicemailCalls), u(t.TalkTimeSec), u(t.AvgTalkSec), answerText(t, "")}
	m := b.talkMedians()
	for i := range talkMedianNames {
		v := ""
		if m != nil {
			v = FormatMedian(m[i])
		}
		out = append(out, v)
	}
	return out
}
