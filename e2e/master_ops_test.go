package e2e

// Operations around the process model: pidfile, vacuum, UNIX socket permissions, chdir,
// logto, daemonize, dropping privileges, --http.

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --pidfile holds the master's pid while it runs; at exit, --vacuum removes it and the
// UNIX socket; without --vacuum both stay.
func TestMasterPidfileVacuum(t *testing.T) {
	t.Parallel()
	for _, vacuum := range []bool{true, false} {
		t.Run(fmt.Sprint("vacuum=", vacuum), func(t *testing.T) {
			t.Parallel()
			dir := masterTempDir(t)
			sock, pidfile := filepath.Join(dir, "s.sock"), filepath.Join(dir, "pid")
			args := []string{"--http-socket", sock, "--master", "--processes", "2", "--pidfile", pidfile, "--pypy-wsgi-file", masterApp()}
			if vacuum {
				args = append(args, "--vacuum")
			}
			s := Run(t, args)
			if got := strings.TrimSpace(masterReadFile(pidfile)); got != strconv.Itoa(s.Cmd.Process.Pid) {
				t.Errorf("the pidfile holds %q, want the master's pid %d", got, s.Cmd.Process.Pid)
			}
			code, body, err := masterFetch(masterUnixClient(sock), "http://unix/pid")
			if err != nil || code != 200 {
				t.Fatalf("GET /pid over the UNIX socket: %d %q %v", code, body, err)
			}
			masterSignal(t, s, syscall.SIGTERM)
			if code := s.Exited(15 * time.Second); code != 0 {
				t.Fatalf("exit status %d after SIGTERM; output:\n%s", code, s.Log())
			}
			st, sockErr := os.Stat(sock)
			_, pidErr := os.Stat(pidfile)
			if vacuum {
				if sockErr == nil || pidErr == nil {
					t.Errorf("with --vacuum the socket (%v) and the pidfile (%v) should be gone at exit", sockErr, pidErr)
				}
			} else {
				if sockErr != nil || st.Mode()&os.ModeSocket == 0 {
					t.Errorf("without --vacuum the UNIX socket should stay: %v %v", st, sockErr)
				}
				if pidErr != nil {
					t.Errorf("without --vacuum the pidfile should stay: %v", pidErr)
				}
			}
		})
	}
}

// --chmod-socket alone makes the UNIX socket 0666; --chmod-socket 660 makes it 0660.
func TestMasterChmodSocket(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		mode os.FileMode
	}{
		{[]string{"--chmod-socket"}, 0o666},
		{[]string{"--chmod-socket", "660"}, 0o660},
		{[]string{"--chmod-socket=600"}, 0o600},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			sock := filepath.Join(masterTempDir(t), "s.sock")
			args := append([]string{"--http-socket", sock, "--master", "--processes", "2"}, c.args...)
			Run(t, append(args, "--pypy-wsgi-file", masterApp()))
			st, err := os.Stat(sock)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != c.mode {
				t.Errorf("%s: the socket's mode is %o, want %o", strings.Join(c.args, " "), st.Mode().Perm(), c.mode)
			}
			if code, _, err := masterFetch(masterUnixClient(sock), "http://unix/pid"); err != nil || code != 200 {
				t.Errorf("GET /pid over the socket: %d %v", code, err)
			}
		})
	}
}

// --chdir DIR: the app (in every worker, and in a single process) runs in DIR.
func TestMasterChdir(t *testing.T) {
	t.Parallel()
	for _, mode := range [][]string{{"--master", "--processes", "2"}, {"--processes", "1"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			t.Parallel()
			dir := masterTempDir(t)
			s := Start(t, append(mode, "--chdir", dir, "--pypy-wsgi-file", masterApp())...)
			want := 1
			if mode[0] == "--master" {
				want = 2
			}
			seen := masterFactsByPid(t, "http://"+s.Addr, want)
			if len(seen) != want {
				t.Errorf("%d process(es) answered, want %d", len(seen), want)
			}
			for pid, f := range seen {
				if f.Cwd != dir {
					t.Errorf("pid %d: os.getcwd() is %q, want %q", pid, f.Cwd, dir)
				}
			}
		})
	}
}

