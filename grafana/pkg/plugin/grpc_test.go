package plugin_test

// These tests run the plugin the way Grafana does: the binary built by
// grafana/build.sh, started with hashicorp/go-plugin and the SDK's
// handshake, called over gRPC with requests converted by backend.ToProto,
// against a real ClickHouse 18.16 seeded from internal/testkit/fixture orgs.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/load/aggregate"
	"github.com/phonesignals/phonesignals/queries"
)

const callTimeout = 60 * time.Second

// grafanaDir is grafana/ relative to this package.
var grafanaDir = filepath.Join("..", "..")

// runningPlugin is the plugin process and its gRPC clients.
type runningPlugin struct {
	data        grpcplugin.DataClient
	diagnostics grpcplugin.DiagnosticsClient
	resource    grpcplugin.ResourceClient
}

// syncBuffer collects go-plugin's and the plugin's log lines, shown when
// a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// buildPlugin runs grafana/build.sh into dist: the test runs exactly
// what gets installed.
func buildPlugin(dist string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(grafanaDir, "build.sh"))
	cmd.Env = append(os.Environ(), "DIST="+dist, "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("grafana/build.sh: %v\n%s", err, out)
	}
	for _, f := range []string{"gpx_phonesignals_linux_amd64", "plugin.json", "img/logo.svg", "dashboards/phonesignals-team.json"} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			return fmt.Errorf("build.sh did not produce %s: %v", f, err)
		}
	}
	return nil
}

// startPlugin starts the built executable as Grafana does.
func startPlugin(t *testing.T, dist string) runningPlugin {
	t.Helper()
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin logs:\n%s", logs.String())
		}
	})
	cmd := exec.Command(filepath.Join(dist, "gpx_phonesignals_linux_amd64"))
	cmd.Dir = dist
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		Plugins: goplugin.PluginSet{
			"data":        &grpcplugin.DataGRPCPlugin{},
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
		},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info}),
		StartTimeout:     callTimeout,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("starting the plugin: %v\n%s", err, logs.String())
	}
	dispense := func(name string) any {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("dispensing %s: %v", name, err)
		}
		return raw
	}
	return runningPlugin{
		data:        dispense("data").(grpcplugin.DataClient),
		diagnostics: dispense("diagnostics").(grpcplugin.DiagnosticsClient),
		resource:    dispense("resource").(grpcplugin.ResourceClient),
	}
}

func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

var dsSeq struct {
	sync.Mutex
	n int64
}

// datasource is a Grafana data source of this plugin: a plugin context
// with its own id and uid, so the plugin keeps one instance for it.
func datasource(name string, jsonData map[string]any, secure map[string]string) backend.PluginContext {
	dsSeq.Lock()
	dsSeq.n++
	id := dsSeq.n
	dsSeq.Unlock()
	raw, _ := json.Marshal(jsonData)
	return backend.PluginContext{
		OrgID:    1, //nolint:staticcheck // Grafana still sends it; the SDK keeps it for compatibility.
		PluginID: plugin.ID,
		User:     &backend.User{Login: "manager", Role: "Viewer"},
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: id, UID: fmt.Sprintf("ds-%d-%s", id, name), Name: name, Type: plugin.ID,
			JSONData: raw, DecryptedSecureJSONData: secure, Updated: time.Unix(1_790_000_000, 0),
		},
	}
}

func (p runningPlugin) queryData(t *testing.T, pc backend.PluginContext, queries ...backend.DataQuery) *backend.QueryDataResponse {
	t.Helper()
	req := &backend.QueryDataRequest{PluginContext: pc, Queries: queries}
	protoResp, err := p.data.QueryData(callCtx(t), backend.ToProto().QueryDataRequest(req))
	if err != nil {
		t.Fatalf("QueryData over gRPC: %v", err)
	}
	resp, err := backend.FromProto().QueryDataResponse(protoResp)
	if err != nil {
		t.Fatalf("decoding QueryData response: %v", err)
	}
	return resp
}

// query builds a query as Grafana sends it: the panel's target JSON, with
// queryType copied into the query's own field.
func query(refID string, target map[string]any, tr backend.TimeRange) backend.DataQuery {
	if _, ok := target["refId"]; !ok {
		target["refId"] = refID
	}
	raw, _ := json.Marshal(target)
	qt, _ := target["queryType"].(string)
	return backend.DataQuery{RefID: refID, QueryType: qt, JSON: raw, TimeRange: tr, Interval: time.Minute, MaxDataPoints: 1000}
}

