package child

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// What the master writes is what the child reads, and the names are gone afterwards.
func TestSpecThroughTheEnvironment(t *testing.T) {
	for _, want := range []Spec{
		{Role: Worker, ID: 2, Record: 5, Records: 8, Protocols: []string{"http", "uwsgi"}},
		{Role: Mule, ID: 1, Record: -1, Records: 8, Arg: "tasks.py"},
		{Role: Spooler, ID: 1, Record: -1, Records: 8, Arg: "/var/spool/a:b"},
		{Role: Loader, Record: -1, Records: 8, Protocols: []string{"http", "uwsgi"}},
	} {
		env := want.Environ([]string{"PATH=/bin", EnvSpec + "=stale", EnvRole + "=mule:old"}, "CONFIG")
		setEnv(t, env)
		got, config, err := FromEnv()
		if err != nil {
			t.Fatalf("%+v: %v", want, err)
		}
		if config != "CONFIG" || got.Role != want.Role || got.ID != want.ID || got.Record != want.Record ||
			got.Records != want.Records || got.Arg != want.Arg || strings.Join(got.Protocols, "+") != strings.Join(want.Protocols, "+") {
			t.Errorf("sent %+v, read %+v (config %q)", want, got, config)
		}
		if IsChild() || os.Getenv(EnvConfig) != "" || os.Getenv(EnvRole) != "" {
			t.Error("the contract's names are still in the environment the app will see")
		}
	}
}

func TestSpecBadEnvironment(t *testing.T) {
	for env, want := range map[string]string{
		EnvSpec + "=1,2":        "want ID,RECORD,RECORDS,PROTOCOLS",
		EnvSpec + "=a,b,c,http": EnvSpec,
		EnvSpec + "=1,0,2,http\x00" + EnvRole + "=zygote:": `no such role (roles: "" for a worker, "mule", "spooler", "loader")`,
	} {
		setEnv(t, strings.Split(env, "\x00"))
		if _, _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error saying %q", env, err, want)
		}
	}
}

func setEnv(t *testing.T, env []string) {
	for _, name := range []string{EnvSpec, EnvConfig, EnvRole} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "UWSGO_") {
			os.Setenv(name, value)
		}
	}
}

// Messages cross a real socket pair, in order, the large ones whole.
func TestConnMessages(t *testing.T) {
	master, theirs, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	childEnd := NewConn(theirs)
	big := []byte(strings.Repeat("x", 1<<20))
	sent := []Message{{Kind: Ready, App: "app:application"}, {Kind: MuleSend, Arg: "farm1", Data: big}, {Kind: Stop}}
	go func() {
		for _, m := range sent {
			childEnd.Send(m)
		}
		childEnd.Close() // the master's Receive ends: the child is gone
	}()
	var got []Message
	master.Receive(func(m Message) { got = append(got, m) })
	if len(got) != len(sent) {
		t.Fatalf("received %d messages, sent %d", len(got), len(sent))
	}
	for i := range sent {
		if got[i].Kind != sent[i].Kind || got[i].App != sent[i].App ||
			got[i].Arg != sent[i].Arg || !bytes.Equal(got[i].Data, sent[i].Data) {
			t.Errorf("message %d: sent %s, received %s", i, sent[i].Kind, got[i].Kind)
		}
	}
}