// --logto FILE: the whole log goes to FILE: uwsgo's lines, the app's print output and
// the per-request lines.
func TestMasterLogto(t *testing.T) {
	t.Parallel()
	logfile := filepath.Join(masterTempDir(t), "uwsgo.log")
	addr := freeAddr(t)
	s := Run(t, []string{"--http-socket", addr, "--master", "--processes", "2", "--logto", logfile, "--pypy-wsgi-file", masterApp()}, NoWait())
	s.Addr = addr
	if !masterWaitFile(logfile, "ready (master pid", 30*time.Second) {
		t.Fatalf("the log file never said ready; it holds:\n%s\nand the output:\n%s", masterReadFile(logfile), s.Log())
	}
	code, body, err := masterFetch(masterNewClient(), s.URL("/print"))
	if err != nil || code != 200 || body != "printed" {
		t.Fatalf("GET /print: %d %q %v", code, body, err)
	}
	for _, want := range []string{"master_app printed marker-7d1f", "GET /print => 200", "master: worker 1 (pid", "app loaded: "} {
		if !masterWaitFile(logfile, want, 10*time.Second) {
			t.Errorf("the log file should contain %q; it holds:\n%s", want, masterReadFile(logfile))
		}
	}
	if out := s.Log(); strings.Contains(out, "ready (") || strings.Contains(out, "GET /print") {
		t.Errorf("with --logto the log should not also go to the original output:\n%s", out)
	}
}

// masterKillMatching kills (SIGKILL) every process whose command line contains marker.
func masterKillMatching(marker string) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && strings.Contains(string(b), marker) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// --daemonize FILE: the command returns 0 at once, and the instance serves from the
// background, logging to FILE; the pidfile finds it to stop it.
func TestMasterDaemonize(t *testing.T) {
	t.Parallel()
	dir := masterTempDir(t)
	logfile, pidfile := filepath.Join(dir, "daemon.log"), filepath.Join(dir, "pid")
	// Whatever happens, nothing of this instance outlives the test (its command line
	// names dir).
	t.Cleanup(func() { masterKillMatching(dir) })
	addr := freeAddr(t)
	started := time.Now()
	code, out := Run(t, []string{"--http-socket", addr, "--daemonize", logfile, "--pidfile", pidfile,
		"--master", "--processes", "2", "--pypy-wsgi-file", masterApp()}, NoWait()).ExitWithin(15 * time.Second)
	if code != 0 {
		t.Fatalf("--daemonize: the command exited with %d, want 0; output:\n%s", code, out)
	}
	t.Logf("the foreground command returned after %v", time.Since(started))
	if !masterWaitFile(logfile, "ready (master pid", 30*time.Second) {
		t.Fatalf("the background instance never said ready in %s:\n%s", logfile, masterReadFile(logfile))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(masterReadFile(pidfile)))
	if err != nil || !masterAlive(pid) {
		t.Fatalf("the pidfile should name the running background master: %q (%v)", masterReadFile(pidfile), err)
	}
	if !strings.Contains(masterReadFile(logfile), fmt.Sprintf("ready (master pid %d,", pid)) {
		t.Errorf("the pidfile's pid %d is not the master that says ready:\n%s", pid, masterReadFile(logfile))
	}
	client := masterNewClient()
	code2, body, err := masterFetch(client, "http://"+addr+"/pid")
	if err != nil || code2 != 200 {
		t.Fatalf("the daemonized instance does not serve: %d %q %v", code2, body, err)
	}
	if wp, _ := strconv.Atoi(body); !masterIn(wp, masterChildren(pid)) {
		t.Errorf("pid %s answered, which is not a worker of the background master %d (%v)", body, pid, masterChildren(pid))
	}
	if !masterWaitFile(logfile, "GET /pid => 200", 5*time.Second) {
		t.Errorf("the request line should be in the daemon's log file:\n%s", masterReadFile(logfile))
	}
	workers := masterChildren(pid)
	syscall.Kill(pid, syscall.SIGTERM)
	if alive := masterWaitGone(append([]int{pid}, workers...), 15*time.Second); len(alive) != 0 {
		t.Errorf("processes %v still run 15 s after SIGTERM to the daemon", alive)
	}
	if !masterWaitFile(logfile, "exiting with status 0", 5*time.Second) {
		t.Errorf("the daemon's log should end with its exit:\n%s", masterReadFile(logfile))
	}
}

