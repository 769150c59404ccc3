package callgen

import (
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

// Expected is what one generated call must look like in raw_signals,
// computed from what the generator put into the body, not by the rules'
// code.
type Expected struct {
	UserID      string
	StartedAt   int64
	Direction   string
	DurationSec uint32
	Status      string
	AfterHours  uint8
	Escalated   uint8
	Resolved    uint8
	Version     uint64
}

// Filler words never contain a rule keyword, so the generator knows every
// flag without running the rules.
var filler = strings.Fields(`customer called about the invoice asked for details on plan pricing
	walked through setup of the mobile app shared a link to the help center discussed renewal
	options and contract terms will call back next week left a note for the account owner
	confirmed shipping address reviewed usage report explained the new dashboard checked
	billing contact updated phone number scheduled a demo for Tuesday talked about onboarding
	team size and seats needed questions on API limits and webhooks noted feedback on search`)

var (
	escalationWords = []string{"escalate", "Escalated", "URGENT", "manager", "Complaint", "refund", "escalation"}
	resolutionWords = []string{"resolved", "Fixed", "SATISFIED"}
	plainTags       = []string{"billing", "vip", "follow-up", "new-lead", "renewal", "onboarding"}
	firstNames      = []string{"Ada", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro"}
	lastNames       = []string{"Lovelace", "Okafor", "Dubois", "Ivanov", "Lindqvist", "Haddad", "Hopper", "Tanaka"}
)

// Generator makes a deterministic stream of Aircall-like raw calls.
type Generator struct {
	rng        *rand.Rand
	orgs       int
	observedAt time.Time
	start      time.Time
	next       int64
}

// NewGenerator returns a generator spreading calls over orgs orgs and the
// 90 days before observedAt.
func NewGenerator(seed uint64, orgs int, observedAt time.Time) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), orgs: orgs,
		observedAt: observedAt.UTC().Truncate(time.Millisecond), start: observedAt.Add(-90 * 24 * time.Hour).UTC(), next: 1_000_000_000}
}

// BadEvery makes one call in BadEvery unusable (no direction), to check
// that dead letters still work under load.
const BadEvery = 10_000

// Next returns the next raw call, its expected row, and whether it must be
// dead-lettered instead of loaded.
func (g *Generator) Next() (model.RawCall, Expected, bool) {
	r := g.rng
	g.next += 1 + int64(r.IntN(3))
	id := g.next
	org := "org" + strconv.Itoa(1+int(id%int64(g.orgs)))
	started := g.start.Add(time.Duration(r.Int64N(int64(89 * 24 * time.Hour)))).Truncate(time.Second)
	inbound := r.IntN(2) == 0
	answered := r.IntN(4) != 0
	voicemail := inbound && !answered && r.IntN(3) == 0
	userID := ""
	if answered || !inbound {
		userID = strconv.Itoa(100000 + r.IntN(400))
	}
	dur := uint32(0)
	if answered {
		dur = uint32(20 + r.IntN(900))
	}
	e := Expected{UserID: userID, StartedAt: started.Unix(), DurationSec: dur, Direction: "outbound",
		Version: 3<<48 | uint64(g.observedAt.UnixMilli())&(1<<48-1)}
	if inbound {
		e.Direction = "inbound"
	}
	if h := started.Hour(); h < 8 || h >= 18 {
		e.AfterHours = 1
	}
	switch {
	case voicemail:
		e.Status = "voicemail"
	case !answered:
		e.Status = "missed"
	default:
		e.Status = "done"
		e.Resolved = 1
	}
	var notes []string
	if r.IntN(10) < 6 {
		notes = g.notes(&e)
	}
	var tags []string
	for n := r.IntN(3); n > 0; n-- {
		if r.IntN(12) == 0 {
			tags = append(tags, "Urgent")
			e.Escalated = 1
		} else {
			tags = append(tags, plainTags[r.IntN(len(plainTags))])
		}
	}
	bad := id%BadEvery == 0
	b := make([]byte, 0, 1024)
	b = g.body(b, id, started, e, answered, voicemail, notes, tags, bad)
	raw := model.RawCall{Org: org, Provider: fixture.Aircall, CallID: strconv.FormatInt(id, 10),
		Source: model.SourcePoll, ObservedAt: g.observedAt, Body: b}
	return raw, e, bad
}

