package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the module root, two levels up from grafana/release.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestSourcePluginJSONTakesVersionFromBuild (issue 18, section 4):
// plugin.json's version and date are create-plugin's %VERSION% and %TODAY%
// placeholders, filled at build time, not hard-coded.
func TestSourcePluginJSONTakesVersionFromBuild(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "grafana", "src", "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pj struct {
		Info struct{ Version, Updated string } `json:"info"`
	}
	if err := json.Unmarshal(raw, &pj); err != nil {
		t.Fatal(err)
	}
	if pj.Info.Version != "%VERSION%" || pj.Info.Updated != "%TODAY%" {
		t.Errorf("grafana/src/plugin.json info.version %q, info.updated %q: want %%VERSION%% and %%TODAY%%, filled by the build from package.json and the build date", pj.Info.Version, pj.Info.Updated)
	}
}

func TestRenderPluginJSON(t *testing.T) {
	src := []byte(`{"id":"acme-x-datasource","info":{"version":"%VERSION%","updated":"%TODAY%","description":"%PLUGIN_ID% plugin"}}`)
	out, err := RenderPluginJSON(src, "1.2.3-rc.1", "2026-12-04")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"acme-x-datasource","info":{"version":"1.2.3-rc.1","updated":"2026-12-04","description":"acme-x-datasource plugin"}}`; string(out) != want {
		t.Errorf("rendered\n%s\nwant\n%s", out, want)
	}
	for _, c := range []struct{ src, version, date, want string }{
		{string(src), "1.2", "2026-12-04", "semantic version"},
		{string(src), "v1.2.3", "2026-12-04", "semantic version"},
		{string(src), "1.2.3", "04/12/2026", "YYYY-MM-DD"},
		{`{"info":{"version":"%VERSION%","x":"%BUILD%"}}`, "1.2.3", "2026-12-04", "%BUILD%"},
		{`{"info":`, "1.2.3", "2026-12-04", "plugin.json"},
	} {
		if _, err := RenderPluginJSON([]byte(c.src), c.version, c.date); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("RenderPluginJSON(%s, %q, %q): %v, want an error naming %q", c.src, c.version, c.date, err, c.want)
		}
	}
}

func TestBuildDateHonoursSourceDateEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1796342400") // 2026-12-04T00:00:00Z
	if d, err := BuildDate(); err != nil || d != "2026-12-04" {
		t.Errorf("BuildDate() = %q, %v; want 2026-12-04", d, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "soon")
	if _, err := BuildDate(); err == nil {
		t.Error("BuildDate accepted SOURCE_DATE_EPOCH=soon")
	}
}

func TestPackageVersion(t *testing.T) {
	v, err := PackageVersion(filepath.Join(repoRoot(t), "grafana", "package.json"))
	if err != nil || !semverRe.MatchString(v) {
		t.Fatalf("grafana/package.json version %q, %v", v, err)
	}
	bad := filepath.Join(t.TempDir(), "package.json")
	if err := os.WriteFile(bad, []byte(`{"version":"next"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PackageVersion(bad); err == nil {
		t.Error(`PackageVersion accepted "next"`)
	}
}