// frame returns the single frame of a successful response.
func frame(t *testing.T, resp *backend.QueryDataResponse, refID string) *data.Frame {
	t.Helper()
	r, ok := resp.Responses[refID]
	if !ok {
		t.Fatalf("no response for query %s", refID)
	}
	if r.Error != nil {
		t.Fatalf("query %s failed: %v", refID, r.Error)
	}
	if len(r.Frames) != 1 {
		t.Fatalf("query %s: %d frames, want 1", refID, len(r.Frames))
	}
	return r.Frames[0]
}

// queryErr returns the failure of query refID, failing the test if it
// succeeded or its message lacks any of wants.
func queryErr(t *testing.T, resp *backend.QueryDataResponse, refID string, status backend.Status, wants ...string) {
	t.Helper()
	r, ok := resp.Responses[refID]
	if !ok {
		t.Fatalf("no response for query %s", refID)
	}
	if r.Error == nil {
		t.Fatalf("query %s succeeded, want an error containing %q", refID, wants)
	}
	if r.Status != status {
		t.Errorf("query %s: status %d, want %d (%v)", refID, r.Status, status, r.Error)
	}
	for _, w := range wants {
		if !strings.Contains(r.Error.Error(), w) {
			t.Errorf("query %s error %q does not contain %q", refID, r.Error, w)
		}
	}
}

func (p runningPlugin) checkHealth(t *testing.T, pc backend.PluginContext) *backend.CheckHealthResult {
	t.Helper()
	resp, err := p.diagnostics.CheckHealth(callCtx(t), &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pc)})
	if err != nil {
		t.Fatalf("CheckHealth over gRPC: %v", err)
	}
	return backend.FromProto().CheckHealthResponse(resp)
}

func (p runningPlugin) callResource(t *testing.T, pc backend.PluginContext, method, path string) (int, string) {
	t.Helper()
	req := &backend.CallResourceRequest{PluginContext: pc, Path: path, Method: method, URL: "/" + path}
	stream, err := p.resource.CallResource(callCtx(t), backend.ToProto().CallResourceRequest(req))
	if err != nil {
		t.Fatalf("CallResource over gRPC: %v", err)
	}
	var code int
	var body []byte
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return code, string(body)
		}
		if err != nil {
			t.Fatalf("CallResource %s %s: %v", method, path, err)
		}
		if r.Code != 0 {
			code = int(r.Code)
		}
		body = append(body, r.Body...)
	}
}

// seeded is a fixture org loaded into ClickHouse.
type seeded struct {
	org    *fixture.Org
	cycles []fixture.Cycle
}

// truthUnmapped counts, from the generated calls alone, the calls of
// provider users with no employee mapping in [from, to) ("" is calls with
// no user); deleted calls count nowhere.
func (s seeded) truthUnmapped(from, to time.Time) map[string]uint64 {
	mapped := map[string]bool{}
	for _, e := range s.org.Employees {
		mapped[e.ProviderUserID] = true
	}
	out := map[string]uint64{}
	for _, c := range s.org.CallsIn(from, to) {
		if !c.Deleted && !mapped[c.UserID] {
			out[c.UserID]++
		}
	}
	return out
}

