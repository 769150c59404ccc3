package aircall

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/phonesignals/phonesignals/internal/model"
)

// Decode decodes one raw Aircall call (a REST call object or a webhook's
// data object) into v, Provider.Decode. It fails, naming the field, when
// the id or started_at is missing or the direction is not
// inbound/outbound; the transform dead-letters such records.
//
// Status follows the seed: "voicemail" when a voicemail was left, "missed"
// for a finished call nobody answered, else Aircall's status. Version ranks
// the state (initial < answered < done) above the observation time in
// milliseconds, so a late-delivered webhook of an earlier state never
// overrides a later one and, within a state, the latest observation wins.
//
// It reads the body in one pass, without encoding/json and without
// allocating: strings alias the body (or v's scratch buffer when they had
// escapes). Bodies in the shapes the REST API and webhooks normally send
// take this path; anything else (ids or times as strings, floats, a user
// given as a bare id, case-variant keys, any error) is decoded again by
// decodeTolerant, the encoding/json fallback, so every body gets the same
// result and the same error either way (TestFastPathMatchesTolerant).
func Decode(raw model.RawCall, v *model.Call) error {
	v.Reset()
	if (raw.Event == "" || hasCallPrefix(raw.Event)) && decodeFast(raw, v) {
		return nil
	}
	return decodeTolerant(raw, v)
}

func hasCallPrefix(e string) bool { return len(e) >= 5 && e[:5] == "call." }

// errSlow sends the body to the tolerant path; it never reaches a caller.
var errSlow = errors.New("aircall: not on the fast path")

// fields seen, to send duplicate keys to the tolerant path (encoding/json's
// last-one-wins on arrays is not worth copying).
const (
	seenComments = 1 << iota
	seenTags
)

// fastFields are the fields decodeFast reads before it lays them out.
type fastFields struct {
	id, status, voicemail    []byte
	started, answered, ended optInt
	dur                      optInt
}

func decodeFast(raw model.RawCall, v *model.Call) bool {
	s := scanner{b: raw.Body, v: v}
	f, ok := s.fields()
	if !ok {
		return false
	}
	rank, ok := f.rank(v.Direction)
	if !ok {
		// Mixed case, blanks, an unknown status or a bad direction:
		// the tolerant path lower-cases, or names the field in its error.
		return false
	}
	v.CallID, v.ProviderStatus = f.id, f.status
	v.StartedAt = f.started.v
	v.AnsweredAt, v.HasAnswered = f.answered.v, f.answered.ok
	v.EndedAt, v.HasEnded = f.ended.v, f.ended.ok
	if f.dur.ok && f.dur.v > 0 {
		v.DurationSec = uint32(min(f.dur.v, math.MaxUint32))
	}
	voicemail := len(bytes.TrimSpace(f.voicemail)) > 0
	v.Missed, v.Voicemail = missedVoicemail(string(v.Direction) == "inbound", rank == 3, f.answered.ok, voicemail)
	v.AnswerTimeAvailable = true
	switch {
	case voicemail:
		v.Status = statusVoicemail
	case rank == 3 && !f.answered.ok:
		v.Status = statusMissed
	default:
		v.Status = rankStatus[rank]
	}
	v.EscalationAvailable = true
	// As decodeTolerant sets them.
	v.Connected, v.Completed = f.answered.ok, string(f.status) == "done"
	var ms uint64
	if !raw.ObservedAt.IsZero() && raw.ObservedAt.UnixMilli() > 0 {
		ms = uint64(raw.ObservedAt.UnixMilli()) & observedMask
	}
	v.Version = rank<<48 | ms
	return true
}

// fields reads the body's top-level object; ok is false when the body
// needs the tolerant path.
func (s *scanner) fields() (f fastFields, ok bool) {
	s.ws()
	if !s.consume('{') {
		return f, false
	}
	seen := 0
	for first := true; ; first = false {
		s.ws()
		if s.consume('}') {
			break
		}
		if !first && (!s.consume(',') || !s.wsThen()) {
			return f, false
		}
		key, err := s.str()
		if err == nil {
			err = s.colon()
		}
		if err == nil {
			err = s.field(key, &f, &seen)
		}
		if err != nil {
			return f, false
		}
	}
	s.ws()
	return f, s.i == len(s.b) && len(f.id) > 0 && f.started.ok
}

func (s *scanner) colon() error {
	s.ws()
	if !s.consume(':') {
		return errSlow
	}
	s.ws()
	return nil
}

