package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/phonesignals/phonesignals/ingest"
)

// Throttles. A terminal line redraws at most five times a second, enough to
// look live without flooding a slow terminal; plain output prints a line
// at least every PlainEvery while updates come, and for a finished window
// at most once per PlainMinGap, so a fast sync of many small windows does
// not write thousands of log lines.
const (
	TerminalEvery = 200 * time.Millisecond
	PlainEvery    = 5 * time.Second
	PlainMinGap   = time.Second
)

const barWidth = 20

// Reporter implements ingest.Progress. It is safe for concurrent Update
// calls, as a sync may report from several goroutines.
type Reporter struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	tty   bool
	now   func() time.Time
	width func() int
	// events, when w is an Events, receives the status as log records
	// instead of text lines.
	events *slog.Logger

	start    time.Time
	st       ingest.Status
	have     bool      // an Update has arrived
	waitFrom time.Time // when st.Waiting began, for the countdown

	out         bool      // a line or redraw has been written
	lastOut     time.Time // when
	lastWindows int       // WindowsDone at the last plain line
	lastPrinted ingest.Status
	lineOpen    bool        // a terminal line is drawn and not ended
	timer       *time.Timer // pending terminal redraw
	done        bool
}

var _ ingest.Progress = (*Reporter)(nil)

// Option changes how New sets a Reporter up.
type Option func(*Reporter)

// WithClock replaces time.Now, so tests can drive the throttles and the
// rate and ETA figures deterministically.
func WithClock(now func() time.Time) Option {
	return func(r *Reporter) { r.now = now }
}

// WithTerminal forces terminal (true) or plain (false) output instead of
// detecting it, for a --progress flag or tests.
func WithTerminal(tty bool) Option {
	return func(r *Reporter) { r.tty = tty }
}

// New returns a Reporter writing to w, each line starting with label (the
// provider and org, say). It redraws a line in place when w is a terminal
// (a character device, and TERM is not "dumb"), logs records when w is an
// Events, and prints plain lines otherwise.
func New(w io.Writer, label string, opts ...Option) *Reporter {
	r := &Reporter{w: w, label: label, tty: isTerminal(w), now: time.Now}
	r.width = func() int { return terminalWidth(w) }
	for _, o := range opts {
		o(r)
	}
	if ev, ok := w.(Events); ok {
		r.events, r.tty = ev.Logger, false
	}
	r.start = r.now()
	return r
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// terminalWidth is the width of w's terminal, else $COLUMNS, else 80: a
// line longer than the terminal wraps and \r then redraws only its tail.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n := fileWidth(f); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

// Update records s and shows it if the throttle allows; a status held back
// on a terminal is drawn shortly after, so the line never stays stale.
func (r *Reporter) Update(s ingest.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	now := r.now()
	waitStarted := s.Waiting > 0 && s.Waiting != r.st.Waiting
	if waitStarted {
		r.waitFrom = now
	}
	r.st, r.have = s, true

	if r.tty {
		if !r.out || waitStarted || now.Sub(r.lastOut) >= TerminalEvery {
			r.draw(now)
		} else {
			r.schedule(TerminalEvery - now.Sub(r.lastOut))
		}
		return
	}
	since := now.Sub(r.lastOut)
	switch {
	case !r.out,
		since >= PlainEvery,
		waitStarted && since >= PlainMinGap,
		s.WindowsDone != r.lastWindows && since >= PlainMinGap:
		r.printLine(now)
	}
}

// Done shows the final status, ends the line and prints summary (if not
// empty) on a line of its own. Updates after Done are ignored.
func (r *Reporter) Done(summary string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	now := r.now()
	if r.have {
		// The final figures are the ones worth keeping: no countdown.
		r.st.Waiting = 0
		if r.tty {
			r.draw(now)
		} else if !r.out || r.st != r.lastPrinted {
			r.printLine(now)
		}
	}
	if r.lineOpen {
		io.WriteString(r.w, "\n")
		r.lineOpen = false
	}
	switch {
	case summary == "":
	case r.events != nil:
		r.events.Info(summary, "task", r.label)
	default:
		fmt.Fprintf(r.w, "%s: %s\n", r.label, summary)
	}
}

// schedule arranges a redraw after d unless one is pending; mu is held.
func (r *Reporter) schedule(d time.Duration) {
	if r.timer != nil {
		return
	}
	r.timer = time.AfterFunc(d, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.timer = nil
		if !r.done {
			r.draw(r.now())
		}
	})
}

