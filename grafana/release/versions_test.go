package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// version is MAJOR.MINOR.PATCH.
type version [3]int

func parseVersion(s string) (version, error) {
	var v version
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, fmt.Errorf("%q is not MAJOR.MINOR.PATCH", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return v, fmt.Errorf("%q is not MAJOR.MINOR.PATCH", s)
		}
		v[i] = n
	}
	return v, nil
}

func (v version) cmp(w version) int {
	for i := range v {
		if v[i] != w[i] {
			return v[i] - w[i]
		}
	}
	return 0
}

// satisfies evaluates an npm range of space-separated comparators
// (>=, >, <=, <, = on full versions; what grafanaDependency uses here).
// It returns the range's lower bound too.
func satisfies(t *testing.T, rng string, v version) (ok bool, lower version) {
	t.Helper()
	ok = true
	for _, c := range strings.Fields(rng) {
		op := c[:len(c)-len(strings.TrimLeft(c, "<>="))]
		w, err := parseVersion(c[len(op):])
		if err != nil {
			t.Fatalf("grafanaDependency %q: %v (this test reads >=, >, <=, <, = comparators only)", rng, err)
		}
		d := v.cmp(w)
		switch op {
		case ">=":
			ok, lower = ok && d >= 0, w
		case ">":
			ok, lower = ok && d > 0, w
		case "<=":
			ok = ok && d <= 0
		case "<":
			ok = ok && d < 0
		case "=", "":
			ok, lower = ok && d == 0, w
		default:
			t.Fatalf("grafanaDependency %q: comparator %q not read by this test", rng, c)
		}
	}
	return ok, lower
}

// TestGrafanaVersionsAgree (issue 18, section 4): plugin.json's
// grafanaDependency is the range actually tested. The frontend is built
// and tested against one @grafana/* release (package.json, exact pins);
// the compose stack runs the Grafana image of the Dockerfile's grafana
// stage. Both must be in the range, the image of the same minor release
// as the packages, and the range must not claim a Grafana older than that
// minor release (nothing tests one).
func TestGrafanaVersionsAgree(t *testing.T) {
	root := repoRoot(t)
	tested := grafanaPackagesVersion(t, root)
	image := composeGrafanaImage(t, root)
	raw, err := os.ReadFile(filepath.Join(root, "grafana", "src", "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pj struct {
		Dependencies struct{ GrafanaDependency string } `json:"dependencies"`
	}
	if err := json.Unmarshal(raw, &pj); err != nil {
		t.Fatal(err)
	}
	rng := pj.Dependencies.GrafanaDependency
	okTested, lower := satisfies(t, rng, tested)
	okImage, _ := satisfies(t, rng, image)
	if !okTested || !okImage {
		t.Errorf("grafanaDependency %q excludes what is tested: @grafana/* %v (package.json), compose's grafana/grafana:%v (ok %v, %v)", rng, tested, image, okTested, okImage)
	}
	if image[0] != tested[0] || image[1] != tested[1] {
		t.Errorf("compose runs grafana/grafana:%d.%d.%d but the frontend is built and tested against @grafana/* %d.%d.%d: run the release the plugin is built for",
			image[0], image[1], image[2], tested[0], tested[1], tested[2])
	}
	if floor := (version{tested[0], tested[1], 0}); lower.cmp(floor) < 0 {
		t.Errorf("grafanaDependency %q claims Grafana %d.%d.%d, older than anything tested (@grafana/* %d.%d.x, grafana/grafana:%d.%d.%d): use >=%d.%d.0",
			rng, lower[0], lower[1], lower[2], tested[0], tested[1], image[0], image[1], image[2], tested[0], tested[1])
	}
}

// grafanaPackagesVersion is the one version every @grafana/* runtime
// dependency of package.json is pinned to.
func grafanaPackagesVersion(t *testing.T, root string) version {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "grafana", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for name, v := range pkg.Dependencies {
		if strings.HasPrefix(name, "@grafana/") {
			seen[v] = name
		}
	}
	if len(seen) != 1 {
		t.Fatalf("grafana/package.json pins @grafana/* to %v: want one exact version", seen)
	}
	for v := range seen {
		parsed, err := parseVersion(v)
		if err != nil {
			t.Fatalf("grafana/package.json @grafana/*: %v (pin an exact version)", err)
		}
		return parsed
	}
	return version{}
}

// composeGrafanaImage is the version of the grafana/grafana image the
// compose stack's grafana service runs: the base of the Dockerfile stage
// it builds.
func composeGrafanaImage(t *testing.T, root string) version {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image string `yaml:"image"`
			Build struct {
				Dockerfile string `yaml:"dockerfile"`
				Target     string `yaml:"target"`
			} `yaml:"build"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	svc, ok := compose.Services["grafana"]
	if !ok {
		t.Fatal("docker-compose.yml has no grafana service")
	}
	if svc.Build.Dockerfile == "" {
		if m := regexp.MustCompile(`^grafana/grafana(?:-oss)?:(\S+)$`).FindStringSubmatch(svc.Image); m != nil {
			v, err := parseVersion(m[1])
			if err != nil {
				t.Fatalf("compose's grafana image %s: %v", svc.Image, err)
			}
			return v
		}
		t.Fatalf("compose's grafana service runs %q: not grafana/grafana:X.Y.Z", svc.Image)
	}
	df, err := os.ReadFile(filepath.Join(root, svc.Build.Dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^FROM\s+grafana/grafana(?:-oss)?:(\S+)\s+AS\s+` + regexp.QuoteMeta(svc.Build.Target) + `\s*$`)
	m := re.FindSubmatch(df)
	if m == nil {
		t.Fatalf("%s has no stage %q FROM grafana/grafana:X.Y.Z", svc.Build.Dockerfile, svc.Build.Target)
	}
	v, err := parseVersion(string(m[1]))
	if err != nil {
		t.Fatalf("%s stage %s: %v", svc.Build.Dockerfile, svc.Build.Target, err)
	}
	return v
}