// notes returns 1 to 3 comments of 0 to 500 bytes in total, cut at word
// boundaries, some with a keyword in any case, and sets the flags they
// imply.
func (g *Generator) notes(e *Expected) []string {
	r := g.rng
	size := r.IntN(501)
	var words []string
	n := 0
	add := func(w string) { words = append(words, w); n += len(w) + 1 }
	if r.IntN(8) == 0 {
		add(escalationWords[r.IntN(len(escalationWords))])
		e.Escalated = 1
	}
	if r.IntN(4) == 0 {
		add(resolutionWords[r.IntN(len(resolutionWords))])
		e.Resolved = 1
	}
	for n < size {
		add(filler[r.IntN(len(filler))])
	}
	r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	parts := 1 + r.IntN(3)
	out := make([]string, 0, parts)
	for i := 0; i < parts; i++ {
		out = append(out, strings.Join(words[i*len(words)/parts:(i+1)*len(words)/parts], " "))
	}
	return out
}

func (g *Generator) body(b []byte, id int64, started time.Time, e Expected, answered, voicemail bool, notes, tags []string, bad bool) []byte {
	r := g.rng
	ids := strconv.FormatInt(id, 10)
	// One call in 100 comes the way webhooks and older API versions send
	// fields (id as a string, times as numeric strings): the slow path.
	flex := r.IntN(100) == 0
	b = append(b, `{"id":`...)
	if flex {
		b = strconv.AppendQuote(b, ids)
	} else {
		b = append(b, ids...)
	}
	b = append(b, `,"direction":`...)
	if !bad {
		b = strconv.AppendQuote(b, e.Direction)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"status":"done","missed_call_reason":`...)
	if !answered {
		b = append(b, `"no_available_agent"`...)
	} else {
		b = append(b, "null"...)
	}
	appendTime := func(b []byte, key string, t int64) []byte {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `":`...)
		if flex {
			return strconv.AppendQuote(b, strconv.FormatInt(t, 10))
		}
		return strconv.AppendInt(b, t, 10)
	}
	b = appendTime(b, "started_at", started.Unix())
	end := started.Unix() + 15
	if answered {
		b = appendTime(b, "answered_at", started.Unix()+int64(3+r.IntN(20)))
		end = started.Unix() + int64(e.DurationSec)
	} else {
		b = append(b, `,"answered_at":null`...)
	}
	b = appendTime(b, "ended_at", end)
	b = append(b, `,"duration":`...)
	b = strconv.AppendUint(b, uint64(e.DurationSec), 10)
	if voicemail {
		b = append(b, `,"voicemail":"https://voicemails.aircall.io/calls/`...)
		b = append(b, ids...)
		b = append(b, `.mp3"`...)
	} else {
		b = append(b, `,"voicemail":null`...)
	}
	return g.bodyTail(b, id, end, e, notes, tags)
}

// bodyTail appends the caller, user, number, tags and comments.
func (g *Generator) bodyTail(b []byte, id, end int64, e Expected, notes, tags []string) []byte {
	r := g.rng
	b = append(b, `,"raw_digits":"+1 415-555-0`...)
	b = strconv.AppendInt(b, int64(100+r.IntN(900)), 10)
	b = append(b, '"')
	if e.UserID != "" {
		fn, ln := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		b = append(b, `,"user":{"id":`...)
		b = append(b, e.UserID...)
		b = append(b, `,"name":"`...)
		b = append(b, fn+" "+ln...)
		b = append(b, `","email":"`...)
		b = append(b, strings.ToLower(fn+"."+ln)...)
		b = append(b, `@example.com","available":true}`...)
	} else {
		b = append(b, `,"user":null`...)
	}
	b = append(b, `,"archived":false,"number":{"id":41,"digits":"+1 415-555-0100"}`...)
	b = append(b, `,"tags":[`...)
	for i, t := range tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, int64(200+i), 10)
		b = append(b, `,"name":`...)
		b = strconv.AppendQuote(b, t)
		b = append(b, `,"color":"#00B388"}`...)
	}
	b = append(b, `],"comments":[`...)
	for i, n := range notes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, id*10+int64(i), 10)
		b = append(b, `,"content":`...)
		b = strconv.AppendQuote(b, n)
		b = append(b, `,"posted_at":`...)
		b = strconv.AppendInt(b, end+60, 10)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	return b
}
