package worker

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"

	"uwsgo/internal/pypy"
)

// Every operation in pypy.Ops must be a case of uwsgiAPI.call (or of the functions it
// hands over to): one the table lists and no case takes would reach Python as "in the
// table but not carried out here" only when an app first calls it.
func TestEveryOperationIsCarriedOut(t *testing.T) {
	fset := token.NewFileSet()
	contract, err := parser.ParseFile(fset, "../pypy/contract.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	value := map[string]int{} // OpLock -> 1
	ast.Inspect(contract, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == 1 && len(vs.Values) == 1 {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.INT {
				v, _ := strconv.Atoi(lit.Value)
				value[vs.Names[0].Name] = v
			}
		}
		return true
	})
	api, err := parser.ParseFile(fset, "uwsgiapi.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	handled := map[int]bool{}
	ast.Inspect(api, func(n ast.Node) bool {
		cc, ok := n.(*ast.CaseClause)
		if !ok {
			return true
		}
		for _, e := range cc.List {
			if sel, ok := e.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "pypy" {
					if v, ok := value[sel.Sel.Name]; ok {
						handled[v] = true
					}
				}
			}
		}
		return true
	})
	for i := range pypy.Ops {
		if s := &pypy.Ops[i]; !handled[int(s.Op)] {
			t.Errorf("%s is in pypy.Ops but no case of uwsgiapi.go carries it out", s)
		}
	}
}
