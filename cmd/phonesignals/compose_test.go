package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

// The compose stack cannot start here (no Docker): these tests read
// docker-compose.yml, the Dockerfile and .dockerignore as Docker would and
// check what made `docker compose up` fail or leak before.

const repoRoot = "../.."

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	PullPolicy  string            `yaml:"pull_policy"`
	Build       *composeBuild     `yaml:"build"`
	Command     any               `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Healthcheck map[string]any    `yaml:"healthcheck"`
	Restart     string            `yaml:"restart"`
	Profiles    []string          `yaml:"profiles"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

type composeBuild struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Target     string            `yaml:"target"`
	Args       map[string]string `yaml:"args"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(f.Services) == 0 {
		t.Fatal("docker-compose.yml: no services")
	}
	return f
}

// builtHere reports whether the service's image is built from this
// repository (and so is never pulled).
func (s composeService) builtHere() bool { return s.Build != nil }

// pinnedRe accepts a digest, or a tag with at least three version numbers
// (a "25.8" or "latest" tag moves under the stack).
var pinnedRe = regexp.MustCompile(`(@sha256:[0-9a-f]{64}$)|(:v?\d+\.\d+\.\d+[^:/]*$)`)

// expandDefaults replaces ${VAR:-default} by its default and drops
// ${VAR:?msg}, so an image reference can be checked as compose resolves it
// with an empty environment.
func expandDefaults(s string) string {
	return regexp.MustCompile(`\$\{[A-Z0-9_]+:-([^}]*)\}`).ReplaceAllString(s, "$1")
}

func TestComposeImagesPinned(t *testing.T) {
	f := loadCompose(t)
	for name, s := range f.Services {
		if s.builtHere() {
			if !slices.Contains([]string{"build", "never"}, s.PullPolicy) {
				t.Errorf("service %s: image %s is built here; set pull_policy: build (it exists in no registry), got %q", name, s.Image, s.PullPolicy)
			}
			continue
		}
		if s.Image == "" {
			t.Errorf("service %s: no image and no build", name)
			continue
		}
		if !pinnedRe.MatchString(expandDefaults(s.Image)) {
			t.Errorf("service %s: image %q is not pinned: use a full version tag (x.y.z) or a digest", name, s.Image)
		}
	}
	// The Dockerfile's bases too, but not its own stages.
	stages := map[string]bool{}
	for _, from := range dockerfileFroms(t) {
		img := from[0]
		if !stages[img] && !pinnedRe.MatchString(img) {
			t.Errorf("Dockerfile: FROM %s is not pinned: use a full version tag or a digest", img)
		}
		if from[1] != "" {
			stages[from[1]] = true
		}
	}
}

// dockerfileFroms returns [image, stage name] of every FROM line.
func dockerfileFroms(t *testing.T) [][2]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "cmd/phonesignals/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.EqualFold(fields[0], "FROM") {
			continue
		}
		fields = slices.DeleteFunc(fields[1:], func(s string) bool { return strings.HasPrefix(s, "--platform=") })
		var stage string
		if len(fields) >= 3 && strings.EqualFold(fields[1], "AS") {
			stage = fields[2]
		}
		out = append(out, [2]string{fields[0], stage})
	}
	return out
}

func TestComposeBuildsVersionedImageAndPlugin(t *testing.T) {
	f := loadCompose(t)
	b, err := os.ReadFile(filepath.Join(repoRoot, "cmd/phonesignals/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	stages := map[string]bool{}
	for _, from := range dockerfileFroms(t) {
		stages[from[1]] = true
	}
	byImage := map[string][]string{}
	for name, s := range f.Services {
		if strings.HasPrefix(s.Image, "phonesignals:") {
			byImage[s.Image] = append(byImage[s.Image], name)
			if !s.builtHere() {
				t.Errorf("service %s uses %s without build:; `docker compose up` would try to pull it", name, s.Image)
			}
		}
		if s.Build == nil {
			continue
		}
		if s.Build.Dockerfile != "cmd/phonesignals/Dockerfile" || !stages[s.Build.Target] {
			t.Errorf("service %s: build %+v: want dockerfile cmd/phonesignals/Dockerfile and one of its stages as target", name, *s.Build)
		}
	}
	if len(byImage) != 1 {
		t.Errorf("phonesignals services use images %v; want one shared image", byImage)
	}
	for img, svcs := range byImage {
		if len(svcs) < 3 {
			t.Errorf("image %s used by %v only; want serve, migrate and the CLI", img, svcs)
		}
		if s := f.Services[svcs[0]]; s.Build != nil && s.Build.Args["VERSION"] == "" {
			t.Errorf("service %s: build args lack VERSION; the image would say `phonesignals dev`", svcs[0])
		}
	}
	for _, want := range []string{"ARG VERSION", "-X main.version=${VERSION}", "GOARCH=$arch bash grafana/build.sh", "for arch in amd64 arm64"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q (version stamp, plugin for linux amd64 and arm64)", want)
		}
	}
}

// generatedPaths are mount sources that a documented build step makes.
var generatedPaths = map[string]string{"grafana/dist": "grafana"}

func TestComposeMountsExist(t *testing.T) {
	f := loadCompose(t)
	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range f.Services {
		for _, v := range s.Volumes {
			src, _, ok := strings.Cut(v, ":")
			if !ok {
				t.Errorf("service %s: volume %q: want SOURCE:TARGET", name, v)
				continue
			}
			if !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
				if _, ok := f.Volumes[src]; !ok {
					t.Errorf("service %s: named volume %q is not declared under volumes:", name, src)
				}
				continue
			}
			rel := path.Clean(src)
			if step, ok := generatedPaths[rel]; ok {
				if !regexp.MustCompile(`(?m)^` + step + `:`).Match(mk) {
					t.Errorf("service %s mounts %s, made by `make %s`, which the Makefile lacks", name, src, step)
				}
				continue
			}
			if _, err := os.Stat(filepath.Join(repoRoot, rel)); err != nil {
				t.Errorf("service %s mounts %s, which is not in the repository: %v", name, src, err)
			}
		}
	}
}

// binaryEnvNames is every environment variable the binary reads: its
// flags' EnvVars plus the master key.
func binaryEnvNames() map[string]bool {
	names := map[string]bool{secret.EnvKey: true}
	for _, n := range secretEnvNames {
		names[n] = true
	}
	var walk func(flags []cli.Flag, cmds []*cli.Command)
	walk = func(flags []cli.Flag, cmds []*cli.Command) {
		for _, f := range flags {
			if ef, ok := f.(interface{ GetEnvVars() []string }); ok {
				for _, n := range ef.GetEnvVars() {
					names[n] = true
				}
			}
		}
		for _, c := range cmds {
			walk(c.Flags, c.Subcommands)
		}
	}
	app := newApp()
	walk(app.Flags, app.Commands)
	return names
}

func TestComposeEnvironmentIsRead(t *testing.T) {
	f := loadCompose(t)
	known := binaryEnvNames()
	for name, s := range f.Services {
		if !strings.HasPrefix(s.Image, "phonesignals:") {
			continue
		}
		if len(s.Environment) == 0 {
			t.Errorf("service %s: no environment; it would start the embedded broker and a local ClickHouse", name)
		}
		for k := range s.Environment {
			if !known[k] {
				t.Errorf("service %s: environment %s is read by nothing in phonesignals (typo?)", name, k)
			}
		}
	}
}

// TestComposeClickHousePassword: the server's password is the one every
// client sends, all from one variable of the operator's environment.
func TestComposeClickHousePassword(t *testing.T) {
	f := loadCompose(t)
	server := f.Services["clickhouse"].Environment["CLICKHOUSE_PASSWORD"]
	if !strings.HasPrefix(server, "${CLICKHOUSE_PASSWORD") {
		t.Fatalf("clickhouse: CLICKHOUSE_PASSWORD %q; want it from the environment", server)
	}
	if _, ok := f.Services["clickhouse"].Environment["CLICKHOUSE_SKIP_USER_SETUP"]; ok {
		t.Error("clickhouse: CLICKHOUSE_SKIP_USER_SETUP leaves user default without a password")
	}
	for name, s := range f.Services {
		if strings.HasPrefix(s.Image, "phonesignals") && s.Environment[envClickHousePassword] != server {
			t.Errorf("service %s: %s %q, want the server's %q", name, envClickHousePassword, s.Environment[envClickHousePassword], server)
		}
	}
}

func TestComposeDependsOn(t *testing.T) {
	f := loadCompose(t)
	for name, s := range f.Services {
		for dep, d := range s.DependsOn {
			target, ok := f.Services[dep]
			if !ok {
				t.Errorf("service %s depends on %s, which does not exist", name, dep)
				continue
			}
			switch d.Condition {
			case "service_healthy":
				if target.Healthcheck == nil {
					t.Errorf("service %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
				}
			case "service_completed_successfully":
				if target.Restart != "" && target.Restart != "no" {
					t.Errorf("service %s waits for %s to complete, but %s restarts (%s)", name, dep, dep, target.Restart)
				}
			default:
				t.Errorf("service %s: depends_on %s: condition %q; want service_healthy or service_completed_successfully", name, dep, d.Condition)
			}
		}
	}
	// Migrations run once, before anything that reads or writes the schema.
	m, ok := f.Services["migrate"]
	if !ok || !slices.Equal(commandList(t, m.Command), []string{"migrate"}) {
		t.Fatalf("want a one-shot `migrate` service running phonesignals migrate, got %+v", m)
	}
	for _, name := range []string{"serve-a", "serve-b", "phonesignals", "grafana"} {
		if f.Services[name].DependsOn["migrate"].Condition != "service_completed_successfully" {
			t.Errorf("service %s must depend on migrate with service_completed_successfully", name)
		}
	}
}

// TestComposeLongRunningHealth: the services that run for good report
// ready only when their dependencies answer, through the binary itself
// (the distroless image has no shell or curl) on the metrics address.
func TestComposeLongRunningHealth(t *testing.T) {
	f := loadCompose(t)
	for _, name := range []string{"serve-a", "serve-b"} {
		s := f.Services[name]
		addr := s.Environment["PHONESIGNALS_METRICS_ADDR"]
		_, port, ok := strings.Cut(addr, ":")
		if !ok {
			t.Errorf("service %s: PHONESIGNALS_METRICS_ADDR %q: want HOST:PORT", name, addr)
			continue
		}
		test := commandList(t, s.Healthcheck["test"])
		want := []string{"CMD", "/usr/local/bin/phonesignals", "healthcheck", "http://127.0.0.1:" + port + "/readyz"}
		if !slices.Equal(test, want) {
			t.Errorf("service %s: healthcheck %q, want %q", name, test, want)
		}
	}
}

func commandList(t *testing.T, c any) []string {
	t.Helper()
	items, ok := c.([]any)
	if !ok {
		t.Fatalf("command %#v: want a list, one argument per item", c)
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			t.Fatalf("command item %#v: want a string (quote numbers)", it)
		}
		out[i] = s
	}
	return out
}

func TestComposeRedpandaArgsSplit(t *testing.T) {
	f := loadCompose(t)
	args := commandList(t, f.Services["redpanda"].Command)
	if len(args) < 2 || args[0] != "redpanda" || args[1] != "start" {
		t.Errorf("redpanda command %q: the image runs rpk \"$@\", so it must begin with redpanda, start", args)
	}
	for _, a := range args {
		if strings.ContainsAny(a, " \t") {
			t.Errorf("redpanda argument %q holds a space: rpk gets it as one argument and exits; split it", a)
		}
	}
	if i := slices.Index(args, "--mode"); i < 0 || i+1 >= len(args) || args[i+1] != "dev-container" {
		t.Errorf("redpanda command %q: want --mode dev-container", args)
	}
	hc, _ := json.Marshal(f.Services["redpanda"].Healthcheck)
	if !strings.Contains(string(hc), "enable_transactions") {
		t.Errorf("redpanda healthcheck %s: must check enable_transactions (the transform commits in transactions)", hc)
	}
}

func TestComposeGrafanaPluginID(t *testing.T) {
	f := loadCompose(t)
	b, err := os.ReadFile(filepath.Join(repoRoot, "grafana/src/plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	g := f.Services["grafana"]
	allowed := strings.Split(g.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"], ",")
	if !slices.Contains(allowed, p.ID) {
		t.Errorf("GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=%v lacks the plugin id %q of grafana/src/plugin.json", allowed, p.ID)
	}
	if !strings.HasPrefix(g.Environment["GF_SECURITY_ADMIN_PASSWORD"], "${") {
		t.Errorf("grafana admin password %q: want it from the environment", g.Environment["GF_SECURITY_ADMIN_PASSWORD"])
	}
	hasData := slices.ContainsFunc(g.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/var/lib/grafana") })
	if !hasData {
		t.Errorf("grafana volumes %v: want a named volume on /var/lib/grafana (users, stars, sessions)", g.Volumes)
	}
}

// dockerignored reports whether p is excluded by the patterns, following
// Docker's rules closely enough for our patterns: a match on a directory
// excludes what is under it, ** matches any number of directories, a
// leading ! re-includes.
func dockerignored(patterns []string, p string) bool {
	out := false
	parts := strings.Split(p, "/")
	for _, pat := range patterns {
		neg := strings.HasPrefix(pat, "!")
		pat = strings.Trim(strings.TrimPrefix(pat, "!"), "/")
		if matchIgnore(strings.Split(pat, "/"), parts) {
			out = !neg
		}
	}
	return out
}

func matchIgnore(pat, parts []string) bool {
	if len(pat) == 0 {
		return true // the pattern matched a parent directory
	}
	if pat[0] == "**" {
		for i := 0; i <= len(parts); i++ {
			if matchIgnore(pat[1:], parts[i:]) {
				return true
			}
		}
		return false
	}
	if len(parts) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], parts[0])
	return ok && matchIgnore(pat[1:], parts[1:])
}

func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatalf(".dockerignore: %v (without it `COPY . .` sends the master key to the daemon)", err)
	}
	var pats []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			pats = append(pats, l)
		}
	}
	for _, p := range []string{".phonesignals/master.key", ".phonesignals/clickhouse/data/x.bin", "cmd/phonesignals/.phonesignals/master.key",
		"master.key", "deploy/tls/server.key", "bin/phonesignals", "grafana/dist/module.js", "grafana/node_modules/x/y.js", ".env"} {
		if !dockerignored(pats, p) {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
	for _, p := range []string{"go.mod", "cmd/phonesignals/main.go", "grafana/build.sh", "grafana/src/module.ts", "grafana/package-lock.json", "queries/migrations/001_core.sql"} {
		if dockerignored(pats, p) {
			t.Errorf(".dockerignore excludes %s, which the image build needs", p)
		}
	}
}

// TestDockerfileStampsVersion runs the Dockerfile's own build command
// (stage build) here, as Docker would with VERSION=9.9.9-test, and asks
// the binary for its version.
func TestDockerfileStampsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "cmd/phonesignals/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The RUN instruction of the build stage, continuation lines joined.
	df := strings.ReplaceAll(string(b), "\\\n", " ")
	_, stage, ok := strings.Cut(df, " AS build\n")
	if !ok {
		t.Fatal("Dockerfile has no build stage")
	}
	var run string
	for _, line := range strings.Split(stage, "\n") {
		if strings.HasPrefix(line, "RUN ") {
			run = strings.TrimPrefix(line, "RUN ")
			break
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	run = strings.ReplaceAll(run, "/out/", out+"/")
	// -trimpath only changes file names in the binary; without it the
	// build reuses the test's compiled packages (seconds, not minutes).
	run = strings.Replace(run, "-trimpath ", "", 1)
	cmd := exec.Command("sh", "-c", run)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "VERSION=9.9.9-test", "TARGETOS=linux", "TARGETARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", run, err, msg)
	}
	got, err := exec.Command(filepath.Join(out, "phonesignals"), "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(got), "9.9.9-test") {
		t.Fatalf("phonesignals --version = %q, %v; want the VERSION build arg", got, err)
	}
}
