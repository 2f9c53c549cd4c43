package pypy

import (
	"bytes"
	"strings"
	"testing"
)

// The loader learns from loaderTable what to do with each operation of the uwsgi module:
// every operation of Ops once, in a byte, and each refusal naming the uwsgi function.
func TestLoaderTable(t *testing.T) {
	seen := map[Op]bool{}
	for b := loaderTable(); len(b) > 0; {
		end := bytes.IndexByte(b[2:], 0)
		if end < 0 {
			t.Fatalf("a row without its NUL: %q", b)
		}
		op, class, refusal := Op(b[0]), beforeFork(b[1]), string(b[2:2+end])
		b = b[3+end:]
		spec := OpByNumber(int(op))
		if spec == nil || seen[op] {
			t.Fatalf("operation %d: unknown or twice", op)
		}
		seen[op] = true
		if class != loaderOps[op] {
			t.Errorf("%s: class %d, want %d", spec, class, loaderOps[op])
		}
		call, _, _ := strings.Cut(spec.Uwsgi, ",")
		if want := "uwsgi." + call + "() needs a running worker"; (class == refuse) != strings.HasPrefix(refusal, want) {
			t.Errorf("%s (class %d): refusal %q, want it to start %q exactly when refused", spec, class, refusal, want)
		}
	}
	if len(seen) != len(Ops) {
		t.Errorf("the table has %d operations, Ops %d", len(seen), len(Ops))
	}
	for op := range loaderOps {
		if OpByNumber(int(op)) == nil || op > 255 {
			t.Errorf("loaderOps names operation %d, which Ops lacks or a byte cannot hold", op)
		}
	}
}
