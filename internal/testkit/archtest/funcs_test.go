package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Limits of one function in a production package.
const (
	maxLines      = 80
	maxComplexity = 20
)

// goList runs `go list` in the module root with args and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = moduleRoot(t)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return strings.Fields(string(out))
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// module is the import path of this module.
const module = "github.com/phonesignals/phonesignals"

// testSupport are the packages outside internal/testkit that exist for
// tests, benchmarks and the demo only: the benchmark harness of `make
// bench-e2e` and the demo binary of `make demo` (simulated providers and
// the fixture's ground truth).
var testSupport = map[string]bool{
	module + "/cmd/bench-e2e":         true,
	module + "/cmd/phonesignals-demo": true,
}

// isTestPackage reports whether import path p is a test-only package: a
// test double package (…test) or one of testSupport.
func isTestPackage(p string) bool {
	base := p[strings.LastIndex(p, "/")+1:]
	return strings.HasSuffix(base, "test") || testSupport[p] || strings.HasPrefix(p, module+"/internal/testkit/")
}

// productionPackages lists the module's packages that ship: not test
// packages (the demo among them).
func productionPackages(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range goList(t, "./...") {
		if !isTestPackage(p) {
			out = append(out, p)
		}
	}
	return out
}

// TestFunctionSize fails for any function of a production package longer
// than maxLines lines or with a cyclomatic complexity above maxComplexity.
func TestFunctionSize(t *testing.T) {
	var bad []string
	for _, p := range productionPackages(t) {
		dir := goList(t, "-f", "{{.Dir}}", p)[0]
		files := goList(t, "-f", `{{range .GoFiles}}{{.}} {{end}}{{range .CgoFiles}}{{.}} {{end}}`, p)
		for _, f := range files {
			bad = append(bad, checkFile(t, filepath.Join(dir, f))...)
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

func checkFile(t *testing.T, path string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	rel, _ := filepath.Rel(moduleRoot(t), path)
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
		cc := Complexity(fn)
		name := funcName(fn)
		if lines > maxLines {
			bad = append(bad, fmt.Sprintf("%s: %s is %d lines long (limit %d): split it", rel, name, lines, maxLines))
		}
		if cc > maxComplexity {
			bad = append(bad, fmt.Sprintf("%s: %s has cyclomatic complexity %d (limit %d): split it", rel, name, cc, maxComplexity))
		}
	}
	return bad
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	typ := fn.Recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
			continue
		case *ast.IndexExpr:
			typ = x.X
			continue
		case *ast.IndexListExpr:
			typ = x.X
			continue
		}
		break
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}

// Complexity is the cyclomatic complexity of fn as gocyclo counts it: 1,
// plus one per if, for, range, non-default case or comm clause, && and ||.
// Function literals inside fn count towards fn.
func Complexity(fn ast.Node) int {
	c := 1
	ast.Inspect(fn, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if x.List != nil {
				c++
			}
		case *ast.CommClause:
			if x.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if x.Op == token.LAND || x.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}
