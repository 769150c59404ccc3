package plugin

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf/tlsconftest"
	"github.com/phonesignals/phonesignals/internal/store"
)

func TestLoadSettings(t *testing.T) {
	for _, c := range []struct {
		name     string
		jsonData string
		secure   map[string]string
		want     Settings
		errs     []string // each must appear in the error; none means valid
	}{
		{name: "minimal", jsonData: `{"clickhouse":"clickhouse:9000","org":"acme"}`,
			want: Settings{ClickHouse: "clickhouse:9000", Database: "phonesignals", Org: "acme"}},
		{name: "full", jsonData: `{"clickhouse":" 10.0.0.5:9440 ","database":"ps_prod","org":"globex.eu","username":"grafana","tls":true}`,
			secure: map[string]string{"password": "s3cret"},
			want:   Settings{ClickHouse: "10.0.0.5:9440", Database: "ps_prod", Org: "globex.eu", Username: "grafana", Password: "s3cret", TLS: true}},
		{name: "TLS port without tls", jsonData: `{"clickhouse":"abc.clickhouse.cloud:9440","org":"acme"}`, errs: []string{"9440 is ClickHouse's TLS port", "jsonData.tls"}},
		{name: "tls not a bool", jsonData: `{"clickhouse":"ch:9440","org":"acme","tls":"yes"}`, errs: []string{"jsonData.tls: want true or false"}},
		{name: "CA not PEM", jsonData: `{"clickhouse":"ch:9440","org":"acme"}`, secure: map[string]string{"tlsCACert": "hello"}, errs: []string{"secureJsonData.tlsCACert", "no PEM certificate"}},
		{name: "ipv6", jsonData: `{"clickhouse":"[::1]:9000","org":"acme"}`,
			want: Settings{ClickHouse: "[::1]:9000", Database: "phonesignals", Org: "acme"}},
		{name: "extra keys from Grafana are ignored", jsonData: `{"clickhouse":"ch:9000","org":"acme","database":null,"timeout":30}`,
			want: Settings{ClickHouse: "ch:9000", Database: "phonesignals", Org: "acme"}},
		{name: "kafka brokers", jsonData: `{"clickhouse":"ch:9000","org":"acme","kafka":" redpanda:9092, r2:9092 ,"}`,
			want: Settings{ClickHouse: "ch:9000", Database: "phonesignals", Org: "acme", Kafka: []string{"redpanda:9092", "r2:9092"}}},
		{name: "bad kafka broker", jsonData: `{"clickhouse":"ch:9000","org":"acme","kafka":"redpanda"}`, errs: []string{`jsonData.kafka: broker "redpanda"`, "HOST:PORT"}},
		{name: "empty", jsonData: `{}`, errs: []string{"jsonData.clickhouse: empty", "jsonData.org: empty", "one data source per org"}},
		{name: "no jsonData", jsonData: ``, errs: []string{"jsonData.clickhouse: empty", "jsonData.org: empty"}},
		{name: "null jsonData", jsonData: `null`, errs: []string{"jsonData.clickhouse: empty", "jsonData.org: empty"}},
		{name: "not an object", jsonData: `[1,2]`, errs: []string{"jsonData: not a JSON object"}},
		{name: "org missing", jsonData: `{"clickhouse":"ch:9000"}`, errs: []string{"jsonData.org: empty"}},
		{name: "org blank", jsonData: `{"clickhouse":"ch:9000","org":"  "}`, errs: []string{"jsonData.org: empty"}},
		{name: "org not a string", jsonData: `{"clickhouse":"ch:9000","org":7}`, errs: []string{"jsonData.org: want a string"}},
		{name: "org with spaces", jsonData: `{"clickhouse":"ch:9000","org":"acme corp"}`, errs: []string{`jsonData.org "acme corp"`}},
		{name: "org with a quote", jsonData: `{"clickhouse":"ch:9000","org":"a'b"}`, errs: []string{`jsonData.org "a'b"`}},
		{name: "no port", jsonData: `{"clickhouse":"clickhouse","org":"acme"}`, errs: []string{`jsonData.clickhouse "clickhouse": want HOST:PORT`}},
		{name: "no host", jsonData: `{"clickhouse":":9000","org":"acme"}`, errs: []string{`jsonData.clickhouse ":9000"`}},
		{name: "bad port", jsonData: `{"clickhouse":"ch:90000","org":"acme"}`, errs: []string{`jsonData.clickhouse "ch:90000"`, "1-65535"}},
		{name: "a URL", jsonData: `{"clickhouse":"http://ch:8123","org":"acme"}`, errs: []string{"not a URL"}},
		{name: "official plugin keys", jsonData: `{"host":"clickhouse","port":9000,"org":"acme"}`, errs: []string{"jsonData.clickhouse: empty", "official ClickHouse plugin"}},
		{name: "bad database", jsonData: `{"clickhouse":"ch:9000","org":"acme","database":"phone-signals"}`, errs: []string{`jsonData.database "phone-signals"`}},
		{name: "database not a string", jsonData: `{"clickhouse":"ch:9000","org":"acme","database":["x"]}`, errs: []string{"jsonData.database: want a string"}},
		{name: "plain-text password", jsonData: `{"clickhouse":"ch:9000","org":"acme","password":"x"}`, errs: []string{"jsonData.password", "secureJsonData.password"}},
		{name: "every problem at once", jsonData: `{"clickhouse":"ch","database":"a b","org":"a b"}`,
			errs: []string{"jsonData.clickhouse", "jsonData.database", "jsonData.org"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: json.RawMessage(c.jsonData), DecryptedSecureJSONData: c.secure})
			if len(c.errs) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("got %+v, want %+v", got, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("valid (%+v), want an error containing %q", got, c.errs)
			}
			for _, w := range c.errs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	for _, c := range []struct {
		name      string
		json      string
		queryType string // DataQuery.QueryType, as Grafana copies it
		want      QueryModel
		err       string
	}{
		{name: "employee metrics", json: `{"refId":"A","queryType":"employee_metrics","cycle":"2026-09","datasource":{"uid":"x"},"intervalMs":1000}`,
			want: QueryModel{QueryType: QueryEmployeeMetrics, Cycle: "2026-09"}},
		{name: "baselines", json: `{"queryType":"cohort_baselines","cycle":" 2026-Q3 "}`, want: QueryModel{QueryType: QueryCohortBaselines, Cycle: "2026-Q3"}},
		{name: "unmapped users need no cycle", json: `{"queryType":"unmapped_users"}`, want: QueryModel{QueryType: QueryUnmappedUsers}},
		{name: "cycles", json: `{"queryType":"cycles"}`, want: QueryModel{QueryType: QueryCycles}},
		{name: "queryType from the query", json: `{"cycle":"c1"}`, queryType: "cohort_baselines", want: QueryModel{QueryType: QueryCohortBaselines, Cycle: "c1"}},
		{name: "empty org is not an org", json: `{"queryType":"cycles","org":""}`, want: QueryModel{QueryType: QueryCycles}},
		{name: "team review", json: `{"queryType":"team_review","cycle":"2026-09"}`, want: QueryModel{QueryType: QueryTeamReview, Cycle: "2026-09"}},
		{name: "employee review", json: `{"queryType":"employee_review","cycle":"2026-09","employee":" E001 "}`,
			want: QueryModel{QueryType: QueryEmployeeReview, Cycle: "2026-09", Employee: "E001"}},
		{name: "weekly calls of the org", json: `{"queryType":"calls_weekly"}`, want: QueryModel{QueryType: QueryCallsWeekly}},
		{name: "newest cycles first", json: `{"queryType":"cycles","newestFirst":true}`, want: QueryModel{QueryType: QueryCycles, NewestFirst: true}},
		{name: "alert window", json: `{"queryType":"alert_escalated_calls","hours":24}`, want: QueryModel{QueryType: QueryAlertEscalated, Hours: 24}},
		{name: "trend needs an employee", json: `{"queryType":"employee_trend"}`, err: "employee is empty"},
		{name: "review needs an employee", json: `{"queryType":"employee_review","cycle":"c"}`, err: "employee is empty"},
		{name: "review needs a cycle", json: `{"queryType":"employee_review","employee":"E1"}`, err: "cycle is empty"},
		{name: "unresolved employee", json: `{"queryType":"calls_weekly","employee":"$employee"}`, err: "`employee` variable"},
		{name: "negative hours", json: `{"queryType":"alert_dead_letters","hours":-1}`, err: "hours -1"},
		{name: "no cycle", json: `{"queryType":"employee_metrics"}`, err: "cycle is empty"},
		{name: "blank cycle", json: `{"queryType":"cohort_baselines","cycle":"  "}`, err: "cycle is empty"},
		{name: "unresolved variable", json: `{"queryType":"employee_metrics","cycle":"${cycle}"}`, err: "unresolved dashboard variable"},
		{name: "org in the query", json: `{"queryType":"cycles","org":"globex"}`, err: "queries carry no org"},
		{name: "unknown type", json: `{"queryType":"sql","rawSql":"SELECT 1"}`, err: `unknown queryType "sql"`},
		{name: "no type", json: `{}`, err: "queryType is empty"},
		{name: "no JSON", json: ``, err: "queryType is empty"},
		{name: "bad JSON", json: `{"queryType":`, err: "not a JSON object"},
		{name: "cycle not a string", json: `{"queryType":"employee_metrics","cycle":202609}`, err: "want {"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseQuery(backend.DataQuery{RefID: "A", QueryType: c.queryType, JSON: json.RawMessage(c.json)})
			if c.err == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("got %+v, want %+v", got, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
			if !strings.Contains(err.Error(), "query A") {
				t.Errorf("error %q does not name the query", err)
			}
		})
	}
}

// TestDispose checks an instance's connection is opened on first use and
// closed by Dispose, after which the instance refuses work.
func TestDispose(t *testing.T) {
	srv := chservertest.Shared(t)
	db := chservertest.Database(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddOrg(ctx, "acme", "aircall"); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]string{"clickhouse": srv.Addr(), "database": db, "org": "acme"})
	inst, err := NewDatasource(ctx, backend.DataSourceInstanceSettings{Name: "acme", JSONData: raw})
	if err != nil {
		t.Fatal(err)
	}
	d := inst.(*Datasource)
	if d.st != nil {
		t.Fatal("the factory opened a connection before first use")
	}
	h, err := d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	if err != nil || h.Status != backend.HealthStatusOk {
		t.Fatalf("health %+v %v", h, err)
	}
	conn := d.st
	if conn == nil {
		t.Fatal("no connection after a health check")
	}
	d.Dispose()
	if d.st != nil {
		t.Fatal("Dispose kept the connection")
	}
	if err := conn.Conn().Ping(ctx); err == nil {
		t.Error("the connection still answers after Dispose")
	}
	resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: json.RawMessage(`{"queryType":"cycles"}`)}}})
	if err != nil || resp.Responses["A"].Error == nil || !strings.Contains(resp.Responses["A"].Error.Error(), "disposed") {
		t.Errorf("query after Dispose: %+v %v", resp.Responses["A"], err)
	}
	d.Dispose() // twice is fine
}

