package worker

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"uwsgo/internal/instance"
	"uwsgo/internal/options"
	"uwsgo/internal/pypy"
	"uwsgo/internal/scoreboard"
	"uwsgo/internal/shared"
)

// What a master gives each worker it starts (a new execution of the same binary: Go
// cannot fork a running runtime). The descriptors:
const (
	fdControl       = 3 // a socket to the master: ControlMessage lines both ways; EOF means the master is gone
	fdBoard         = 4 // the scoreboard
	fdShared        = 5 // the shared state (locks, caches, ...)
	fdFirstListener = 6 // the listening sockets, in the order configured
)

// The environment: ChildEnv is "ID,RECORD,RECORDS,PROTOCOLS", PROTOCOLS naming the
// protocol of each inherited socket in order ("http+uwsgi"; the sockets can outnumber the
// configured addresses when systemd passed some); ConfigEnv the master's configuration
// (options.Config.Encode); RoleEnv, for a process that serves no requests, "mule:SCRIPT"
// or "spooler:DIR".
const (
	ChildEnv  = "UWSGO_WORKER"
	ConfigEnv = "UWSGO_CONFIG"
	RoleEnv   = "UWSGO_ROLE"
)

// Roles of the processes a master starts besides workers.
const (
	RoleMule    = "mule"
	RoleSpooler = "spooler"
)

// IsChild says whether a master started this process as a worker.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// Child serves as the worker a master asked for.
func Child(logger *log.Logger) error {
	var id, record, records int
	fields := strings.SplitN(os.Getenv(ChildEnv), ",", 4)
	if len(fields) != 4 {
		return fail(1, "%s=%q: want ID,RECORD,RECORDS,PROTOCOLS", ChildEnv, os.Getenv(ChildEnv))
	}
	if _, err := fmt.Sscanf(strings.Join(fields[:3], " "), "%d %d %d", &id, &record, &records); err != nil {
		return fail(1, "%s=%q: %v", ChildEnv, os.Getenv(ChildEnv), err)
	}
	if fid, frecord, forked := pypy.Forked(); forked {
		id, record = fid, frecord // forked from the loader, which had no id
	}
	protocols := fields[3]
	cfg, err := options.Decode(os.Getenv(ConfigEnv))
	if err != nil {
		return fail(1, "%v", err)
	}
	role, roleArg, _ := strings.Cut(os.Getenv(RoleEnv), ":")
	// The app's own subprocesses must not believe they are workers.
	os.Unsetenv(ChildEnv)
	os.Unsetenv(ConfigEnv)
	os.Unsetenv(RoleEnv)
	os.Unsetenv(pypy.LoaderEnv)
	// SIGHUP is the master's (reload); a stray one sent to every uwsgo process by name must
	// not kill the workers. An app can still take it with signal.signal().
	signal.Ignore(syscall.SIGHUP)
	name := "worker"
	if role != "" {
		name = role
	}
	logger.SetPrefix(name + " " + strconv.Itoa(id) + ": ")
	logger.SetFlags(logger.Flags() | log.Lmsgprefix)

	board, err := scoreboard.Open(os.NewFile(fdBoard, "scoreboard"), records, int(cfg.Int("threads")))
	if err != nil {
		return fail(1, "%v", err)
	}
	state, err := shared.Open(cfg, os.NewFile(fdShared, "shared state"))
	if err != nil {
		return fail(1, "%v", err)
	}
	ctl := os.NewFile(fdControl, "master")
	drain := make(chan struct{}, 1)
	env := Env{Board: board, Record: record, ID: id, Processes: int(cfg.Int("processes")), MasterPID: os.Getppid(),
		State: state, Control: ctl, Drain: drain, drain: drain}
	if role != "" {
		env.Role = role
		return serveAux(cfg, logger, env, roleArg)
	}
	for i, proto := range strings.Split(protocols, "+") {
		f := os.NewFile(uintptr(fdFirstListener+i), "socket")
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return fail(1, "inherited socket %d (%s): %v", i+1, proto, err)
		}
		env.Listeners = append(env.Listeners, Listener{ln, protocolOf(proto)})
	}
	env.Ready = func(app string) {
		b, _ := json.Marshal(ControlMessage{Type: "ready", PID: os.Getpid(), App: app})
		ctl.Write(append(b, '\n'))
	}
	return Serve(cfg, logger, env)
}

// ChildEnviron is the environment of a worker the master starts, which inherits sockets
// in that order.
func ChildEnviron(cfg *options.Config, id, record, records int, sockets []*instance.Socket) []string {
	protocols := make([]string, len(sockets))
	for i, s := range sockets {
		protocols[i] = s.Proto
	}
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, ChildEnv+"=") && !strings.HasPrefix(kv, ConfigEnv+"=") {
			env = append(env, kv)
		}
	}
	return append(env,
		fmt.Sprintf("%s=%d,%d,%d,%s", ChildEnv, id, record, records, strings.Join(protocols, "+")),
		ConfigEnv+"="+cfg.Encode())
}
