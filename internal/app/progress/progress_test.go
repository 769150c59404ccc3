package progress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
)

// fakeClock is a settable clock for the throttles.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newPlain(t *testing.T) (*Reporter, *bytes.Buffer, *fakeClock) {
	t.Helper()
	var buf bytes.Buffer
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return New(&buf, "aircall acme", WithClock(clock.now)), &buf, clock
}

func lines(buf *bytes.Buffer) []string {
	s := strings.TrimSuffix(buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestPlainThrottle(t *testing.T) {
	type step struct {
		after time.Duration // clock advance before the update
		st    ingest.Status
		want  string // "" means no new line
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "first update prints, then at most every 5s",
			steps: []step{
				{0, ingest.Status{Calls: 0, Requests: 1, WindowsTotal: 4}, "aircall acme: 0/4 windows (0%), 0 calls, 1 requests"},
				{time.Second, ingest.Status{Calls: 50, Requests: 2, WindowsTotal: 4}, ""},
				{3 * time.Second, ingest.Status{Calls: 100, Requests: 3, WindowsTotal: 4}, ""},
				{time.Second, ingest.Status{Calls: 150, Requests: 4, WindowsTotal: 4}, "aircall acme: 0/4 windows (0%), 150 calls, 4 requests, 30 calls/s"},
			},
		},
		{
			name: "finished windows print, throttled to one a second",
			steps: []step{
				{0, ingest.Status{Requests: 1, WindowsTotal: 10}, "aircall acme: 0/10 windows (0%), 0 calls, 1 requests"},
				{2 * time.Second, ingest.Status{Calls: 2000, Requests: 20, WindowsDone: 1, WindowsTotal: 10}, "aircall acme: 1/10 windows (10%), 2,000 calls, 20 requests, 1,000 calls/s, ETA 18s"},
				{100 * time.Millisecond, ingest.Status{Calls: 2100, Requests: 21, WindowsDone: 2, WindowsTotal: 10}, ""},
				{900 * time.Millisecond, ingest.Status{Calls: 2200, Requests: 22, WindowsDone: 2, WindowsTotal: 10}, "aircall acme: 2/10 windows (20%), 2,200 calls, 22 requests, 733 calls/s, ETA 12s"},
			},
		},
		{
			name: "rate limit waits are announced",
			steps: []step{
				{0, ingest.Status{Requests: 1}, "aircall acme: 0 calls, 1 requests"},
				{1500 * time.Millisecond, ingest.Status{Calls: 3, Requests: 2, Waiting: 30 * time.Second}, "aircall acme: 3 calls, 2 requests, 2.0 calls/s, waiting for rate limit 30s"},
				{10 * time.Second, ingest.Status{Calls: 3, Requests: 2, Waiting: 30 * time.Second}, "aircall acme: 3 calls, 2 requests, 0.3 calls/s, waiting for rate limit 20s"},
				{20 * time.Second, ingest.Status{Calls: 3, Requests: 3}, "aircall acme: 3 calls, 3 requests, 0.1 calls/s"},
			},
		},
		{
			name: "a back-off is not a rate limit wait",
			steps: []step{
				{0, ingest.Status{Requests: 1}, "aircall acme: 0 calls, 1 requests"},
				{1500 * time.Millisecond, ingest.Status{Requests: 2, Waiting: 11 * time.Second, WaitReason: "connection error"}, "aircall acme: 0 calls, 2 requests, 0.0 calls/s, retrying in 11s after connection error"},
				{10 * time.Second, ingest.Status{Requests: 3, Waiting: 4 * time.Second, WaitReason: "HTTP 503"}, "aircall acme: 0 calls, 3 requests, 0.0 calls/s, retrying in 4s after HTTP 503"},
				{10 * time.Second, ingest.Status{Requests: 4, Waiting: 30 * time.Second, WaitReason: ingest.WaitRateLimit}, "aircall acme: 0 calls, 4 requests, 0.0 calls/s, waiting for rate limit 30s"},
			},
		},
		{
			name: "window is shown",
			steps: []step{
				{0, ingest.Status{Requests: 1, Window: ingest.Window{
					From: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
					To:   time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC),
				}}, "aircall acme: 0 calls, 1 requests, window 2025-03-01T00:00:00Z/2025-03-02T00:00:00Z"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, buf, clock := newPlain(t)
			for i, s := range tt.steps {
				before := len(lines(buf))
				clock.advance(s.after)
				r.Update(s.st)
				got := lines(buf)
				switch {
				case s.want == "" && len(got) != before:
					t.Fatalf("step %d printed %q, want nothing", i, got[len(got)-1])
				case s.want != "" && len(got) != before+1:
					t.Fatalf("step %d printed %d lines, want %q", i, len(got)-before, s.want)
				case s.want != "" && got[len(got)-1] != s.want:
					t.Fatalf("step %d printed\n %q\nwant\n %q", i, got[len(got)-1], s.want)
				}
			}
		})
	}
}

func TestPlainDone(t *testing.T) {
	r, buf, clock := newPlain(t)
	r.Update(ingest.Status{Requests: 1, WindowsTotal: 2})
	clock.advance(2 * time.Second)
	r.Update(ingest.Status{Calls: 10, Requests: 3, WindowsDone: 2, WindowsTotal: 2})
	clock.advance(100 * time.Millisecond)
	r.Update(ingest.Status{Calls: 12, Requests: 4, WindowsDone: 2, WindowsTotal: 2}) // throttled
	r.Done("12 calls published")
	r.Done("again")                    // ignored
	r.Update(ingest.Status{Calls: 99}) // ignored
	want := []string{
		"aircall acme: 0/2 windows (0%), 0 calls, 1 requests",
		"aircall acme: 2/2 windows (100%), 10 calls, 3 requests, 5.0 calls/s",
		"aircall acme: 2/2 windows (100%), 12 calls, 4 requests, 5.7 calls/s",
		"aircall acme: 12 calls published",
	}
	got := lines(buf)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDoneWithoutUpdates(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var buf bytes.Buffer
		r := New(&buf, "x", WithTerminal(tty))
		r.Done("")
		if buf.Len() != 0 {
			t.Errorf("tty=%v: Done with no updates wrote %q", tty, buf.String())
		}
	}
}

func TestTerminal(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	t.Setenv("COLUMNS", "200")
	r := New(&buf, "rc", WithTerminal(true), WithClock(clock.now))

	r.Update(ingest.Status{Requests: 1, WindowsTotal: 4})
	clock.advance(50 * time.Millisecond)
	r.Update(ingest.Status{Requests: 2, WindowsTotal: 4}) // within 200ms: held back
	if n := strings.Count(buf.String(), "\r"); n != 1 {
		t.Fatalf("%d redraws within 200ms, want 1: %q", n, buf.String())
	}
	clock.advance(2 * time.Second)
	r.Update(ingest.Status{Calls: 500, Requests: 9, WindowsDone: 2, WindowsTotal: 4, Waiting: 3 * time.Second})
	r.Done("done")

	out := buf.String()
	if strings.Count(out, "\n") != 2 || !strings.HasSuffix(out, "\nrc: done\n") {
		t.Fatalf("Done must end the line and print the summary: %q", out)
	}
	redraws := strings.Split(strings.TrimPrefix(out, "\r"), "\r")
	wait := redraws[len(redraws)-2]
	for _, want := range []string{"rc [##########..........] 2/4 windows", "500 calls", "9 req", "244 calls/s", "ETA 2s", "waiting for rate limit 3s", "\x1b[K"} {
		if !strings.Contains(wait, want) {
			t.Errorf("line %q lacks %q", wait, want)
		}
	}
	if final := redraws[len(redraws)-1]; strings.Contains(final, "waiting") {
		t.Errorf("final line still shows a wait: %q", final)
	}
}

func TestTerminalTruncates(t *testing.T) {
	var buf bytes.Buffer
	t.Setenv("COLUMNS", "30")
	r := New(&buf, strings.Repeat("long label ", 10), WithTerminal(true))
	r.Update(ingest.Status{Calls: 1})
	line := strings.TrimSuffix(strings.TrimPrefix(buf.String(), "\r"), "\x1b[K")
	if len(line) != 29 {
		t.Fatalf("line is %d long, want 29 for a 30-column terminal: %q", len(line), line)
	}
}

func TestDetection(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type detectCase struct {
		name string
		w    io.Writer
		term string
		want bool
	}
	tests := []detectCase{
		{"buffer", &bytes.Buffer{}, "xterm", false},
		{"regular file", f, "xterm", false},
	}
	// /dev/null is a character device too, so it stands in for a terminal
	// where the test runs without one.
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		defer null.Close()
		tests = append(tests,
			detectCase{"character device", null, "xterm", true},
			detectCase{"dumb terminal", null, "dumb", false})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TERM", tt.term)
			if got := New(tt.w, "x").tty; got != tt.want {
				t.Fatalf("terminal = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConcurrentUpdates(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var mu sync.Mutex
		var buf bytes.Buffer
		w := writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return buf.Write(p)
		})
		r := New(w, "x", WithTerminal(tty))
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 200 {
					r.Update(ingest.Status{Calls: g*1000 + i, Requests: i, WindowsDone: i % 5, WindowsTotal: 5})
				}
			})
		}
		wg.Wait()
		r.Done("ok")
		mu.Lock()
		if !strings.HasSuffix(buf.String(), "x: ok\n") {
			t.Errorf("tty=%v: output does not end with the summary: %q", tty, buf.String())
		}
		mu.Unlock()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{thousands(0), "0"},
		{thousands(999), "999"},
		{thousands(1000), "1,000"},
		{thousands(1234567), "1,234,567"},
		{thousands(-1234), "-1,234"},
		{short(45 * time.Second), "45s"},
		{short(185 * time.Second), "3m05s"},
		{short(2*time.Hour + 10*time.Minute + 20*time.Second), "2h10m"},
		{rate(2.25), "2.2"},
		{rate(1234.4), "1,234"},
		{bar(ingest.Status{WindowsDone: 1, WindowsTotal: 4}), "[#####...............]"},
		{bar(ingest.Status{WindowsDone: 9, WindowsTotal: 4}), "[####################]"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

// TestEvents: an Events writer gets log records with the plain lines'
// figures as numbers, under the plain throttle, and no text at all.
func TestEvents(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ev := Events{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	r := New(ev, "sync acme", WithClock(clock.now), WithTerminal(true))
	r.Update(ingest.Status{Requests: 1, WindowsTotal: 4})
	clock.advance(2 * time.Second)
	r.Update(ingest.Status{Calls: 10, Requests: 3, WindowsDone: 1, WindowsTotal: 4, Waiting: 30 * time.Second})
	clock.advance(100 * time.Millisecond)
	r.Update(ingest.Status{Calls: 12, Requests: 4, WindowsDone: 1, WindowsTotal: 4}) // throttled
	fmt.Fprintf(ev, "following org acme every 1m0s; Ctrl-C to stop\n")
	r.Done("12 calls published")
	want := []map[string]any{
		{"msg": "sync progress", "task": "sync acme", "windows_done": 0.0, "windows_total": 4.0, "percent": 0.0, "calls": 0.0, "requests": 1.0},
		{"msg": "sync progress", "windows_done": 1.0, "percent": 25.0, "calls": 10.0, "calls_per_second": 5.0, "eta": float64(6 * time.Second), "waiting_for_rate_limit": float64(30 * time.Second)},
		{"msg": "following org acme every 1m0s; Ctrl-C to stop"},
		{"msg": "sync progress", "windows_done": 1.0, "calls": 12.0, "requests": 4.0},
		{"msg": "12 calls published", "task": "sync acme"},
	}
	got := lines(&buf)
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i, line := range got {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d %q is not JSON: %v", i, line, err)
		}
		for k, v := range want[i] {
			if m[k] != v {
				t.Errorf("record %d: %s = %v, want %v (%s)", i, k, m[k], v, line)
			}
		}
	}
	if _, ok := mapOf(t, got[3])["waiting_for_rate_limit"]; ok {
		t.Errorf("final record still counts a rate-limit wait down: %s", got[3])
	}
}

func mapOf(t *testing.T, line string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