var signalCols = []string{
	"org", "source", "event_type", "provider", "call_id", "user_id", "started_at", "direction",
	"duration_sec", "status", "after_hours", "escalated", "escalation_available", "resolved",
	"deleted", "version", "rules_version", "ingest_source", "event", "observed_at", "loaded_at",
	"answered", "missed", "voicemail", "talk_sec", "answer_sec", "answer_available",
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// signalRow is the raw_signals row the transform would load for c.
func signalRow(o *fixture.Org, c fixture.Call, version uint64) []any {
	callID := strconv.FormatInt(c.ID, 10)
	escAvail := uint8(1)
	if o.Provider == fixture.RingCentral {
		callID, escAvail = c.StrID(), 0
	}
	// The talk-time columns as the transform computes them (README);
	// answer times exist where escalation does, on Aircall.
	f := fixture.CallTalk(o.Provider, c)
	return []any{
		o.Name, "phone", "call", o.Provider, callID, c.UserID, c.StartedAt.UTC(), c.Direction,
		uint32(c.Duration), c.Outcome, b2u(c.AfterHours), b2u(c.Escalated), escAvail, b2u(c.Resolved),
		b2u(c.Deleted), version, "rules-test", "poll", "", c.EndedAt.UTC(), c.EndedAt.UTC(),
		b2u(f.Answered), b2u(f.Missed), b2u(f.Voicemail), uint32(f.TalkSec), uint32(f.AnswerSec), escAvail,
	}
}

// seed loads a fixture org with the store API (org, employees, cycles)
// plus an employee without calls, and its calls as raw_signals rows: every call's final version, and for
// every seventh call an older version with wrong values that the views
// must ignore.
func seed(t *testing.T, ctx context.Context, st *store.Store, spec fixture.Spec) seeded {
	t.Helper()
	o := fixture.Generate(spec)
	// An employee whose provider user never called: a row of zeros that
	// still counts in the cohort's median.
	o.Employees = append(o.Employees, fixture.Employee{ID: "E900", Name: "Nobody " + o.Name, Email: "nobody@" + o.Name + ".example",
		Cohort: o.Employees[0].Cohort, ProviderUserID: "no-calls-" + o.Name})
	if _, err := st.AddOrg(ctx, o.Name, o.Provider); err != nil {
		t.Fatal(err)
	}
	emps := make([]store.Employee, len(o.Employees))
	for i, e := range o.Employees {
		emps[i] = store.Employee{ID: e.ID, Name: e.Name, Email: e.Email, Cohort: e.Cohort, ProviderUserID: e.ProviderUserID}
	}
	if err := st.ImportEmployees(ctx, o.Name, emps); err != nil {
		t.Fatal(err)
	}
	for _, c := range o.Cycles {
		if err := st.AddCycle(ctx, o.Name, store.Cycle{ID: c.ID, Start: c.Start, End: c.End}); err != nil {
			t.Fatal(err)
		}
	}
	batch, err := st.Conn().PrepareBatch(ctx, "INSERT INTO raw_signals ("+strings.Join(signalCols, ", ")+")")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range o.Calls {
		v := uint64(1_000_000 + 10*i)
		if i%7 == 0 {
			old := c
			old.UserID = o.Users[(i/7)%len(o.Users)].ID
			old.Duration += 999
			old.Escalated, old.Resolved, old.Deleted = !c.Escalated, !c.Resolved, !c.Deleted
			if err := batch.Append(signalRow(o, old, v-5)...); err != nil {
				t.Fatal(err)
			}
		}
		if err := batch.Append(signalRow(o, c, v)...); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	// What the load stage does after a batch: mark its days, refresh them.
	if err := st.Conn().Exec(ctx, "INSERT INTO user_day_dirty (org, day, kind, value) SELECT DISTINCT org, toDate(started_at), 'loaded', 1 FROM raw_signals"); err != nil {
		t.Fatal(err)
	}
	agg, err := aggregate.New(st.Conn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := agg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return seeded{org: o, cycles: o.Cycles}
}

func TestPluginOverGRPC(t *testing.T) {
	srv := chservertest.Shared(t)
	db := chservertest.Database(t, srv)
	unmigrated := chservertest.Database(t, srv)
	noMigrations := chservertest.Database(t, srv) // schema_migrations exists, empty

	// The build runs while ClickHouse is seeded.
	dist := t.TempDir()
	var buildErr error
	var building sync.WaitGroup
	building.Add(1)
	buildStart := time.Now()
	go func() {
		defer building.Done()
		buildErr = buildPlugin(dist)
	}()
	t.Cleanup(building.Wait) // before dist is removed

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Conn().Exec(ctx, strings.Replace(queries.SchemaMigrations, "schema_migrations", noMigrations+".schema_migrations", 1)); err != nil {
		t.Fatal(err)
	}
	aug := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	cohorts := []string{"support", "sdr", "inside_sales"}
	acme := seed(t, ctx, st, fixture.Spec{Seed: 3, Org: "acme", Provider: fixture.Aircall, Start: aug, Days: 45,
		Cohorts: cohorts, Employees: 9, UnmappedUsers: 2, CallsPerDay: 5})
	globex := seed(t, ctx, st, fixture.Spec{Seed: 5, Org: "globex", Provider: fixture.RingCentral, Start: aug, Days: 45,
		Cohorts: cohorts[:2], Employees: 6, UnmappedUsers: 2, CallsPerDay: 5})
	// A cycle only globex has: acme's data source must not see it.
	globexOnly := store.Cycle{ID: "globex-2026-Q3", Start: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
	if err := st.AddCycle(ctx, "globex", globexOnly); err != nil {
		t.Fatal(err)
	}
	globex.cycles = append([]fixture.Cycle{{ID: globexOnly.ID, Start: globexOnly.Start, End: globexOnly.End}}, globex.cycles...)

	ops := seedOps(t, ctx, st, "acme", fixture.Aircall, time.Date(2026, 9, 20, 6, 0, 0, 0, time.UTC))
	broker, behind := startKafka(t, ctx)
	ops.behind, ops.kafkaBroker = behind, broker

	building.Wait()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	t.Logf("plugin built and ClickHouse seeded in %s", time.Since(buildStart).Round(time.Millisecond))
	p := startPlugin(t, dist)

	settings := func(org, database string) map[string]any {
		return map[string]any{"clickhouse": srv.Addr(), "database": database, "org": org}
	}
	acmeSettings := settings("acme", db)
	acmeSettings["kafka"] = broker
	dsAcme := datasource("acme", acmeSettings, nil)
	dsGlobex := datasource("globex", settings("globex", db), map[string]string{"password": ""})
	everything := backend.TimeRange{From: acme.org.Start, To: acme.org.End}

	t.Run("employee metrics and baselines match the fixture truth", func(t *testing.T) {
		for _, s := range []struct {
			name string
			ds   backend.PluginContext
			seeded
		}{{"aircall", dsAcme, acme}, {"ringcentral", dsGlobex, globex}} {
			for _, c := range s.cycles {
				t.Run(s.name+"/"+c.ID, func(t *testing.T) {
					resp := p.queryData(t, s.ds,
						query("M", map[string]any{"queryType": "employee_metrics", "cycle": c.ID}, everything),
						query("B", map[string]any{"queryType": "cohort_baselines", "cycle": c.ID}, everything))
					truth, base := s.org.Truth(c.Start, c.End)
					checkMetrics(t, frame(t, resp, "M"), s.org, truth)
					checkBaselines(t, frame(t, resp, "B"), base)
				})
			}
		}
	})

	t.Run("unmapped users use the query's time range", func(t *testing.T) {
		for _, s := range []struct {
			name string
			ds   backend.PluginContext
			seeded
		}{{"aircall", dsAcme, acme}, {"ringcentral", dsGlobex, globex}} {
			for _, tr := range []backend.TimeRange{
				everything,
				{From: time.Date(2026, 8, 10, 8, 0, 0, 0, time.UTC), To: time.Date(2026, 8, 17, 18, 0, 0, 0, time.UTC)},
			} {
				resp := p.queryData(t, s.ds, query("U", map[string]any{"queryType": "unmapped_users"}, tr))
				f := frame(t, resp, "U")
				checkTypes(t, f, map[string]data.FieldType{"user_id": data.FieldTypeString, "calls": data.FieldTypeUint64})
				want := s.truthUnmapped(tr.From, tr.To)
				got := map[string]uint64{}
				prev := uint64(1 << 62)
				for i := 0; i < f.Rows(); i++ {
					u, n := f.Fields[0].At(i).(string), f.Fields[1].At(i).(uint64)
					got[u] = n
					if n > prev {
						t.Errorf("%s: unmapped users not busiest first: %d after %d", s.name, n, prev)
					}
					prev = n
				}
				if !equalMaps(got, want) {
					t.Errorf("%s %s..%s: unmapped users %v, want %v", s.name, tr.From, tr.To, got, want)
				}
				if len(want) < 2 {
					t.Errorf("%s: fixture has only %d unmapped users in range: the check proves little", s.name, len(want))
				}
			}
		}
	})

	t.Run("cycles query and GET /cycles", func(t *testing.T) {
		for _, s := range []struct {
			name string
			ds   backend.PluginContext
			seeded
		}{{"acme", dsAcme, acme}, {"globex", dsGlobex, globex}} {
			resp := p.queryData(t, s.ds, query("C", map[string]any{"queryType": "cycles"}, everything))
			f := frame(t, resp, "C")
			checkTypes(t, f, map[string]data.FieldType{"cycle_id": data.FieldTypeString, "period_start": data.FieldTypeTime, "period_end": data.FieldTypeTime})
			var got []fixture.Cycle
			for i := 0; i < f.Rows(); i++ {
				got = append(got, fixture.Cycle{ID: f.Fields[0].At(i).(string), Start: f.Fields[1].At(i).(time.Time).UTC(), End: f.Fields[2].At(i).(time.Time).UTC()})
			}
			if fmt.Sprint(got) != fmt.Sprint(s.cycles) {
				t.Errorf("%s cycles frame %v, want %v", s.name, got, s.cycles)
			}

			code, body := p.callResource(t, s.ds, "GET", "cycles")
			if code != 200 {
				t.Fatalf("GET /cycles: %d %s", code, body)
			}
			var cs []plugin.CycleJSON
			if err := json.Unmarshal([]byte(body), &cs); err != nil {
				t.Fatalf("GET /cycles body %s: %v", body, err)
			}
			got = nil
			for _, c := range cs {
				got = append(got, fixture.Cycle{ID: c.CycleID, Start: c.PeriodStart.UTC(), End: c.PeriodEnd.UTC()})
			}
			if fmt.Sprint(got) != fmt.Sprint(s.cycles) {
				t.Errorf("%s GET /cycles %v, want %v", s.name, got, s.cycles)
			}
		}
		code, body := p.callResource(t, dsAcme, "GET", "employees")
		var emps []plugin.EmployeeJSON
		if err := json.Unmarshal([]byte(body), &emps); code != 200 || err != nil || len(emps) != len(acme.org.Employees) || emps[0].EmployeeID != acme.org.Employees[0].ID {
			t.Errorf("GET /employees: %d %s (%v)", code, body, err)
		}
		for _, e := range emps {
			if strings.Contains(e.Name, "globex") {
				t.Errorf("acme's GET /employees lists %+v", e)
			}
		}
		if code, body := p.callResource(t, dsAcme, "GET", "orgs"); code != 404 || !strings.Contains(body, "GET /cycles") {
			t.Errorf("GET /orgs: %d %s, want 404 naming /cycles", code, body)
		}
		if code, body := p.callResource(t, dsAcme, "POST", "cycles"); code != 405 {
			t.Errorf("POST /cycles: %d %s, want 405", code, body)
		}
	})

	t.Run("a data source never reads another org", func(t *testing.T) {
		globexNames := map[string]bool{}
		for _, e := range globex.org.Employees {
			globexNames[e.Name] = true
		}
		globexUsers := map[string]bool{}
		for _, u := range globex.org.Users {
			globexUsers[u.ID] = true
		}
		resp := p.queryData(t, dsAcme,
			query("M", map[string]any{"queryType": "employee_metrics", "cycle": "2026-08"}, everything),
			query("U", map[string]any{"queryType": "unmapped_users"}, everything),
			query("X", map[string]any{"queryType": "employee_metrics", "cycle": "2026-08", "org": "globex"}, everything),
			query("G", map[string]any{"queryType": "employee_metrics", "cycle": globexOnly.ID}, everything),
			query("H", map[string]any{"queryType": "cohort_baselines", "cycle": "2026-08", "org": "acme"}, everything),
		)
		m := frame(t, resp, "M")
		if m.Rows() != len(acme.org.Employees) {
			t.Errorf("acme's data source returned %d employees, acme has %d", m.Rows(), len(acme.org.Employees))
		}
		names, _ := m.FieldByName("name")
		for i := 0; i < m.Rows(); i++ {
			if n := names.At(i).(string); globexNames[n] {
				t.Errorf("acme's data source returned globex employee %s", n)
			}
		}
		u := frame(t, resp, "U")
		for i := 0; i < u.Rows(); i++ {
			if id := u.Fields[0].At(i).(string); globexUsers[id] {
				t.Errorf("acme's data source returned globex provider user %s", id)
			}
		}
		queryErr(t, resp, "X", backend.StatusBadRequest, "queries carry no org", "jsonData.org")
		queryErr(t, resp, "G", backend.StatusNotFound, `cycle "globex-2026-Q3" of org acme`, "phonesignals cycles add --org acme --cycle globex-2026-Q3", "known cycles: 2026-08, 2026-09")
		queryErr(t, resp, "H", backend.StatusBadRequest, "queries carry no org")
		if _, body := p.callResource(t, dsAcme, "GET", "cycles"); strings.Contains(body, globexOnly.ID) {
			t.Errorf("acme's GET /cycles lists globex's cycle: %s", body)
		}
	})

	t.Run("query errors name the fix, one per query", func(t *testing.T) {
		resp := p.queryData(t, dsAcme,
			query("OK", map[string]any{"queryType": "cohort_baselines", "cycle": "2026-09"}, everything),
			query("NoCycle", map[string]any{"queryType": "employee_metrics"}, everything),
			query("Unknown", map[string]any{"queryType": "cohort_baselines", "cycle": "2031-01"}, everything),
			query("Var", map[string]any{"queryType": "employee_metrics", "cycle": "$cycle"}, everything),
			query("Type", map[string]any{"queryType": "raw_sql"}, everything),
			query("Empty", map[string]any{}, everything),
			query("Range", map[string]any{"queryType": "unmapped_users"}, backend.TimeRange{From: acme.org.End, To: acme.org.Start}),
		)
		if f := frame(t, resp, "OK"); f.Rows() != len(cohorts) {
			t.Errorf("the good query next to failing ones returned %d cohorts, want %d", f.Rows(), len(cohorts))
		}
		queryErr(t, resp, "NoCycle", backend.StatusBadRequest, "cycle is empty", "phonesignals cycles add")
		queryErr(t, resp, "Unknown", backend.StatusNotFound, `cycle "2031-01" of org acme: not found`, "`phonesignals cycles add --org acme --cycle 2031-01 --start YYYY-MM-DD --end YYYY-MM-DD`")
		queryErr(t, resp, "Var", backend.StatusBadRequest, "unresolved dashboard variable")
		queryErr(t, resp, "Type", backend.StatusBadRequest, `unknown queryType "raw_sql"`, "employee_metrics, cohort_baselines, unmapped_users, cycles")
		queryErr(t, resp, "Empty", backend.StatusBadRequest, "queryType is empty")
		queryErr(t, resp, "Range", backend.StatusBadRequest, "time range")
	})

	t.Run("check health", func(t *testing.T) {
		h := p.checkHealth(t, dsAcme)
		if h.Status != backend.HealthStatusOk {
			t.Fatalf("acme health %v: %s", h.Status, h.Message)
		}
		migs, err := queries.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		schema := migs[len(migs)-1].Version
		for _, w := range []string{"org acme", "provider aircall", fmt.Sprintf("schema version %d", schema), "10 employees", "2 review cycles"} {
			if !strings.Contains(h.Message, w) {
				t.Errorf("health message %q does not contain %q", h.Message, w)
			}
		}
		var d plugin.HealthDetails
		if err := json.Unmarshal(h.JSONDetails, &d); err != nil || d.Org != "acme" || d.Provider != "aircall" || d.SchemaVersion != schema {
			t.Errorf("health details %s (%v)", h.JSONDetails, err)
		}
		if h := p.checkHealth(t, dsGlobex); h.Status != backend.HealthStatusOk || !strings.Contains(h.Message, "provider ringcentral") {
			t.Errorf("globex health %v: %s", h.Status, h.Message)
		}

		for _, c := range []struct {
			name  string
			ds    backend.PluginContext
			wants []string
		}{
			{"missing org", datasource("initech", settings("initech", db), nil),
				[]string{`org "initech": not found`, "`phonesignals org add --org initech --provider aircall|ringcentral`", "jsonData.org"}},
			{"unmigrated database", datasource("unmigrated", settings("acme", unmigrated), nil),
				[]string{"database " + unmigrated, "run `phonesignals migrate`"}},
			{"no migration applied", datasource("nomigrations", settings("acme", noMigrations), nil),
				[]string{"database " + noMigrations + " on " + srv.Addr() + " has no migration applied", "run `phonesignals migrate`"}},
			{"invalid settings", datasource("invalid", map[string]any{"host": "clickhouse", "port": 9000}, nil),
				[]string{"jsonData.clickhouse: empty", "jsonData.org: empty"}},
			{"unreachable clickhouse", datasource("down", map[string]any{"clickhouse": "127.0.0.1:1", "org": "acme"}, nil),
				[]string{"cannot use ClickHouse at 127.0.0.1:1"}},
			{"wrong password", datasource("password", settings("acme", db), map[string]string{"password": "wrong"}),
				[]string{"cannot use ClickHouse", "secureJsonData.password"}},
		} {
			h := p.checkHealth(t, c.ds)
			if h.Status != backend.HealthStatusError {
				t.Errorf("%s: health %v (%s), want ERROR", c.name, h.Status, h.Message)
				continue
			}
			for _, w := range c.wants {
				if !strings.Contains(h.Message, w) {
					t.Errorf("%s: health message %q does not contain %q", c.name, h.Message, w)
				}
			}
		}

		// Queries on a broken data source fail with the same fix.
		resp := p.queryData(t, datasource("initech2", settings("initech", db), nil),
			query("A", map[string]any{"queryType": "cycles"}, everything))
		queryErr(t, resp, "A", backend.StatusNotFound, "phonesignals org add --org initech")
		resp = p.queryData(t, datasource("invalid2", map[string]any{"clickhouse": srv.Addr()}, nil),
			query("A", map[string]any{"queryType": "cycles"}, everything))
		queryErr(t, resp, "A", backend.StatusBadRequest, "jsonData.org: empty")
	})

	testNewQueryTypes(t, p, dsAcme, dsGlobex, acme, globex, ops)

	t.Run("every panel of every provisioned dashboard", func(t *testing.T) {
		tr := backend.TimeRange{From: acme.org.Start, To: ops.lastOK.Add(time.Hour)}
		vars := checkDashboards(t, p, dsAcme, tr, true)
		newest := acme.cycles[len(acme.cycles)-1].ID
		if got := vars["phonesignals-team"]["cycle"]; got != newest {
			t.Errorf("the team review opens on cycle %s, want the newest, %s", got, newest)
		}
		if got := vars["phonesignals-employee"]["employee"]; got != acme.org.Employees[0].ID {
			t.Errorf("the employee page opens on %q, want the first employee %s", got, acme.org.Employees[0].ID)
		}
		// A RingCentral org that never synced: every panel still answers.
		checkDashboards(t, p, datasource("globex-k", map[string]any{"clickhouse": srv.Addr(), "database": db, "org": "globex", "kafka": broker}, nil), tr, false)
	})
}

func checkTypes(t *testing.T, f *data.Frame, want map[string]data.FieldType) {
	t.Helper()
	for name, typ := range want {
		fl, i := f.FieldByName(name)
		if i < 0 {
			t.Errorf("frame %s has no field %s", f.Name, name)
			continue
		}
		if fl.Type() != typ {
			t.Errorf("frame %s field %s is %s, want %s", f.Name, name, fl.Type(), typ)
		}
	}
}

func checkMetrics(t *testing.T, f *data.Frame, o *fixture.Org, truth map[string]fixture.Metrics) {
	t.Helper()
	ring := o.Provider == fixture.RingCentral
	checkTypes(t, f, map[string]data.FieldType{
		"employee_id": data.FieldTypeString, "name": data.FieldTypeString, "cohort": data.FieldTypeString,
		"total_calls": data.FieldTypeUint64, "inbound_calls": data.FieldTypeUint64, "outbound_calls": data.FieldTypeUint64,
		"avg_duration_sec": data.FieldTypeUint64, "after_hours_calls": data.FieldTypeUint64,
		"escalated_calls": data.FieldTypeNullableUint64, "resolved_calls": data.FieldTypeUint64,
		"escalation_available": data.FieldTypeBool,
	})
	if f.Rows() != len(o.Employees) {
		t.Fatalf("%d employee rows, want %d", f.Rows(), len(o.Employees))
	}
	esc, _ := f.FieldByName("escalated_calls")
	if esc.Config == nil || esc.Config.NoValue != "n/a" {
		t.Errorf("escalated_calls field config %+v, want noValue n/a", esc.Config)
	}
	col := func(name string, i int) any {
		fl, _ := f.FieldByName(name)
		return fl.At(i)
	}
	u := func(name string, i int) int { return int(col(name, i).(uint64)) }
	emps := map[string]fixture.Employee{}
	for _, e := range o.Employees {
		emps[e.ID] = e
	}
	var calls, escalated, idle int
	for i := 0; i < f.Rows(); i++ {
		id := col("employee_id", i).(string)
		e, ok := emps[id]
		if !ok {
			t.Errorf("row %d: employee %s is not in org %s", i, id, o.Name)
			continue
		}
		want := truth[id]
		if col("name", i) != e.Name || col("cohort", i) != e.Cohort {
			t.Errorf("%s: name %v cohort %v, want %s %s", id, col("name", i), col("cohort", i), e.Name, e.Cohort)
		}
		got := fixture.Metrics{
			TotalCalls: u("total_calls", i), InboundCalls: u("inbound_calls", i), OutboundCalls: u("outbound_calls", i),
			AvgDurationSec: u("avg_duration_sec", i), AfterHoursCalls: u("after_hours_calls", i), ResolvedCalls: u("resolved_calls", i),
		}
		up := func(name string) int {
			if v := col(name, i).(*uint64); v != nil {
				return int(*v)
			}
			return -1
		}
		got.AnsweredCalls, got.MissedCalls, got.VoicemailCalls = up("answered_calls"), up("missed_calls"), up("voicemail_calls")
		got.TalkTimeSec, got.AvgTalkSec = up("talk_time_sec"), up("avg_talk_sec")
		if got.AnswerTimeAvailable = col("answer_time_available", i).(bool); got.AnswerTimeAvailable {
			got.AvgAnswerSec = up("avg_answer_sec")
		} else if up("avg_answer_sec") != -1 {
			t.Errorf("%s: avg_answer_sec %d where no answer time is available, want null (n/a), never 0", id, up("avg_answer_sec"))
		}
		ev := col("escalated_calls", i).(*uint64)
		avail := col("escalation_available", i).(bool)
		if ring {
			if ev != nil {
				t.Errorf("%s: escalated_calls %d for a RingCentral org, want null (n/a), never 0", id, *ev)
			}
			if avail {
				t.Errorf("%s: escalation_available true for a RingCentral org", id)
			}
		} else {
			if ev == nil || !avail {
				t.Errorf("%s: escalated_calls %v available %v for an Aircall org, want a number", id, ev, avail)
			} else {
				got.EscalatedCalls = int(*ev)
				escalated += got.EscalatedCalls
			}
		}
		cmp := want
		if ring {
			cmp.EscalatedCalls = 0
		}
		if got != cmp {
			t.Errorf("%s: got %+v, want %+v", id, got, cmp)
		}
		calls += got.TotalCalls
		if got.TotalCalls == 0 {
			idle++
		}
	}
	if calls == 0 || idle == 0 || (!ring && escalated == 0) {
		t.Errorf("fixture too thin: %d calls, %d idle employees, %d escalated", calls, idle, escalated)
	}
}

func checkBaselines(t *testing.T, f *data.Frame, base map[string]fixture.Baseline) {
	t.Helper()
	// The median is null (n/a) below the org's privacy floor, with the reason.
	checkTypes(t, f, map[string]data.FieldType{"cohort": data.FieldTypeString, "cohort_size": data.FieldTypeUint64, "median_total_calls": data.FieldTypeNullableFloat64,
		"median_na_reason": data.FieldTypeString})
	if f.Rows() != len(base) {
		t.Fatalf("%d cohort rows, want %d", f.Rows(), len(base))
	}
	var cohorts []string
	for i := 0; i < f.Rows(); i++ {
		c := f.Fields[0].At(i).(string)
		cohorts = append(cohorts, c)
		want, ok := base[c]
		size, med := f.Fields[1].At(i).(uint64), f.Fields[2].At(i).(*float64)
		if !ok || int(size) != want.Size || med == nil || *med != want.MedianTotalCall || want.Size < store.DefaultMinCohort {
			t.Errorf("cohort %s: size %d median %v, want %+v", c, size, med, want)
		}
	}
	if !sort.StringsAreSorted(cohorts) {
		t.Errorf("cohorts not in order: %v", cohorts)
	}
}

func equalMaps(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
