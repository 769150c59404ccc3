package archtest

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// layers places every production package in the data path, lowest first:
// a package may import packages of its own layer or a lower one, never a
// higher one. The order is the one the tree reads in (internal/README.md):
// platform and the shared types under everything; then what the stages
// write to (ClickHouse access, Kafka, the per-day aggregates, which the
// loader marks); then the stages ingest → transform → load; the read side
// (review); the use cases; and the binaries on top. So a stage never
// imports the stage that consumes its output, and platform never imports a
// stage.
var layers = []struct {
	prefix string // a folder, matched with its subfolders
	layer  int
}{
	{"internal/platform", 0},
	{"internal/model", 1},
	{"queries", 2},
	{"internal/localserver", 2},
	{"internal/store", 3},
	{"internal/bus", 3},
	{"load/aggregate", 4},
	{"ingest", 5},
	{"transform", 6},
	{"load", 7},
	{"internal/review", 8},
	{"internal/app", 9},
	{"grafana", 10},
	{"cmd", 11},
}

// layerOf returns the layer of a module-relative package path, by its
// longest matching prefix, and false for a package no layer places.
func layerOf(rel string) (int, bool) {
	best, layer := -1, 0
	for _, l := range layers {
		if (rel == l.prefix || strings.HasPrefix(rel, l.prefix+"/")) && len(l.prefix) > best {
			best, layer = len(l.prefix), l.layer
		}
	}
	return layer, best >= 0
}

// TestLayersImportDownward fails when a production package imports a
// package of a later stage (transform importing load, a provider importing
// the store's readers, platform importing a stage), when a provider's
// connector imports another provider's, or when a new folder is not placed
// in the layers table.
func TestLayersImportDownward(t *testing.T) {
	graph := moduleGraph(t)
	var bad []string
	for _, p := range productionPackages(t) {
		rel := strings.TrimPrefix(p, module+"/")
		from, ok := layerOf(rel)
		if !ok {
			bad = append(bad, rel+" is in no layer of layout_test.go: place its folder in the data path")
			continue
		}
		for _, imp := range graph[p].Imports {
			irel, mod := strings.CutPrefix(imp, module+"/")
			if !mod || isTestPackage(imp) {
				continue
			}
			if to, ok := layerOf(irel); ok && to > from {
				bad = append(bad, rel+" (layer "+itoa(from)+") imports "+irel+" (layer "+itoa(to)+"), a later stage")
			}
			if otherProvider(rel, irel) {
				bad = append(bad, rel+" imports another provider's connector "+irel)
			}
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// otherProvider reports whether from and to are two different connectors
// under ingest/ (ingest/providers, the registry, may import them all).
func otherProvider(from, to string) bool {
	top := func(p string) string {
		parts := strings.Split(p, "/")
		if len(parts) < 2 || parts[0] != "ingest" || parts[1] == "providers" {
			return ""
		}
		return parts[1]
	}
	a, b := top(from), top(to)
	return a != "" && b != "" && a != b
}

var itoa = strconv.Itoa

// providerName matches a provider's id as code uses it: the lowercase id
// as a whole word.
var providerName = regexp.MustCompile(`\b(aircall|ringcentral)\b`)

// TestNoProviderNameOutsideItsConnector fails when production code outside
// ingest/<provider> decides by a provider: an identifier naming one (a
// package selector such as aircall.X, a constant such as ProviderAircall)
// or a string literal that is a provider's id. Help text that names a
// provider in prose ("Aircall users") is documentation and allowed. The
// SQL files are held to the same rule, comments and the frozen migrations
// aside.
func TestNoProviderNameOutsideItsConnector(t *testing.T) {
	root := moduleRoot(t)
	var bad []string
	for _, p := range productionPackages(t) {
		rel := strings.TrimPrefix(p, module+"/")
		if rel == "ingest/providers" || strings.HasPrefix(rel, "ingest/aircall") || strings.HasPrefix(rel, "ingest/ringcentral") {
			continue
		}
		bad = append(bad, providerNamesInGo(t, filepath.Join(root, rel))...)
	}
	bad = append(bad, providerNamesInSQL(t, root)...)
	for _, b := range bad {
		t.Error(b)
	}
}

// providerNamesInGo lists the identifiers and string literals of dir's
// non-test Go files that name a provider.
func providerNamesInGo(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var bad []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		fs := token.NewFileSet()
		file, err := parser.ParseFile(fs, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ImportSpec:
				return false
			case *ast.Ident:
				if providerName.MatchString(strings.ToLower(x.Name)) || strings.Contains(strings.ToLower(x.Name), "provideraircall") || strings.Contains(strings.ToLower(x.Name), "providerringcentral") {
					bad = append(bad, fs.Position(x.Pos()).String()+": identifier "+x.Name)
				}
			case *ast.BasicLit:
				if x.Kind == token.STRING && isProviderID(x.Value) {
					bad = append(bad, fs.Position(x.Pos()).String()+": literal "+x.Value)
				}
			}
			return true
		})
	}
	return bad
}

// isProviderID reports whether a Go string literal is a provider's id
// (possibly quoted for SQL), not prose that mentions one.
func isProviderID(lit string) bool {
	s := strings.Trim(lit, "\"`'")
	return s == "aircall" || s == "ringcentral"
}

// frozenMigrations are the migrations applied before provider names left
// the SQL; they record what existing databases ran, so they stay as they
// were, and a later migration replaces the views they created.
var frozenMigrations = regexp.MustCompile(`^queries/migrations/0(0[0-9]|1[0-3])_`)

// providerNamesInSQL lists the lines of queries/ SQL, outside comments and
// frozen migrations, that name a provider's id.
func providerNamesInSQL(t *testing.T, root string) []string {
	t.Helper()
	var bad []string
	_ = filepath.WalkDir(filepath.Join(root, "queries"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if frozenMigrations.MatchString(rel) {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			code, _, _ := strings.Cut(sc.Text(), "--")
			if providerName.MatchString(strings.ToLower(code)) {
				bad = append(bad, rel+":"+itoa(n)+": "+strings.TrimSpace(code))
			}
		}
		return sc.Err()
	})
	return bad
}
