package transform

import "strings"

// The rules over Arrow arrays: the notes and tags columns are searched
// row by row, straight from their value buffers, for all keywords of a
// rule at once (keywordSet), in any ASCII case; this replaces one
// strings.ToLower per note and one strings.Contains per keyword. Keywords
// are lower-case ASCII letters (TestKeywordsFold), so ASCII case folding
// finds what strings.ToLower would: the only non-ASCII letters that
// lower-case into ASCII are the Kelvin sign (to k) and the dotted capital
// I (to i plus a combining dot), and no keyword holds a k or ends in i.

var (
	escalationKW = newKeywordSet(EscalationKeywords)
	resolutionKW = newKeywordSet(ResolutionKeywords)
)

// keywordSet is a list of keywords searched with Wu-Manber's shift table
// over byte pairs: the window is as long as the shortest keyword, and the
// pair ending it says how far the window may jump; most pairs of ordinary
// text let it jump most of its length, so most bytes are never looked at.
// The table holds every case variant of the keywords' pairs, so the text
// needs no lower-casing first.
type keywordSet struct {
	kws   [][]byte
	m     int
	shift [1 << 16]uint8
}

// pair is the table index of two adjacent bytes.
func pair(a, b byte) uint16 { return uint16(a) | uint16(b)<<8 }

func newKeywordSet(ss []string) *keywordSet {
	k := &keywordSet{m: 255}
	for _, s := range ss {
		if len(s) < 2 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz") != "" {
			panic("transform: keyword " + s + " must be two or more lower-case ASCII letters")
		}
		k.kws = append(k.kws, []byte(s))
		k.m = min(k.m, len(s))
	}
	for i := range k.shift {
		k.shift[i] = uint8(k.m - 1)
	}
	for _, kw := range k.kws {
		for j := 1; j < k.m; j++ {
			for _, a := range [2]byte{kw[j-1], kw[j-1] - 'a' + 'A'} {
				for _, b := range [2]byte{kw[j], kw[j] - 'a' + 'A'} {
					k.shift[pair(a, b)] = min(k.shift[pair(a, b)], uint8(k.m-1-j))
				}
			}
		}
	}
	return k
}

// contains reports whether t holds a keyword, in any ASCII case.
func (k *keywordSet) contains(t []byte) bool {
	for pos := k.m - 1; pos < len(t); {
		s := k.shift[pair(t[pos-1], t[pos])]
		if s > 0 {
			pos += int(s)
			continue
		}
		if k.startsAt(t[pos-k.m+1:]) {
			return true
		}
		pos++
	}
	return false
}

// startsAt reports whether a keyword starts t, in any ASCII case: for a
// lower-case letter c, b|0x20 == c holds only for b == c and its capital.
func (k *keywordSet) startsAt(t []byte) bool {
next:
	for _, kw := range k.kws {
		if len(t) < len(kw) {
			continue
		}
		for i, c := range kw {
			if t[i]|0x20 != c {
				continue next
			}
		}
		return true
	}
	return false
}

// matchColumn sets out[i] to 1 for every row i of a string column whose
// text holds a keyword of set; values and offsets are as Arrow's
// ValueBytes and ValueOffsets give them (values starts at offsets[0]). It
// allocates nothing.
func matchColumn(values []byte, offsets []int32, set *keywordSet, out []uint8) {
	if len(offsets) < 2 {
		return
	}
	base := int(offsets[0])
	for i := range len(offsets) - 1 {
		lo, hi := int(offsets[i])-base, int(offsets[i+1])-base
		if out[i] == 0 && hi-lo >= set.m && set.contains(values[lo:hi]) {
			out[i] = 1
		}
	}
}

// afterHoursKernel sets out[i] when the UNIX second ts[i] falls before
// businessStartHour or at/after businessEndHour, UTC.
func afterHoursKernel(ts []int64, out []uint8) {
	for i, t := range ts {
		s := t % 86400
		if s < 0 {
			s += 86400
		}
		h := s / 3600
		out[i] = u8(h < businessStartHour || h >= businessEndHour)
	}
}