// --uid nobody --gid nogroup (as root): the sockets are bound first, then the master and
// every worker run as nobody:nogroup.
func TestMasterUidGid(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("needs root to change user")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody: %v", err)
	}
	nogroup, err := user.LookupGroup("nogroup")
	if err != nil {
		t.Fatalf("no group nogroup: %v", err)
	}
	// The workers are new executions of the binary, made after the master became nobody:
	// the binary must be where nobody may run it (the harness's build directory is 0700).
	dir := masterTempDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "uwsgo")
	masterCopyFile(t, binary, bin, 0o755)
	addr := freeAddr(t)
	s := Run(t, []string{"--http-socket", addr, "--master", "--processes", "2", "--uid", "nobody", "--gid", "nogroup", "--pypy-wsgi-file", masterApp()}, Via(bin), ReadyWhen(masterReadyInstanceRE), Within(30*time.Second))
	s.Addr = addr
	workers := masterWorkers(t, s, 2)
	for _, pid := range append([]int{s.Cmd.Process.Pid}, workers...) {
		uids, gids := masterIDs(pid)
		if uids != strings.Repeat(nobody.Uid+" ", 4) || gids != strings.Repeat(nogroup.Gid+" ", 4) {
			t.Errorf("pid %d runs as uids %q gids %q, want all %s and %s", pid, uids, gids, nobody.Uid, nogroup.Gid)
		}
	}
	f := masterGetFacts(t, masterNewClient(), "http://"+addr)
	if strconv.Itoa(f.UID) != nobody.Uid {
		t.Errorf("the app's os.getuid() is %d, want %s", f.UID, nobody.Uid)
	}
}

// The same without copying the binary: the harness's binary sits in a 0700 directory
// that nobody cannot enter. The master cannot start workers; it must say so, not spin
// silently.
func TestMasterUidBinaryUnreachable(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("needs root to change user")
	}
	st, err := os.Stat(filepath.Dir(binary))
	if err != nil || st.Mode().Perm()&0o001 != 0 {
		t.Skip("the harness's binary is reachable by others here")
	}
	s := Run(t, []string{"--http-socket", freeAddr(t), "--master", "--processes", "1", "--uid", "nobody", "--gid", "nogroup", "--pypy-wsgi-file", masterApp()}, NoWait())
	if !s.WaitLog("permission denied", 10*time.Second) {
		t.Errorf("the master should log why it cannot start a worker; output:\n%s", s.Log())
	}
}

// masterIDs reads the Uid: and Gid: lines (real, effective, saved, filesystem) of a process.
func masterIDs(pid int) (uids, gids string) {
	for _, line := range strings.Split(masterReadFile(fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && f[0] == "Uid:" {
			uids = strings.Join(f[1:], " ") + " "
		}
		if len(f) == 5 && f[0] == "Gid:" {
			gids = strings.Join(f[1:], " ") + " "
		}
	}
	return uids, gids
}

func masterCopyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// --http ADDR serves like --http-socket, under a master too.
func TestMasterHTTPOption(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	s := Run(t, []string{"--http", addr, "--master", "--processes", "2", "--pypy-wsgi-file", masterApp()})
	s.Addr = addr
	workers := masterWorkers(t, s, 2)
	seen := masterFactsByPid(t, "http://"+addr, 2)
	if len(seen) != 2 {
		t.Errorf("%d worker(s) answered on --http %s, want 2", len(seen), addr)
	}
	for pid := range seen {
		if !masterIn(pid, workers) {
			t.Errorf("pid %d answered, not a worker (%v)", pid, workers)
		}
	}
}