// field reads the value of one top-level key.
func (s *scanner) field(key []byte, f *fastFields, seen *int) (err error) {
	v := s.v
	switch string(key) {
	case "id":
		f.id, err = s.id()
	case "direction":
		v.Direction, err = s.flexStr()
	case "status":
		f.status, err = s.flexStr()
	case "voicemail":
		f.voicemail, err = s.flexStr()
	case "missed_call_reason":
		v.MissedReason, err = s.flexStr()
	case "started_at":
		f.started, err = s.int()
	case "answered_at":
		f.answered, err = s.int()
	case "ended_at":
		f.ended, err = s.int()
	case "duration":
		f.dur, err = s.int()
	case "user":
		v.UserID, err = s.user()
	case "comments":
		err = s.items(seen, seenComments, v.AddNote)
	case "tags":
		err = s.items(seen, seenTags, v.AddTag)
	default:
		if foldsToKnown(key) {
			return errSlow
		}
		err = s.skip(0)
	}
	return err
}

// rank is the status's rank (statusRank, with the status
// inferred from the times when absent); ok is false when the status or
// the direction is not in its exact lower-case form.
func (f *fastFields) rank(direction []byte) (uint64, bool) {
	switch string(direction) {
	case "inbound", "outbound":
	default:
		return 0, false
	}
	switch string(f.status) {
	case "initial":
		return 1, true
	case "answered":
		return 2, true
	case "done":
		return 3, true
	case "":
		switch {
		case f.ended.ok:
			return 3, true
		case f.answered.ok:
			return 2, true
		}
		return 1, true
	}
	return 0, false
}

var (
	statusVoicemail = []byte("voicemail")
	statusMissed    = []byte("missed")
	rankStatus      = [4][]byte{nil, []byte("initial"), []byte("answered"), []byte("done")}
	knownKeys       = []string{"id", "direction", "status", "voicemail", "missed_call_reason", "started_at",
		"answered_at", "ended_at", "duration", "user", "comments", "tags"}
)

// foldsToKnown reports whether key matches a field only case-insensitively,
// as encoding/json would match it.
func foldsToKnown(key []byte) bool {
	for _, k := range knownKeys {
		if len(k) == len(key) && bytes.EqualFold([]byte(k), key) {
			return true
		}
	}
	return false
}

