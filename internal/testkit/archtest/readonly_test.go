package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// readWiring are the packages whose functions wire the commands that only
// read (review, org list, employees list, cycles list, doctor, sync
// status, dlq list, aggregates verify): the CLI, deps and orgs.
var readWiring = []string{"cmd/phonesignals", "internal/app/deps", "internal/app/orgs"}

// changesSomething are the calls a read command must never reach: the
// migration runner and the local ClickHouse server's launcher.
var changesSomething = map[string]bool{
	".Migrate": true, "chserver.Ensure": true, "chserver.Start": true, "chserver.StartChild": true,
}

// TestReadCommandsReachNoMigrationOrLauncher follows the calls of every
// read command's action (each function passed to cmd/phonesignals'
// readAction and each function calling ReadStore) through readWiring, by
// name, and fails when one reaches store.Migrate or the server launcher.
// Matching by name over-approximates (two functions of one name are
// both followed), so a pass means none can be reached.
func TestReadCommandsReachNoMigrationOrLauncher(t *testing.T) {
	funcs := map[string][]ast.Node{}
	var entries []ast.Node
	for _, dir := range readWiring {
		for _, f := range parseDir(t, filepath.Join(moduleRoot(t), dir)) {
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncDecl:
					if n.Body != nil {
						funcs[n.Name.Name] = append(funcs[n.Name.Name], n.Body)
						if callsName(n.Body, "ReadStore") {
							entries = append(entries, n.Body)
						}
					}
				case *ast.FuncLit:
					if callsName(n.Body, "ReadStore") {
						entries = append(entries, n.Body)
					}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "readAction" && len(n.Args) == 1 {
						entries = append(entries, n.Args[0])
					}
				}
				return true
			})
		}
	}
	if len(entries) < 8 {
		t.Fatalf("found %d read command actions, want at least 8: is readAction still the read commands' wrapper?", len(entries))
	}
	var bad []string
	for _, e := range entries {
		for call, via := range reach(e, funcs) {
			if changesSomething[call] {
				bad = append(bad, "a read command reaches "+call+" via "+via)
			}
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// parseDir parses the non-test Go files of dir.
func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*ast.File
	fset := token.NewFileSet()
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range f.Imports {
			path := strings.Trim(im.Path.Value, `"`)
			name := path[strings.LastIndex(path, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			importedNames[name] = true
		}
		out = append(out, f)
	}
	return out
}

// callName is a call's callee: "pkg.Name" for a package-qualified call
// (a lower-case qualifier that is not a variable is taken as a package),
// ".Name" for a method call, "Name" for a plain one.
func callName(c *ast.CallExpr) (qualified, bare string) {
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name, f.Name
	case *ast.SelectorExpr:
		if id, ok := f.X.(*ast.Ident); ok && isPackageName(id.Name) {
			return id.Name + "." + f.Sel.Name, f.Sel.Name
		}
		return "." + f.Sel.Name, f.Sel.Name
	}
	return "", ""
}

// importedNames are the names of the packages readWiring imports, so a
// call through one is told from a method call (set by parseDir).
var importedNames = map[string]bool{}

// isPackageName says a qualifier names an imported package.
func isPackageName(s string) bool { return importedNames[s] }

// followed says a package-qualified call is followed into its body: only
// into readWiring's own packages, whose functions the test holds.
func followed(q string) bool {
	pkg, _, ok := strings.Cut(q, ".")
	return !ok || pkg == "" || pkg == "deps" || pkg == "orgs"
}

// callsName says body calls a function or method called name.
func callsName(body ast.Node, name string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if _, bare := callName(c); bare == name {
				found = true
			}
		}
		return !found
	})
	return found
}

// funcValues are c's arguments that name a method (d.Store, not called
// but handed over), each wrapped as a call of it. Plain identifiers are
// left out: they are mostly variables.
func funcValues(c *ast.CallExpr) []*ast.CallExpr {
	var out []*ast.CallExpr
	for _, a := range c.Args {
		if sel, ok := a.(*ast.SelectorExpr); ok {
			out = append(out, &ast.CallExpr{Fun: sel})
		}
	}
	return out
}

// reach returns every call reachable from root through funcs, each with
// the chain of names that leads to it.
func reach(root ast.Node, funcs map[string][]ast.Node) map[string]string {
	out := map[string]string{}
	seen := map[string]bool{}
	type item struct {
		n   ast.Node
		via string
	}
	queue := []item{{root, "action"}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		ast.Inspect(it.n, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			// The callee, and every function passed as a value (d.Store
			// handed to a helper that calls it).
			for _, callee := range append([]*ast.CallExpr{c}, funcValues(c)...) {
				q, bare := callName(callee)
				if q == "" {
					continue
				}
				via := it.via + " -> " + q
				if _, ok := out[q]; !ok {
					out[q] = via
				}
				if followed(q) && !seen[bare] {
					seen[bare] = true
					for _, body := range funcs[bare] {
						queue = append(queue, item{body, via})
					}
				}
			}
			return true
		})
	}
	return out
}
