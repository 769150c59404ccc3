package store

import (
	"context"
	"errors"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/queries"
)

// testStore is a migrated Store on a database of its own on the shared
// ClickHouse 18.16 test server.
type testStore struct {
	*Store
	srv *chserver.Server
	db  string
}

func newTestStore(t *testing.T) testStore {
	t.Helper()
	srv := chservertest.Shared(t)
	db := chservertest.Database(t, srv)
	ctx := testCtx(t)
	st, err := Open(ctx, Config{Addr: srv.Addr(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return testStore{Store: st, srv: srv, db: db}
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// query runs sql on the server's HTTP interface, trimmed.
func (ts testStore) query(t *testing.T, sql string) string {
	t.Helper()
	out, err := ts.srv.Query(testCtx(t), sql)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want []string
	}{
		{Config{Addr: "127.0.0.1:9000"}, nil},
		{Config{Addr: "127.0.0.1:9000", Database: "ok_db1"}, nil},
		{Config{}, []string{"--clickhouse HOST:PORT"}},
		{Config{Addr: "localhost"}, []string{`"localhost": want HOST:PORT`}},
		{Config{Addr: "localhost", Database: "bad-db"}, []string{"HOST:PORT", `database "bad-db"`}},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == nil {
			if err != nil {
				t.Errorf("%+v: %v", tt.cfg, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%+v: no error", tt.cfg)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error lacks %q: %v", tt.cfg, w, err)
			}
		}
	}
}

func TestMigrateIdempotent(t *testing.T) {
	srv := chservertest.Shared(t)
	db := chservertest.Database(t, srv)
	ctx := testCtx(t)
	st, err := Open(ctx, Config{Addr: srv.Addr(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var all []int
	for _, m := range migs {
		all = append(all, m.Version)
	}
	if len(all) == 0 {
		t.Fatal("no migrations embedded")
	}

	applied, err := st.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(applied, all) {
		t.Fatalf("first Migrate applied %v, want %v", applied, all)
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != all[len(all)-1] {
		t.Fatalf("SchemaVersion %d, want %d", v, all[len(all)-1])
	}

	for i := 0; i < 2; i++ {
		again, err := st.Migrate(ctx)
		if err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		if len(again) != 0 {
			t.Fatalf("Migrate again applied %v, want nothing", again)
		}
	}
	if v2, _ := st.SchemaVersion(ctx); v2 != v {
		t.Fatalf("SchemaVersion changed to %d", v2)
	}
	// Every version is recorded exactly once, with its name.
	ts := testStore{Store: st, srv: srv, db: db}
	got := ts.query(t, "SELECT version, name FROM "+db+".schema_migrations ORDER BY version")
	var want []string
	for _, m := range migs {
		want = append(want, strings.Join([]string{strconv.Itoa(m.Version), m.Name}, "\t"))
	}
	if got != strings.Join(want, "\n") {
		t.Fatalf("schema_migrations:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	// A migration whose statements already ran (interrupted before it was
	// recorded) runs again cleanly.
	ts.query(t, "ALTER TABLE "+db+".schema_migrations DELETE WHERE version = "+strconv.Itoa(all[len(all)-1]))
	waitFor(t, func() bool {
		return ts.query(t, "SELECT count() FROM "+db+".schema_migrations WHERE version = "+strconv.Itoa(all[len(all)-1])) == "0"
	})
	redo, err := st.Migrate(ctx)
	if err != nil {
		t.Fatalf("re-running the last migration: %v", err)
	}
	if !reflect.DeepEqual(redo, all[len(all)-1:]) {
		t.Fatalf("re-run applied %v, want %v", redo, all[len(all)-1:])
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSchemaVersionBeforeMigrate(t *testing.T) {
	srv := chservertest.Shared(t)
	db := chservertest.Database(t, srv)
	ctx := testCtx(t)
	st, err := Open(ctx, Config{Addr: srv.Addr(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.SchemaVersion(ctx)
	if err == nil || !strings.Contains(err.Error(), "phonesignals migrate") {
		t.Fatalf("SchemaVersion on an empty database: %v, want an error naming `phonesignals migrate`", err)
	}
}

func TestOpenCreatesDatabase(t *testing.T) {
	srv := chservertest.Shared(t)
	scratch := chservertest.Database(t, srv) // reserved name, dropped and recreated by Open
	ts := testStore{srv: srv}
	ts.query(t, "DROP DATABASE "+scratch)
	ctx := testCtx(t)
	st, err := Open(ctx, Config{Addr: srv.Addr(), Database: scratch})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := ts.query(t, "SELECT count() FROM system.databases WHERE name = '"+scratch+"'"); got != "1" {
		t.Fatalf("database %s not created", scratch)
	}
	if st.Config().Username != "default" || st.Config().DialTimeout != 10*time.Second {
		t.Errorf("defaults not applied: %+v", st.Config())
	}
	if _, err := Open(ctx, Config{Addr: "127.0.0.1:1", DialTimeout: time.Second}); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("Open on a closed port: %v, want an error naming the address", err)
	}
}

func TestAddOrg(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)

	created, err := ts.AddOrg(ctx, "acme", fixture.Aircall)
	if err != nil || !created {
		t.Fatalf("AddOrg: created=%v err=%v", created, err)
	}
	created, err = ts.AddOrg(ctx, "acme", fixture.Aircall)
	if err != nil || created {
		t.Fatalf("AddOrg again, same provider: created=%v err=%v; want a no-op", created, err)
	}
	created, err = ts.AddOrg(ctx, "acme", fixture.RingCentral)
	if err == nil || created {
		t.Fatalf("AddOrg with the other provider: created=%v err=%v; want refused", created, err)
	}
	for _, w := range []string{`org "acme" already uses aircall`, "exactly one phone provider", "another org for ringcentral"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	o, err := ts.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if o.Provider != fixture.Aircall {
		t.Fatalf("provider changed to %q", o.Provider)
	}
	if n := ts.query(t, "SELECT count() FROM "+ts.db+".orgs WHERE org = 'acme'"); n != "1" {
		t.Errorf("orgs has %s rows for acme, want 1 (the no-op wrote a row)", n)
	}

	if _, err := ts.AddOrg(ctx, "globex", fixture.RingCentral); err != nil {
		t.Fatal(err)
	}
	orgs, err := ts.ListOrgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(orgs, []string{"acme", "globex"}) {
		t.Fatalf("ListOrgs = %v", orgs)
	}

	for _, tt := range []struct{ name, provider, want string }{
		{"bad name!", fixture.Aircall, "letters, digits"},
		{"", fixture.Aircall, "letters, digits"},
		{"x'; DROP TABLE orgs", fixture.Aircall, "letters, digits"},
		{"initech", "", "provider is empty"},
	} {
		if _, err := ts.AddOrg(ctx, tt.name, tt.provider); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("AddOrg(%q, %q) = %v, want %q", tt.name, tt.provider, err, tt.want)
		}
	}
	if _, err := ts.AddOrg(ctx, "acme-eu.1", fixture.Aircall); err != nil {
		t.Errorf("org names with - and . are valid: %v", err)
	}
}

func TestSaveGetOrg(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)

	_, err := ts.GetOrg(ctx, "nobody")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetOrg missing: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "org add --org nobody") {
		t.Errorf("error does not name `org add`: %v", err)
	}

	o := Org{
		Name: "acme", Provider: fixture.Aircall, APIURL: "http://127.0.0.1:1/v1",
		Credentials: "sealed-creds", AccountID: "", WebhookToken: "sealed-webhook",
		Transcripts: true, Settings: map[string]string{"rate_limit": "120", "mode": "per-user"},
	}
	if err := ts.SaveOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := ts.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, o)
	}

	// A later save wins, whatever the merge state.
	time.Sleep(time.Millisecond)
	o2 := o
	o2.Transcripts = false
	o2.Settings = nil
	o2.AccountID = "~"
	if err := ts.SaveOrg(ctx, o2); err != nil {
		t.Fatal(err)
	}
	got, err = ts.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got.Transcripts || got.Settings != nil || got.AccountID != "~" {
		t.Fatalf("second save not read back: %+v", got)
	}
	ts.query(t, "OPTIMIZE TABLE "+ts.db+".orgs FINAL")
	got2, err := ts.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, got2) {
		t.Fatalf("after merge %+v, before %+v", got2, got)
	}
}

func TestEmployeesImport(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	if _, err := ts.AddOrg(ctx, "acme", fixture.Aircall); err != nil {
		t.Fatal(err)
	}
	if err := ts.ImportEmployees(ctx, "acme", nil); err != nil {
		t.Fatalf("empty import: %v", err)
	}
	first := []Employee{
		{ID: "E002", Name: "Ben", Email: "ben@acme.example", Cohort: "sdr", ProviderUserID: "100008"},
		{ID: "E001", Name: "Ada", Email: "ada@acme.example", Cohort: "support", ProviderUserID: "100001"},
	}
	if err := ts.ImportEmployees(ctx, "acme", first); err != nil {
		t.Fatal(err)
	}
	// Another org's roster is separate.
	if err := ts.ImportEmployees(ctx, "globex", []Employee{{ID: "E001", Name: "Other", Cohort: "x"}}); err != nil {
		t.Fatal(err)
	}
	got, err := ts.Employees(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := []Employee{first[1], first[0]} // by employee_id
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Employees:\n got %+v\nwant %+v", got, want)
	}

	// Re-import: E001 changes cohort and mapping, E003 is new, E002 is
	// absent from the file and kept.
	time.Sleep(time.Millisecond)
	second := []Employee{
		{ID: "E001", Name: "Ada Lovelace", Email: "ada@acme.example", Cohort: "sdr", ProviderUserID: "100015"},
		{ID: "E003", Name: "Chloé", Email: "", Cohort: "support", ProviderUserID: ""},
	}
	if err := ts.ImportEmployees(ctx, "acme", second); err != nil {
		t.Fatal(err)
	}
	want = []Employee{second[0], first[0], second[1]}
	for _, stage := range []string{"before merge", "after merge"} {
		got, err = ts.Employees(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", stage, got, want)
		}
		ts.query(t, "OPTIMIZE TABLE "+ts.db+".employees FINAL")
	}
	if n := ts.query(t, "SELECT count() FROM "+ts.db+".employees WHERE org = 'acme'"); n != "3" {
		t.Errorf("%s employee rows after OPTIMIZE FINAL, want 3", n)
	}
	other, err := ts.Employees(ctx, "globex")
	if err != nil || len(other) != 1 || other[0].Name != "Other" {
		t.Fatalf("globex roster: %+v, %v", other, err)
	}
	none, err := ts.Employees(ctx, "initech")
	if err != nil || len(none) != 0 {
		t.Fatalf("unknown org roster: %+v, %v", none, err)
	}
}

func TestCycles(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	sep := Cycle{ID: "2026-09", Start: day("2026-09-01"), End: day("2026-10-01")}
	aug := Cycle{ID: "2026-08", Start: day("2026-08-01"), End: day("2026-09-01")}
	q3 := Cycle{ID: "2026-Q3", Start: day("2026-07-01"), End: day("2026-10-01")}
	for _, c := range []Cycle{sep, aug, q3} {
		if err := ts.AddCycle(ctx, "acme", c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ts.GetCycle(ctx, "acme", "2026-08")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, aug) {
		t.Fatalf("GetCycle = %+v, want %+v", got, aug)
	}
	if got.Start.Location() != time.UTC {
		t.Errorf("start not UTC: %v", got.Start.Location())
	}
	list, err := ts.Cycles(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Cycle{q3, aug, sep}; !reflect.DeepEqual(list, want) {
		t.Fatalf("Cycles = %+v, want %+v (by start)", list, want)
	}

	// Updating a cycle: the latest version wins.
	time.Sleep(time.Millisecond)
	aug2 := Cycle{ID: "2026-08", Start: day("2026-08-03"), End: day("2026-08-31")}
	if err := ts.AddCycle(ctx, "acme", aug2); err != nil {
		t.Fatal(err)
	}
	if got, err := ts.GetCycle(ctx, "acme", "2026-08"); err != nil || !reflect.DeepEqual(got, aug2) {
		t.Fatalf("after update GetCycle = %+v, %v; want %+v", got, err, aug2)
	}
	if list, _ := ts.Cycles(ctx, "acme"); len(list) != 3 {
		t.Fatalf("after update %d cycles, want 3", len(list))
	}

	_, err = ts.GetCycle(ctx, "acme", "2027-01")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "cycles add --org acme --cycle 2027-01") {
		t.Fatalf("GetCycle missing: %v", err)
	}
	if _, err := ts.GetCycle(ctx, "globex", "2026-08"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cycle of another org found: %v", err)
	}

	for _, tt := range []struct {
		c    Cycle
		want string
	}{
		{Cycle{ID: "", Start: aug.Start, End: aug.End}, "cycle id is empty"},
		{Cycle{ID: "x", Start: aug.End, End: aug.Start}, "end 2026-08-01 is not after start 2026-09-01"},
		{Cycle{ID: "x", Start: aug.Start, End: aug.Start}, "is not after start"},
	} {
		if err := ts.AddCycle(ctx, "acme", tt.c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("AddCycle(%+v) = %v, want %q", tt.c, err, tt.want)
		}
	}
}

func TestCheckpoints(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	from := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	w1 := ingest.Window{From: from, To: from.Add(24 * time.Hour)}
	w2 := ingest.Window{From: w1.To, To: w1.To.Add(24 * time.Hour)}
	cp := ts.Checkpoints("acme")
	const job = "aircall:2026-08-01T00:00:00Z/2026-08-03T00:00:00Z"

	done, err := cp.Done(ctx, job, w1)
	if err != nil || done {
		t.Fatalf("Done before MarkDone = %v, %v", done, err)
	}
	if err := cp.MarkDone(ctx, job, w1, 42); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cp   ingest.Checkpoints
		job  string
		w    ingest.Window
		want bool
	}{
		{"same window", cp, job, w1, true},
		{"same window in another time zone", cp, job, ingest.Window{From: w1.From.In(time.FixedZone("X", 3600)), To: w1.To.In(time.FixedZone("X", 3600))}, true},
		{"next window", cp, job, w2, false},
		{"other job", cp, job + "#1", w1, false},
		{"other org", ts.Checkpoints("globex"), job, w1, false},
		{"window sharing only the start", cp, job, ingest.Window{From: w1.From, To: w2.To}, false},
	} {
		done, err := tt.cp.Done(ctx, tt.job, tt.w)
		if err != nil {
			t.Fatal(err)
		}
		if done != tt.want {
			t.Errorf("%s: Done = %v, want %v", tt.name, done, tt.want)
		}
	}
	// Marking twice is harmless.
	if err := cp.MarkDone(ctx, job, w1, 42); err != nil {
		t.Fatal(err)
	}
	if done, _ := cp.Done(ctx, job, w1); !done {
		t.Fatal("not done after marking twice")
	}
	if got := ts.query(t, "SELECT calls FROM "+ts.db+".sync_windows WHERE org = 'acme' LIMIT 1"); got != "42" {
		t.Errorf("calls recorded %q, want 42", got)
	}
}

func TestRuns(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	if _, ok, err := ts.LastRun(ctx, "acme"); err != nil || ok {
		t.Fatalf("LastRun with no run: ok=%v err=%v", ok, err)
	}
	base := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	w := ingest.Window{From: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}
	older := Run{ID: "1", Org: "acme", Provider: fixture.Aircall, Started: base, Finished: base.Add(time.Minute),
		Window: w, Status: "ok", Calls: 100, Requests: 5}
	latestStart := Run{ID: "2", Org: "acme", Provider: fixture.Aircall, Started: base.Add(time.Hour), Window: w, Status: "running"}
	latestEnd := latestStart
	latestEnd.Finished, latestEnd.Status, latestEnd.Error, latestEnd.Calls, latestEnd.Requests =
		base.Add(time.Hour+30*time.Second), "auth_error", "aircall rejected the credentials", 0, 1
	other := Run{ID: "3", Org: "globex", Provider: fixture.RingCentral, Started: base.Add(2 * time.Hour), Finished: base.Add(3 * time.Hour), Window: w, Status: "ok"}
	// Inserted out of order: the latest by start (then finish) wins.
	for _, r := range []Run{latestEnd, older, other, latestStart} {
		if err := ts.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := ts.LastRun(ctx, "acme")
	if err != nil || !ok {
		t.Fatalf("LastRun: ok=%v err=%v", ok, err)
	}
	want := latestEnd
	want.Provider = "" // not read back
	got.Started, got.Finished = got.Started.UTC(), got.Finished.UTC()
	got.Window = ingest.Window{From: got.Window.From.UTC(), To: got.Window.To.UTC()}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("LastRun:\n got %+v\nwant %+v", got, want)
	}

	// Two runs started and finished in the same second (DateTime has
	// seconds): the later run id (nanoseconds) wins, every time.
	same := Run{Org: "hooli", Provider: fixture.Aircall, Started: base, Finished: base.Add(time.Second), Window: w, Status: "error"}
	for _, id := range []string{"1790000000000000002", "1790000000000000001"} {
		r := same
		r.ID = id
		if id == "1790000000000000002" {
			r.Status = "ok"
		}
		if err := ts.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		got, ok, err := ts.LastRun(ctx, "hooli")
		if err != nil || !ok || got.ID != "1790000000000000002" || got.Status != "ok" {
			t.Fatalf("LastRun of runs in the same second: %+v ok=%v err=%v; want run 1790000000000000002", got, ok, err)
		}
	}

	// A still-running record alone is reported as running.
	only := Run{ID: "9", Org: "initech", Provider: fixture.Aircall, Started: base, Window: w, Status: "running"}
	if err := ts.RecordRun(ctx, only); err != nil {
		t.Fatal(err)
	}
	got, ok, err = ts.LastRun(ctx, "initech")
	if err != nil || !ok || got.Status != "running" || got.ID != "9" {
		t.Fatalf("LastRun of a running sync: %+v ok=%v err=%v", got, ok, err)
	}
}

func TestDeadLettersAndWebhooks(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	if err := ts.RecordDeadLetters(ctx, nil); err != nil {
		t.Fatal(err)
	}
	dl := func(org, reason string, off int64) model.DeadLetter {
		return model.DeadLetter{Org: org, Provider: fixture.Aircall, CallID: "c" + strconv.Itoa(int(off)), Topic: "phone.raw.dlq", Partition: 1, Offset: off, Reason: reason}
	}
	if err := ts.RecordDeadLetters(ctx, []model.DeadLetter{
		dl("acme", "missing id", 1), dl("acme", "bad direction", 2), dl("acme", "missing id", 3),
		dl("acme", "missing id", 4), dl("globex", "bad json", 5),
	}); err != nil {
		t.Fatal(err)
	}
	stats, err := ts.DeadLetterStats(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Count{{Label: "missing id", N: 3}, {Label: "bad direction", N: 1}}; !reflect.DeepEqual(stats, want) {
		t.Fatalf("DeadLetterStats = %+v, want %+v", stats, want)
	}
	if got := ts.query(t, "SELECT call_id, topic, partition, offset FROM "+ts.db+".dead_letters WHERE org = 'acme' AND offset = 2"); got != "c2\tphone.raw.dlq\t1\t2" {
		t.Errorf("dead letter row %q", got)
	}
	if s, err := ts.DeadLetterStats(ctx, "initech"); err != nil || len(s) != 0 {
		t.Fatalf("DeadLetterStats of an org without any: %+v, %v", s, err)
	}

	before := time.Now().UTC().Truncate(time.Second)
	for _, d := range []struct {
		org, event string
		status     int
		reason     string
	}{
		{"acme", "call.ended", 200, ""},
		{"acme", "call.created", 200, ""},
		{"acme", "call.ended", 401, "bad token"},
		{"acme", "call.ended", 200, ""},
		{"globex", "call.ended", 200, ""},
	} {
		if err := ts.RecordDelivery(ctx, d.org, d.event, d.status, d.reason); err != nil {
			t.Fatal(err)
		}
	}
	after := time.Now().UTC().Add(time.Second)
	ws, err := ts.WebhookStats(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 {
		t.Fatalf("WebhookStats = %+v, want 2 statuses", ws)
	}
	if ws[0].Label != "HTTP 200" || ws[0].N != 3 || ws[1].Label != "HTTP 401" || ws[1].N != 1 || ws[1].Note != "bad token" {
		t.Fatalf("WebhookStats = %+v", ws)
	}
	for _, c := range ws {
		if c.Last.Before(before) || c.Last.After(after) {
			t.Errorf("%s last %s not in [%s, %s]", c.Label, c.Last, before, after)
		}
	}
	if ws, err := ts.WebhookStats(ctx, "initech"); err != nil || len(ws) != 0 {
		t.Fatalf("WebhookStats of an org without any: %+v, %v", ws, err)
	}
}

func TestTranscriptStore(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	o := Org{Name: "acme", Provider: fixture.Aircall, Credentials: "sealed", Transcripts: true,
		Settings: map[string]string{"rate_limit": "60"}}
	if err := ts.SaveOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	tr := ts.TranscriptStore()
	if err := tr.SaveTranscript(ctx, "acme", aircall.Transcript{CallID: "4000000001", Type: "call", Language: "en-US",
		Utterances: []aircall.Utterance{
			{Index: 0, StartTime: 0.5, EndTime: 3.25, Speaker: "internal", Text: "Hello, Acme support."},
			{Index: 1, StartTime: 3.5, EndTime: 6, Speaker: "external", Text: "My invoice is wrong."},
		}}); err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveTranscript(ctx, "acme", aircall.Transcript{CallID: "4000000002", Type: "voicemail"}); err != nil {
		t.Fatal(err)
	}
	got := ts.query(t, "SELECT call_id, idx, start_time, end_time, speaker, text, language FROM "+ts.db+".call_transcripts ORDER BY call_id, idx")
	want := "4000000001\t0\t0.5\t3.25\tinternal\tHello, Acme support.\ten-US\n4000000001\t1\t3.5\t6\texternal\tMy invoice is wrong.\ten-US"
	if got != want {
		t.Fatalf("call_transcripts:\n%s\nwant:\n%s", got, want)
	}
	// Utterances never go to raw_signals.
	if n := ts.query(t, "SELECT count() FROM "+ts.db+".raw_signals"); n != "0" {
		t.Errorf("raw_signals has %s rows", n)
	}

	if err := tr.RecordTranscriptFailure(ctx, "acme", "4000000003", "HTTP 500 three times"); err != nil {
		t.Fatal(err)
	}
	if err := tr.DisableTranscripts(ctx, "acme", "403: no AI add-on"); err != nil {
		t.Fatal(err)
	}
	after, err := ts.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if after.Transcripts {
		t.Fatal("Transcripts still on after DisableTranscripts")
	}
	o.Transcripts = false
	if !reflect.DeepEqual(after, o) {
		t.Fatalf("DisableTranscripts changed more than Transcripts:\n got %+v\nwant %+v", after, o)
	}
	events := strings.Split(ts.query(t, "SELECT call_id, status, reason FROM "+ts.db+".transcript_events WHERE org = 'acme'"), "\n")
	sort.Strings(events)
	wantEvents := []string{
		"\tdisabled\t403: no AI add-on",
		"4000000001\tsaved\t2 utterances",
		"4000000002\tsaved\t0 utterances",
		"4000000003\tfailed\tHTTP 500 three times",
	}
	if !reflect.DeepEqual(events, wantEvents) {
		t.Fatalf("transcript_events:\n%q\nwant\n%q", events, wantEvents)
	}

	if err := tr.DisableTranscripts(ctx, "nobody", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DisableTranscripts of a missing org: %v, want ErrNotFound", err)
	}
}

// Cycle dates ClickHouse DateTime cannot hold are refused, not wrapped
// (1900-01-01 to 2200-01-01 was stored as 2036 to 2063).
func TestCycleDatesOutsideTheStoreRange(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	if _, _, err := ParseCycleDates("1900-01-01", "2200-01-01"); err == nil || !strings.Contains(err.Error(), "cycles must lie between 1970-01-01 and 2106-01-01") {
		t.Errorf("ParseCycleDates: %v", err)
	}
	for _, c := range []Cycle{
		{ID: "old", Start: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "far", Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		err := ts.AddCycle(ctx, "acme", c)
		if err == nil || !strings.Contains(err.Error(), "outside the supported range") {
			t.Errorf("AddCycle %s: %v", c.ID, err)
		}
	}
	if got := ts.query(t, "SELECT count() FROM "+ts.db+".cycles"); got != "0" {
		t.Fatalf("%s cycles stored", got)
	}
	ok := Cycle{ID: "edge", Start: time.Unix(0, 0).UTC(), End: time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := ts.AddCycle(ctx, "acme", ok); err != nil {
		t.Fatal(err)
	}
	got, err := ts.GetCycle(ctx, "acme", "edge")
	if err != nil || !got.Start.Equal(ok.Start) || !got.End.Equal(ok.End) {
		t.Fatalf("edge cycle read back as %v..%v (%v)", got.Start, got.End, err)
	}
}