// draw redraws the terminal line; mu is held. While a rate-limit wait
// runs it redraws every second so the countdown moves without updates.
func (r *Reporter) draw(now time.Time) {
	line := r.label + " "
	if r.st.WindowsTotal > 0 {
		line += bar(r.st) + " "
	}
	line += strings.Join(r.parts(now, false), "  ")
	line = truncate(line, r.width()-1)
	io.WriteString(r.w, "\r"+line+"\x1b[K")
	r.out, r.lastOut, r.lineOpen = true, now, true
	if r.remainingWait(now) > 0 {
		r.schedule(time.Second)
	}
}

// printLine writes one plain status line; mu is held.
func (r *Reporter) printLine(now time.Time) {
	if r.events != nil {
		r.logStatus(now)
	} else {
		io.WriteString(r.w, r.label+": "+strings.Join(r.parts(now, true), ", ")+"\n")
	}
	r.out, r.lastOut = true, now
	r.lastWindows, r.lastPrinted = r.st.WindowsDone, r.st
}

// parts formats the status figures; plain output spells more out because
// a log line is read later and out of context.
func (r *Reporter) parts(now time.Time, plain bool) []string {
	s := r.st
	var p []string
	switch {
	case s.WindowsTotal > 0 && plain:
		p = append(p, fmt.Sprintf("%d/%d windows (%d%%)", s.WindowsDone, s.WindowsTotal, percent(s)))
	case s.WindowsTotal > 0:
		p = append(p, fmt.Sprintf("%d/%d windows", s.WindowsDone, s.WindowsTotal))
	case s.WindowsDone > 0:
		p = append(p, fmt.Sprintf("%d windows", s.WindowsDone))
	}
	p = append(p, thousands(s.Calls)+" calls")
	if plain {
		p = append(p, thousands(s.Requests)+" requests")
	} else {
		p = append(p, thousands(s.Requests)+" req")
	}
	elapsed := now.Sub(r.start)
	if elapsed >= time.Second {
		p = append(p, rate(float64(s.Calls)/elapsed.Seconds())+" calls/s")
	}
	if eta, ok := r.eta(elapsed); ok {
		p = append(p, "ETA "+short(eta))
	}
	if plain && !s.Window.From.IsZero() {
		p = append(p, "window "+s.Window.String())
	}
	if w := r.remainingWait(now); w > 0 {
		if s.RateLimitWait() {
			p = append(p, "waiting for rate limit "+short(w.Round(time.Second)))
		} else {
			p = append(p, "retrying in "+short(w.Round(time.Second))+" after "+s.WaitReason)
		}
	}
	return p
}

// eta is when the last window should be done at the pace so far, known
// once a window is and while some are left; mu is held.
func (r *Reporter) eta(elapsed time.Duration) (time.Duration, bool) {
	s := r.st
	if s.WindowsTotal <= 0 || s.WindowsDone <= 0 || s.WindowsDone >= s.WindowsTotal {
		return 0, false
	}
	return time.Duration(float64(elapsed) * float64(s.WindowsTotal-s.WindowsDone) / float64(s.WindowsDone)), true
}

// remainingWait is what is left of the current rate-limit wait; mu is held.
func (r *Reporter) remainingWait(now time.Time) time.Duration {
	if r.st.Waiting <= 0 {
		return 0
	}
	left := r.st.Waiting - now.Sub(r.waitFrom)
	if left < time.Second && left > 0 {
		return time.Second // never show "0s" while still waiting
	}
	return left
}

func percent(s ingest.Status) int {
	if s.WindowsTotal <= 0 {
		return 0
	}
	return s.WindowsDone * 100 / s.WindowsTotal
}

func bar(s ingest.Status) string {
	filled := 0
	if s.WindowsTotal > 0 {
		filled = min(barWidth, s.WindowsDone*barWidth/s.WindowsTotal)
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", barWidth-filled) + "]"
}

// thousands formats n with comma separators: call counts run to millions.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func rate(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return thousands(int(v + 0.5))
}

// short formats d to at most two units: "45s", "3m05s", "2h10m".
func short(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// truncate cuts s to n runes so the line fits the terminal.
func truncate(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
