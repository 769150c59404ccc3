package grafanatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/phonesignals/phonesignals/grafana/provision"
)

// Grafana is the fake server.
type Grafana struct {
	*httptest.Server
	// Dir is the provisioning directory Grafana reads on reload.
	Dir            string
	user, password string

	mu      sync.Mutex
	orgs    map[int64]string
	nextID  int64
	users   map[string]bool
	members map[int64]map[string]string // org -> login -> role
	// Datasources and Providers are what the last reload applied, by org.
	Datasources map[int64][]provision.Datasource
	Providers   map[int64][]provision.Provider
	Reloads     int
}

// New starts a fake Grafana with the Main Org (id 1), the server admin
// user/password, and the given users, each a Viewer of the Main Org as
// Grafana's auto_assign_org does.
func New(dir, user, password string, users ...string) *Grafana {
	g := &Grafana{Dir: dir, user: user, password: password, orgs: map[int64]string{1: "Main Org."}, nextID: 2,
		users: map[string]bool{}, members: map[int64]map[string]string{1: {}}}
	for _, u := range users {
		g.users[u] = true
		g.members[1][u] = "Viewer"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/orgs/name/{name}", g.orgByName)
	mux.HandleFunc("POST /api/orgs", g.createOrg)
	mux.HandleFunc("POST /api/orgs/{id}/users", g.addUser)
	mux.HandleFunc("POST /api/admin/provisioning/{what}/reload", g.reload)
	g.Server = httptest.NewServer(g.auth(mux))
	return g
}

func (g *Grafana) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != g.user || p != g.password {
			reply(w, http.StatusUnauthorized, map[string]any{"message": "invalid username or password"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *Grafana) orgByName(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, n := range g.orgs {
		if n == r.PathValue("name") {
			reply(w, http.StatusOK, map[string]any{"id": id, "name": n})
			return
		}
	}
	reply(w, http.StatusNotFound, map[string]any{"message": "Organization not found"})
}

func (g *Grafana) createOrg(w http.ResponseWriter, r *http.Request) {
	var body struct{ Name string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Name == "" {
		reply(w, http.StatusBadRequest, map[string]any{"message": "bad request data"})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, n := range g.orgs {
		if n == body.Name {
			reply(w, http.StatusConflict, map[string]any{"message": "Organization name taken"})
			return
		}
	}
	id := g.nextID
	g.nextID++
	g.orgs[id] = body.Name
	g.members[id] = map[string]string{g.user: "Admin"}
	reply(w, http.StatusOK, map[string]any{"message": "Organization created", "orgId": id})
}

func (g *Grafana) addUser(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var body struct{ LoginOrEmail, Role string }
	_ = json.NewDecoder(r.Body).Decode(&body)
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.orgs[id] == "":
		reply(w, http.StatusNotFound, map[string]any{"message": "Organization not found"})
	case !g.users[body.LoginOrEmail]:
		reply(w, http.StatusNotFound, map[string]any{"message": "User not found"})
	case g.members[id][body.LoginOrEmail] != "":
		reply(w, http.StatusConflict, map[string]any{"message": "User is already member of this organization"})
	default:
		g.members[id][body.LoginOrEmail] = body.Role
		reply(w, http.StatusOK, map[string]any{"message": "User added to organization"})
	}
}

// reload applies the provisioning files as Grafana does: every *.yaml of
// the directory, data sources and providers by orgId (default 1), and an
// orgId without an organization fails the whole reload.
func (g *Grafana) reload(w http.ResponseWriter, r *http.Request) {
	what := r.PathValue("what")
	if what != "datasources" && what != "dashboards" {
		reply(w, http.StatusNotFound, map[string]any{"message": "not found"})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.apply(what); err != nil {
		reply(w, http.StatusInternalServerError, map[string]any{"message": err.Error()})
		return
	}
	g.Reloads++
	reply(w, http.StatusOK, map[string]any{"message": what + " config reloaded"})
}

func (g *Grafana) apply(what string) error {
	files, _ := filepath.Glob(filepath.Join(g.Dir, what, "*.yaml"))
	ds, provs := map[int64][]provision.Datasource{}, map[int64][]provision.Provider{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var file struct {
			Datasources []provision.Datasource `yaml:"datasources"`
			Providers   []provision.Provider   `yaml:"providers"`
		}
		if err := yaml.Unmarshal(raw, &file); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, d := range file.Datasources {
			if d.OrgID == 0 {
				d.OrgID = 1
			}
			if g.orgs[d.OrgID] == "" {
				return fmt.Errorf("data source %s: organization %d not found", d.Name, d.OrgID)
			}
			ds[d.OrgID] = append(ds[d.OrgID], d)
		}
		for _, p := range file.Providers {
			if p.OrgID == 0 {
				p.OrgID = 1
			}
			if g.orgs[p.OrgID] == "" {
				return fmt.Errorf("dashboard provider %s: organization %d not found", p.Name, p.OrgID)
			}
			provs[p.OrgID] = append(provs[p.OrgID], p)
		}
	}
	if what == "datasources" {
		g.Datasources = ds
	} else {
		g.Providers = provs
	}
	return nil
}

// Orgs returns the organizations by id.
func (g *Grafana) Orgs() map[int64]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[int64]string{}
	for k, v := range g.orgs {
		out[k] = v
	}
	return out
}

// Reachable lists the data sources (uid) of pluginType that login can
// query: those of every organization they are a member of, whatever their
// role (OSS Grafana has no per-data-source permissions).
func (g *Grafana) Reachable(login, pluginType string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for id, m := range g.members {
		if m[login] == "" {
			continue
		}
		for _, d := range g.Datasources[id] {
			if d.Type == pluginType {
				out = append(out, d.UID+"@"+strings.TrimSpace(fmt.Sprint(d.JSONData["org"])))
			}
		}
	}
	return out
}