// TestDatasourceOverTLS: a data source reaches ClickHouse 18.16 serving
// TLS with a private CA given in secureJsonData.tlsCACert, as Grafana
// reaches ClickHouse Cloud on 9440 (system roots there).
func TestDatasourceOverTLS(t *testing.T) {
	if os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip(chserver.EnvSkip + "=1")
	}
	certs := tlsconftest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := chserver.Start(ctx, chserver.Config{Dir: t.TempDir(), TLS: &chserver.TLS{CertFile: certs.Cert, KeyFile: certs.Key},
		Users: []chserver.User{{Name: "grafana", Password: "gf-pass"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	caTLS, err := tlsconf.Client(certs.CA)
	if err != nil {
		t.Fatal(err)
	}
	boot, err := store.Open(ctx, store.Config{Addr: srv.SecureAddr(), TLS: caTLS}) // creates the database
	if err != nil {
		t.Fatal(err)
	}
	boot.Close()
	ca, err := os.ReadFile(certs.CA)
	if err != nil {
		t.Fatal(err)
	}
	jsonData := `{"clickhouse":"` + srv.SecureAddr() + `","org":"acme","username":"grafana","tls":true}`
	for _, tc := range []struct {
		name    string
		secure  map[string]string
		wantErr string
	}{
		{"private CA", map[string]string{"password": "gf-pass", "tlsCACert": string(ca)}, ""},
		{"system roots only", map[string]string{"password": "gf-pass"}, "secureJsonData.tlsCACert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst, err := NewDatasource(ctx, backend.DataSourceInstanceSettings{Name: "acme", JSONData: []byte(jsonData), DecryptedSecureJSONData: tc.secure})
			if err != nil {
				t.Fatal(err)
			}
			d := inst.(*Datasource)
			defer d.Dispose()
			st, err := d.store(ctx)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("store: %v; want an error about the %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Conn().Ping(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPipelineNames checks the names backlog.go copies from internal/bus.
func TestPipelineNames(t *testing.T) {
	if topicRaw != bus.TopicRaw || groupTransform != bus.GroupTransform || headerOrg != bus.HeaderOrg {
		t.Errorf("backlog.go reads %s/%s/%s, internal/bus uses %s/%s/%s", topicRaw, groupTransform, headerOrg, bus.TopicRaw, bus.GroupTransform, bus.HeaderOrg)
	}
	r := &kgo.Record{Headers: []kgo.RecordHeader{{Key: "provider", Value: []byte("aircall")}, {Key: bus.HeaderOrg, Value: []byte("acme")}}}
	if header(r, headerOrg) != bus.Header(r, bus.HeaderOrg) || header(r, "none") != "" {
		t.Errorf("header() disagrees with bus.Header")
	}
}
