package pypy

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// contractName matches the names the table gives the setup module. A leading underscore
// (the module's private _RPC_MAX_ITEMS) is a word character, so it never matches.
var contractName = regexp.MustCompile(`\b(?:(?:OP|STEP|SEND|SIGNAL|RPC|REPORT)_[A-Z_]+|HANDLED|FAILED_BEFORE_HEADERS|FAILED_AFTER_HEADERS|NO_APP|UWSGO_API_CDEF)\b`)

func tableNames() map[string]bool {
	names := map[string]bool{"UWSGO_API_CDEF": true}
	for _, c := range Constants {
		names[c.Name] = true
	}
	for _, s := range Ops {
		names[s.Name] = true
	}
	return names
}

// The embedded Python (the setup module and the uwsgi module's body) and the table must
// agree both ways: every contract name it uses comes from the table, and every name in
// the table is used (one it never uses is a number Go keeps for nothing, or a sign that
// the Python spells it differently).
func TestSetupUsesExactlyTheTable(t *testing.T) {
	table := tableNames()
	used := map[string]bool{}
	for _, n := range contractName.FindAllString(SetupSource+ModuleSource, -1) {
		used[n] = true
	}
	var unknown, unused []string
	for n := range used {
		if !table[n] {
			unknown = append(unknown, n)
		}
	}
	for n := range table {
		if !used[n] {
			unused = append(unused, n)
		}
	}
	sort.Strings(unknown)
	sort.Strings(unused)
	if len(unknown) > 0 {
		t.Errorf("the embedded Python uses names contract.go does not define: %v", unknown)
	}
	if len(unused) > 0 {
		t.Errorf("contract.go defines names the embedded Python never uses: %v", unused)
	}
}

// A number the module assigned itself would shadow the table's and could drift from it.
func TestSetupDefinesNoContractName(t *testing.T) {
	assign := regexp.MustCompile(`(?m)^([A-Z_][A-Z_, ]*)=`)
	for _, m := range assign.FindAllStringSubmatch(SetupSource+ModuleSource, -1) {
		for _, n := range strings.Split(m[1], ",") {
			if n = strings.TrimSpace(n); contractName.MatchString(n) {
				t.Errorf("the embedded Python assigns %s, which contract.go gives it", n)
			}
		}
	}
}

func TestOpsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Ops {
		if !strings.HasPrefix(s.Name, "OP_") || seen[s.Name] {
			t.Errorf("operation %d: name %q is not OP_* or is repeated", s.Op, s.Name)
		}
		seen[s.Name] = true
		if OpByNumber(int(s.Op)) != &Ops[indexOf(s.Op)] {
			t.Errorf("%s: OpByNumber does not find it", s.Name)
		}
		if s.Result == "" || s.Uwsgi == "" || s.Go == "" {
			t.Errorf("%s: its result, its uwsgi functions and its Go side must be written down", s.Name)
		}
	}
	for _, op := range []int{-1, 0, 5, 99, 100, 1 << 30} {
		if OpByNumber(op) != nil {
			t.Errorf("OpByNumber(%d) found an operation", op)
		}
	}
}

func indexOf(op Op) int {
	for i := range Ops {
		if Ops[i].Op == op {
			return i
		}
	}
	return -1
}

func TestOpCheck(t *testing.T) {
	b := func(s ...string) [][]byte {
		var out [][]byte
		for _, x := range s {
			out = append(out, []byte(x))
		}
		return out
	}
	for _, c := range []struct {
		op   Op
		args [][]byte
		want string // "" when the call is fine
	}{
		{OpLock, b("3"), ""},
		{OpLock, b("-3"), ""}, // the range is the host's to judge: it knows --locks
		{OpLock, nil, "OP_LOCK (operation 1) takes 1 arguments (#lock), not 0"},
		{OpLock, b("1", "2"), "takes 1 arguments"},
		{OpLock, b("x"), "argument 1 (lock) must be a decimal integer, not \"x\""},
		{OpLock, b(""), "must be a decimal integer"},
		{OpCacheSet, b("c", "k", "v", "0"), ""},
		{OpCacheSet, b("c", "k", "v", "1.5"), "argument 4 (expires)"},
		{OpSpool, b("dir"), ""},
		{OpSpool, b("dir", "a", "b", "c"), ""},
		{OpSpool, nil, "OP_SPOOL (operation 70) takes 1 arguments"},
		{OpReload, nil, ""},
		{OpReload, b(""), "takes 0 arguments"},
	} {
		err := OpByNumber(int(c.op)).check(c.args)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v %q: %v", c.op, c.args, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v %q: got %v, want %q", c.op, c.args, err, c.want)
		}
	}
}

// The cdef handed to Python is boundary.h's struct, whole.
func TestAPICdef(t *testing.T) {
	cdef := apiCdef()
	if !strings.HasPrefix(cdef, "struct uwsgo_api {") || !strings.HasSuffix(cdef, "};") {
		t.Fatalf("apiCdef() = %q", cdef)
	}
	for _, field := range []string{"send", "sendfile", "log", "report", "signal", "rpc_reply", "rpc_call", "free", "call", "handle", "step", "deliver_signal", "rpc", "uwsgi_signal"} {
		if !strings.Contains(cdef, "(*"+field+")(") {
			t.Errorf("the cdef lacks %s", field)
		}
	}
}
