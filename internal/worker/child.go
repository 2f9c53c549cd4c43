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

// The environment: ChildEnv is "ID,RECORD,RECORDS,LISTENERS"; ConfigEnv the master's
// configuration (options.Config.Encode); RoleEnv, for a process that serves no
// requests, "mule:SCRIPT" or "spooler:DIR".
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
	var id, record, records, listeners int
	if _, err := fmt.Sscanf(os.Getenv(ChildEnv), "%d,%d,%d,%d", &id, &record, &records, &listeners); err != nil {
		return fail(1, "%s=%q: %v", ChildEnv, os.Getenv(ChildEnv), err)
	}
	cfg, err := options.Decode(os.Getenv(ConfigEnv))
	if err != nil {
		return fail(1, "%v", err)
	}
	role, roleArg, _ := strings.Cut(os.Getenv(RoleEnv), ":")
	// The app's own subprocesses must not believe they are workers.
	os.Unsetenv(ChildEnv)
	os.Unsetenv(ConfigEnv)
	os.Unsetenv(RoleEnv)
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
	env := Env{Board: board, Record: record, ID: id, Processes: int(cfg.Int("processes")), MasterPID: os.Getppid(), State: state, Control: ctl}
	if role != "" {
		env.Role = role
		return serveAux(cfg, logger, env, role, roleArg)
	}
	addrs := instance.Addresses(cfg)
	if len(addrs) != listeners {
		return fail(1, "the master passed %d sockets for %d addresses", listeners, len(addrs))
	}
	for i, a := range addrs {
		f := os.NewFile(uintptr(fdFirstListener+i), a.Addr)
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return fail(1, "inherited socket %s: %v", a.Addr, err)
		}
		env.Listeners = append(env.Listeners, Listener{ln, protocolOf(a.Proto)})
	}
	env.Ready = func(app string) {
		b, _ := json.Marshal(ControlMessage{Type: "ready", PID: os.Getpid(), App: app})
		ctl.Write(append(b, '\n'))
	}
	return Serve(cfg, logger, env)
}

// ChildEnviron is the environment of a worker the master starts.
func ChildEnviron(cfg *options.Config, id, record, records, listeners int) []string {
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, ChildEnv+"=") && !strings.HasPrefix(kv, ConfigEnv+"=") {
			env = append(env, kv)
		}
	}
	return append(env,
		fmt.Sprintf("%s=%d,%d,%d,%d", ChildEnv, id, record, records, listeners),
		ConfigEnv+"="+cfg.Encode())
}
