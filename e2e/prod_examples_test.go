package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The deployment examples run as written: examples/nginx/*.conf in a real nginx in front
// of uwsgo started with the command line each file names, examples/systemd/ under
// systemd-socket-activate with a NOTIFY_SOCKET listener, and the Dockerfile's command
// line (the image itself cannot be built here). Only the strings listed in
// examples/nginx/README.md (ports, /run/uwsgo/, the app's path) are replaced.

func example(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// commandInComments is the uwsgo command line a file gives in its comments ("#   uwsgo
// ...", continued with "\").
func commandInComments(t *testing.T, text string) []string {
	t.Helper()
	var cmd []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		body := strings.TrimSpace(strings.TrimPrefix(line, "#"))
		if !in && !strings.HasPrefix(body, "uwsgo ") {
			continue
		}
		in = true
		more := strings.HasSuffix(body, "\\")
		cmd = append(cmd, strings.Fields(strings.TrimSuffix(body, "\\"))...)
		if !more {
			break
		}
	}
	if len(cmd) < 2 {
		t.Fatalf("no uwsgo command line in the comments of:\n%s", text)
	}
	return cmd[1:]
}

func replaceAll(s string, pairs [][2]string) string {
	for _, p := range pairs {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}

func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("nginx is missing (Debian package nginx-light; scripts/install-deps installs it)")
	return ""
}

// startNginx runs nginx with site (a server block) included in a minimal configuration,
// and waits until it accepts on addr.
func startNginx(t *testing.T, dir, site, addr string) {
	t.Helper()
	params, err := os.ReadFile("/etc/nginx/uwsgi_params")
	if err != nil {
		t.Fatalf("nginx's uwsgi_params: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "uwsgi_params"), params, 0o644)
	os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o644)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root root;" // its workers must reach the sockets in a private directory
	}
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
%[2]s
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir, user)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644)
	ng := Run(t, []string{"-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf")}, OnHost(nginxBinary(t)), NoWait())
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) || ng.Exited(0) >= 0 {
			errlog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx does not accept on %s: %v; output:\n%s\nerror.log:\n%s", addr, err, ng.Log(), errlog)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProdNginxExamples(t *testing.T) {
	for _, name := range []string{"uwsgi-tcp.conf", "uwsgi-unix.conf", "proxy-tcp.conf", "proxy-unix.conf"} {
		t.Run(name, func(t *testing.T) {
			text := example(t, "nginx/"+name)
			dir := t.TempDir()
			front := freeV6Addr(t)
			pairs := [][2]string{
				{"listen 80;", "listen " + front + ";"},
				{"127.0.0.1:3031", freeAddr(t)},
				{"127.0.0.1:8000", freeAddr(t)},
				{"/run/uwsgo/", dir + "/"},
				{"/srv/myapp/app.py", testdata("prod_app.py")},
			}
			args := strings.Fields(replaceAll(strings.Join(commandInComments(t, text), " "), pairs))
			s := Run(t, args)
			startNginx(t, dir, replaceAll(text, pairs), front)
			s.Addr = front // through nginx from now on

			if _, body := s.Get("/hello?x=1"); body != "from python: /hello\n" {
				t.Fatalf("through nginx: %q; uwsgo's output:\n%s", body, s.Log())
			}
			env := getJSON(t, s.URL("/env"))
			// The client is ::1 as nginx saw it, whether nginx said so in the uwsgi
			// packet or in X-Forwarded-For (believed: nginx is a trusted proxy).
			if env["REMOTE_ADDR"] != "::1" || env["url_scheme"] != "http" {
				t.Errorf("the app saw REMOTE_ADDR %v, wsgi.url_scheme %v; want ::1, http", env["REMOTE_ADDR"], env["url_scheme"])
			}
			if strings.HasPrefix(name, "proxy-") {
				if env["HTTP_X_FORWARDED_FOR"] != "::1" {
					t.Errorf("X-Forwarded-For: %v", env["HTTP_X_FORWARDED_FOR"])
				}
				if resp, body := s.Get("/healthz"); strings.Contains(strings.Join(args, " "), "--health-path /healthz") && (resp.StatusCode != 200 || body != "ok\n") {
					t.Errorf("/healthz through nginx: %d %q", resp.StatusCode, body)
				}
			}
		})
	}
}

// unitFile reads a systemd unit's Key=Value settings ("Section.Key" -> values in order).
func unitFile(t *testing.T, text string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("not a unit file line: %q", line)
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	return out
}

func helpOptions(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(binary, "--help").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// checkOptions fails for any --option of args that uwsgo --help does not list.
func checkOptions(t *testing.T, args []string, help string) {
	t.Helper()
	for _, a := range args {
		if name, ok := strings.CutPrefix(a, "--"); ok && !regexp.MustCompile(`(?m)^\s+(-\w, )?--`+regexp.QuoteMeta(name)+`\b`).MatchString(help) {
			t.Errorf("%s is not an option listed by uwsgo --help", a)
		}
	}
}

// examples/systemd: the service's ExecStart (options checked against --help) runs under
// systemd-socket-activate with the socket unit's ListenStream and FileDescriptorName, and
// the protocol a Type=notify service owes systemd is spoken: READY=1 once the four
// workers accept, RELOADING=1/READY=1 on ExecReload's SIGHUP, STOPPING=1 on KillSignal.
func TestProdSystemdUnitExample(t *testing.T) {
	service := unitFile(t, example(t, "systemd/uwsgo.service"))
	socket := unitFile(t, example(t, "systemd/uwsgo.socket"))
	for k, want := range map[string]string{"Service.Type": "notify", "Service.KillMode": "mixed", "Service.KillSignal": "SIGTERM", "Service.ExecReload": "/bin/kill -HUP $MAINPID"} {
		if got := service[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	exec := service["Service.ExecStart"]
	if len(exec) != 1 || strings.ContainsAny(exec[0], `"'`) {
		t.Fatalf("ExecStart %q: one line without quoting is what this test can run", exec)
	}
	args := strings.Fields(exec[0])
	if args[0] != "/usr/local/bin/uwsgo" {
		t.Fatalf("ExecStart runs %s", args[0])
	}
	checkOptions(t, args[1:], helpOptions(t))
	listen, names := socket["Socket.ListenStream"], socket["Socket.FileDescriptorName"]
	if len(listen) != 1 || len(names) != 1 {
		t.Fatalf("the socket unit: ListenStream %q, FileDescriptorName %q", listen, names)
	}

	addr := freeAddr(t)
	pairs := [][2]string{{listen[0], addr}, {"/srv/myapp/app.py", testdata("prod_app.py")}}
	run := strings.Fields(replaceAll(strings.Join(args[1:], " "), pairs))
	n := listenNotify(t, false)
	s := Run(t, append(append([]string{"-l", replaceAll(listen[0], pairs), "--fdname=" + names[0],
		"-E", "NOTIFY_SOCKET=" + n.Name}, uwsgoArgv()...), run...), OnHost(socketActivate(t)), NoWait())
	s.Addr = addr
	if resp, body := getRetry(t, s, s.URL("/healthz")); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q; output:\n%s", resp.StatusCode, body, s.Log())
	}
	ready, _ := n.until(t, s, "READY=1")
	if !strings.Contains(statusOf(ready), "4 of 4 workers ready") {
		t.Errorf("READY=1 message %q", ready)
	}
	if !strings.Contains(s.Log(), `(socket 3 from systemd, named "http")`) {
		t.Errorf("the socket did not come from systemd; output:\n%s", s.Log())
	}
	s.Cmd.Process.Signal(syscall.SIGHUP)
	n.until(t, s, "RELOADING=1")
	n.until(t, s, "READY=1")
	s.Cmd.Process.Signal(syscall.SIGTERM)
	n.until(t, s, "STOPPING=1")
	if code := s.Exited(60 * time.Second); code != 0 {
		t.Fatalf("exit status %d; output:\n%s", code, s.Log())
	}
}

// The Dockerfile cannot be built here. What can be checked: it starts from the Debian
// release this machine runs (the binary is built here, against its glibc), installs only
// packages scripts/install-deps installs, and its command line serves examples/hello.py.
func TestProdDockerfileExample(t *testing.T) {
	text := example(t, "docker/Dockerfile")
	osRelease, _ := os.ReadFile("/etc/os-release")
	codename := regexp.MustCompile(`(?m)^VERSION_CODENAME=(\w+)`).FindStringSubmatch(string(osRelease))
	if codename == nil || !strings.Contains(text, "\nFROM debian:"+codename[1]+"\n") {
		t.Errorf("the Dockerfile must start FROM debian:%v, the release the binary is built on", codename)
	}
	deps := example(t, "../scripts/install-deps")
	install := regexp.MustCompile(`apt-get install -y --no-install-recommends ([^\\&\n]+)`).FindStringSubmatch(text)
	if install == nil {
		t.Fatal("no apt-get install line")
	}
	for _, pkg := range strings.Fields(install[1]) {
		if !strings.Contains(deps, "["+pkg+"]=") {
			t.Errorf("the Dockerfile installs %s, which scripts/install-deps does not", pkg)
		}
	}
	var cmd []string
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "CMD "); ok {
			if err := json.Unmarshal([]byte(rest), &cmd); err != nil {
				t.Fatalf("CMD %s: %v", rest, err)
			}
		}
	}
	checkOptions(t, cmd, helpOptions(t))
	addr := freeAddr(t)
	// A copy: running the example in place would rewrite its bytecode cache in the tree.
	hello := filepath.Join(t.TempDir(), "hello.py")
	os.WriteFile(hello, []byte(example(t, "hello.py")), 0o644)
	run := strings.Fields(replaceAll(strings.Join(cmd, " "), [][2]string{{":8000", addr}, {"/srv/app/app.py", hello}}))
	s := Run(t, run)
	s.Addr = addr
	if _, body := s.Get("/"); body != "Hello, World!\n" {
		t.Fatalf("body %q", body)
	}
	if _, body := s.Get("/healthz"); body != "ok\n" {
		t.Fatalf("/healthz: %q", body)
	}
}

// uwsgo --help groups the options by area, and the rows added for production say how
// they differ from uWSGI.
func TestProdHelpGroups(t *testing.T) {
	help := helpOptions(t)
	sections := []string{"\nGeneral:\n", "\nSockets:\n", "\nPyPy:\n", "\nProcesses:\n", "\nHTTP:\n", "\nOperations:\n", "\nLogging:\n"}
	at := 0
	for _, sec := range sections {
		i := strings.Index(help[at:], sec)
		if i < 0 {
			t.Fatalf("--help lacks the section %q after position %d:\n%s", strings.TrimSpace(sec), at, help)
		}
		at += i
	}
	section := func(option string) string {
		loc := regexp.MustCompile(`(?m)^\s+(-\w, )?--` + regexp.QuoteMeta(option) + `\b`).FindStringIndex(help)
		if loc == nil {
			t.Fatalf("--help has no row for --%s", option)
		}
		j := strings.LastIndex(help[:loc[0]], ":\n")
		return help[strings.LastIndex(help[:j], "\n")+1 : j]
	}
	for opt, want := range map[string]string{
		"trusted-proxy": "HTTP", "health-path": "HTTP", "shutdown-delay": "Processes",
		"log-format": "Logging", "log-x-forwarded-for": "Logging", "log-reopen": "Logging", "touch-logreopen": "Logging",
	} {
		if got := section(opt); got != want {
			t.Errorf("--%s is under %q, want %q", opt, got, want)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(help))
	var last string
	noted := map[string]bool{}
	for sc.Scan() {
		line := sc.Text()
		if m := regexp.MustCompile(`^\s+(?:-\w, )?--([\w-]+)`).FindStringSubmatch(line); m != nil {
			last = m[1]
		}
		if strings.Contains(line, "uWSGI note:") {
			noted[last] = true
		}
	}
	for _, opt := range []string{"trusted-proxy", "health-path", "shutdown-delay", "log-format"} {
		if !noted[opt] {
			t.Errorf("--%s differs from uWSGI (or has no uWSGI equivalent) and must say so", opt)
		}
	}
}
