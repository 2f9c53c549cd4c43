package instance

import (
	"net"
	"path/filepath"
	"testing"

	"uwsgo/internal/systemd"
)

// Passed sockets go to configured addresses by name, then by the address they are bound
// to, then in order; what is left over is served on its own.
func TestMatchActivated(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	sock := filepath.Join(t.TempDir(), "s")
	unix, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close()
	other, _ := net.Listen("tcp", "127.0.0.1:0")
	defer other.Close()
	spare, _ := net.Listen("tcp", "127.0.0.1:0")
	defer spare.Close()

	passed := []systemd.Socket{
		{FD: 3, Listener: other},                 // no name, no matching address: in order
		{FD: 4, Listener: unix, Name: "backend"}, // by name
		{FD: 5, Listener: tcp},                   // by address
		{FD: 6, Listener: spare, Name: "uwsgi"},  // left over
	}
	addrs := []Address{
		{Proto: "http", Addr: "localhost:9"},
		{Proto: "http", Addr: tcp.Addr().String()},
		{Proto: "uwsgi", Addr: "backend"},
	}
	given := matchActivated(addrs, passed)
	want := []int{3, 5, 4}
	for i, w := range want {
		got := -1
		if given[i] != nil {
			got = given[i].FD
		}
		if got != w {
			t.Errorf("%s got socket %d, want %d", addrs[i].Addr, got, w)
		}
	}
	for _, p := range passed[:3] {
		if p.Listener != nil {
			t.Errorf("socket %d was given out but is still listed as free", p.FD)
		}
	}
	if passed[3].Listener == nil {
		t.Error("the left-over socket must stay for serving on its own")
	}
}

func TestSameAddress(t *testing.T) {
	all, _ := net.ResolveTCPAddr("tcp", "[::]:8000")
	lo, _ := net.ResolveTCPAddr("tcp", "127.0.0.1:8000")
	for _, c := range []struct {
		addr  string
		bound net.Addr
		want  bool
	}{
		{":8000", all, true}, {"0.0.0.0:8000", all, true}, {"127.0.0.1:8000", lo, true},
		{"127.0.0.1:8001", lo, false}, {":8000", lo, false}, {"/run/a.sock", lo, false},
		{"/run/x/../a.sock", &net.UnixAddr{Name: "/run/a.sock", Net: "unix"}, true},
	} {
		if got := sameAddress(c.addr, c.bound); got != c.want {
			t.Errorf("sameAddress(%q, %v) = %v", c.addr, c.bound, got)
		}
	}
}
