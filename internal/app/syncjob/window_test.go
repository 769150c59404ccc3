package syncjob

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
)

func TestWindow(t *testing.T) {
	now := time.Date(2026, 9, 10, 13, 45, 30, 0, time.UTC)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tt := range []struct {
		name      string
		spec      WindowSpec
		want      ingest.Window
		wantCycle string
		wantErr   string
	}{
		{name: "default 30 days, day-aligned start", want: ingest.Window{From: day(8, 11), To: now.Truncate(time.Minute)}},
		{name: "since-days", spec: WindowSpec{SinceDays: 2, SinceDaysSet: true}, want: ingest.Window{From: day(9, 8), To: now.Truncate(time.Minute)}},
		{name: "since-days 0", spec: WindowSpec{SinceDaysSet: true}, wantErr: "--since-days 0: want a positive number of days"},
		{name: "cycle", spec: WindowSpec{Cycle: "2026-08", CycleSet: true}, wantCycle: "2026-08"},
		{name: "range of dates", spec: WindowSpec{From: "2026-08-01", FromSet: true, To: "2026-09-01", ToSet: true}, want: ingest.Window{From: day(8, 1), To: day(9, 1)}},
		{name: "range in RFC 3339", spec: WindowSpec{From: "2026-08-01T02:00:00+02:00", FromSet: true, To: "2026-08-02", ToSet: true},
			want: ingest.Window{From: day(8, 1), To: day(8, 2)}},
		{name: "from alone", spec: WindowSpec{From: "2026-08-01", FromSet: true}, wantErr: "--from and --to go together"},
		{name: "to before from", spec: WindowSpec{From: "2026-08-02", FromSet: true, To: "2026-08-01", ToSet: true}, wantErr: "--to 2026-08-01 must be after --from 2026-08-02"},
		{name: "bad time", spec: WindowSpec{From: "yesterday", FromSet: true, To: "2026-08-01", ToSet: true}, wantErr: `--from "yesterday": want RFC 3339`},
		{name: "two kinds", spec: WindowSpec{Cycle: "x", CycleSet: true, SinceDays: 3, SinceDaysSet: true}, wantErr: "give only one of --cycle, --from/--to and --since-days"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, cycle, err := Window(tt.spec, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !w.From.Equal(tt.want.From) || !w.To.Equal(tt.want.To) || cycle != tt.wantCycle {
				t.Errorf("Window = %v, %q; want %v, %q", w, cycle, tt.want, tt.wantCycle)
			}
		})
	}
}

func TestLockName(t *testing.T) {
	for org, want := range map[string]string{"acme": "acme", "acme-eu_1": "acme-eu_1", "globex.eu": "x676c6f6265782e6575"} {
		if got := lockName(org); got != want {
			t.Errorf("lockName(%q) = %q, want %q", org, got, want)
		}
	}
}

// A second sync of the same org fails with a *LockHeldError that names
// the org and the lock; another org is not held up.
func TestLockHeld(t *testing.T) {
	dir := t.TempDir()
	release, err := Lock(dir, "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = Lock(dir, "acme")
	var held *LockHeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "another sync of org acme is running") || !strings.Contains(err.Error(), "sync-acme.lock") {
		t.Fatalf("second Lock: %v, want a *LockHeldError naming org acme and its lock", err)
	}
	other, err := Lock(dir, "globex")
	if err != nil {
		t.Fatalf("Lock of another org: %v", err)
	}
	other()
}