// scanner reads one JSON value at a time from b.
type scanner struct {
	b []byte
	i int
	v *model.Call
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// wsThen skips blanks and reports whether input remains.
func (s *scanner) wsThen() bool { s.ws(); return s.i < len(s.b) }

func (s *scanner) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// str reads a string. Text with escapes is unescaped into v's scratch;
// invalid UTF-8 (which encoding/json would replace) goes to the tolerant path.
func (s *scanner) str() ([]byte, error) {
	if !s.consume('"') {
		return nil, errSlow
	}
	start := s.i
	ascii := true
	// Eight plain bytes at a time: no quote, backslash, control or
	// non-ASCII byte among them.
	for s.i+8 <= len(s.b) && !special(binary.LittleEndian.Uint64(s.b[s.i:])) {
		s.i += 8
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(out) {
				return nil, errSlow
			}
			return out, nil
		case c == '\\':
			return s.strEscaped(start)
		case c < 0x20:
			return nil, errSlow
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return nil, errSlow
}

// special reports whether any byte of w is a quote, a backslash, below
// 0x20 or above 0x7f (the classic "has zero byte" bit trick per test).
func special(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q, bs := w^(lo*'"'), w^(lo*'\\')
	return ((q-lo)&^q|(bs-lo)&^bs|(w-lo*0x20)&^w|w)&hi != 0
}

// strEscaped finishes a string that has escapes, from its start.
func (s *scanner) strEscaped(start int) ([]byte, error) {
	buf := append(make([]byte, 0, 2*(s.i-start)+16), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(buf) {
				return nil, errSlow
			}
			return s.v.Own(buf), nil
		case c < 0x20:
			return nil, errSlow
		case c != '\\':
			buf = append(buf, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return nil, errSlow
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, errSlow
			}
			if utf16.IsSurrogate(r) {
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					s.i += 2
					r2, ok := s.hex4()
					if !ok {
						return nil, errSlow
					}
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, errSlow
		}
	}
	return nil, errSlow
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// flexStr reads a string or null; other types take the tolerant path.
func (s *scanner) flexStr() ([]byte, error) {
	if s.null() {
		return nil, nil
	}
	return s.str()
}

// id reads an integer id or a string id without surrounding blanks.
func (s *scanner) id() ([]byte, error) {
	switch c := s.peek(); {
	case c == 'n':
		if s.null() {
			return nil, nil
		}
	case c == '"':
		b, err := s.str()
		if err != nil || len(b) == 0 || len(bytes.TrimSpace(b)) != len(b) {
			return nil, errSlow
		}
		return b, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		if _, err := s.int(); err != nil {
			return nil, err
		}
		return s.b[start:s.i], nil
	}
	return nil, errSlow
}

// optInt is an optional integer.
type optInt struct {
	v  int64
	ok bool
}

// int reads an integer (at most 18 digits, no fraction or exponent) or
// null; anything else takes the tolerant path.
func (s *scanner) int() (optInt, error) {
	if s.null() {
		return optInt{}, nil
	}
	neg := s.consume('-')
	start := s.i
	var n int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		n = n*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || digits > 18 || (digits > 1 && s.b[start] == '0') {
		return optInt{}, errSlow
	}
	if c := s.peek(); c == '.' || c == 'e' || c == 'E' {
		return optInt{}, errSlow
	}
	if neg {
		n = -n
	}
	return optInt{v: n, ok: true}, nil
}

// user reads {"id": ...} (other keys skipped) or null.
func (s *scanner) user() ([]byte, error) {
	if s.null() {
		return nil, nil
	}
	if !s.consume('{') {
		return nil, errSlow
	}
	var id []byte
	err := s.object(func(key []byte) error {
		if string(key) == "id" {
			var err error
			id, err = s.id()
			return err
		}
		if len(key) == 2 && bytes.EqualFold(key, []byte("id")) {
			return errSlow
		}
		return s.skip(1)
	})
	return id, err
}

// object reads the members of an object whose '{' was consumed, calling
// f with the scanner at each value.
func (s *scanner) object(f func(key []byte) error) error {
	for first := true; ; first = false {
		s.ws()
		if s.consume('}') {
			return nil
		}
		if !first && (!s.consume(',') || !s.wsThen()) {
			return errSlow
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if !s.consume(':') {
			return errSlow
		}
		s.ws()
		if err := f(key); err != nil {
			return err
		}
	}
}

// items reads comments or tags: null, or an array of {"content"} or
// {"name"} objects or strings; add receives each text.
func (s *scanner) items(seen *int, bit int, add func([]byte)) error {
	if *seen&bit != 0 {
		return errSlow
	}
	*seen |= bit
	if s.null() {
		return nil
	}
	if !s.consume('[') {
		return errSlow
	}
	for first := true; ; first = false {
		s.ws()
		if s.consume(']') {
			return nil
		}
		if !first && (!s.consume(',') || !s.wsThen()) {
			return errSlow
		}
		switch s.peek() {
		case '"':
			t, err := s.str()
			if err != nil {
				return err
			}
			add(t)
		case '{':
			s.i++
			var name, content []byte
			err := s.object(func(key []byte) error {
				var err error
				switch string(key) {
				case "name":
					name, err = s.flexStr()
				case "content":
					content, err = s.flexStr()
				default:
					if bytes.EqualFold(key, []byte("name")) || bytes.EqualFold(key, []byte("content")) {
						return errSlow
					}
					err = s.skip(1)
				}
				return err
			})
			if err != nil {
				return err
			}
			if len(content) == 0 {
				content = name
			}
			add(content)
		case 'n':
			if !s.null() {
				return errSlow
			}
		default:
			return errSlow
		}
	}
}

// skip passes over one value, checking it as strictly as encoding/json.
func (s *scanner) skip(depth int) error {
	if depth > 200 {
		return errSlow
	}
	switch c := s.peek(); {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{':
		s.i++
		return s.object(func([]byte) error { return s.skip(depth + 1) })
	case c == '[':
		s.i++
		for first := true; ; first = false {
			s.ws()
			if s.consume(']') {
				return nil
			}
			if !first && (!s.consume(',') || !s.wsThen()) {
				return errSlow
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return errSlow
}

func (s *scanner) literal(l string) error {
	if len(s.b)-s.i >= len(l) && string(s.b[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return nil
	}
	return errSlow
}

// number passes over a JSON number, following its grammar.
func (s *scanner) number() error {
	s.consume('-')
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.peek() == '0' {
		s.i++
	} else if digits() == 0 {
		return errSlow
	}
	if s.consume('.') && digits() == 0 {
		return errSlow
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if digits() == 0 {
			return errSlow
		}
	}
	return nil
}
