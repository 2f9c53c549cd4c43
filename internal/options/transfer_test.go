package options

import (
	"reflect"
	"testing"
)

func TestEncodeDecodeKeepsEverySettingInOrder(t *testing.T) {
	c := mustParse(t, []string{"--pypy-eval", "a = 'x\"y'", "--http-socket", ":1", "--pypy-exec", "f.py", "--pypy-eval", "b", "--master", "--threads", "3"})
	d, err := Decode(c.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(values(d), values(c)) {
		t.Fatalf("decoded %v, want %v", values(d), values(c))
	}
	if d.intOf("threads") != 3 || !d.boolOf("master") || len(d.seq("pypy-eval", "pypy-exec")) != 3 {
		t.Fatalf("accessors on the decoded config disagree: %+v", d.Settings)
	}
	if _, err := Decode(`[["no-such-option","1"]]`); err == nil {
		t.Fatal("an unknown option from the master must be an error")
	}
}
