package worker

import (
	"bufio"
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
)

// What a master gives each worker it starts (a new execution of the same binary: Go
// cannot fork a running runtime). The descriptors:
const (
	fdControl       = 3 // a socket to the master: "ready" goes up it; EOF means the master is gone
	fdBoard         = 4 // the scoreboard
	fdFirstListener = 5 // the listening sockets, in the order configured
)

// The environment: ChildEnv is "ID,RECORD,RECORDS,PROTOCOLS", PROTOCOLS naming the
// protocol of each inherited socket in order ("http+uwsgi"; the sockets can outnumber the
// configured addresses when systemd passed some); ConfigEnv the master's configuration
// (options.Config.Encode).
const (
	ChildEnv  = "UWSGO_WORKER"
	ConfigEnv = "UWSGO_CONFIG"
)

// DrainMessage is the line the master sends down the control socket when the whole
// instance stops gracefully (a SIGTERM from the master stops only that worker).
const DrainMessage = "drain"

// ReadyMessage is what a worker tells its master once it serves.
type ReadyMessage struct {
	PID int    `json:"pid"`
	App string `json:"app"`
}

// IsChild says whether a master started this process as a worker.
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// Child serves as the worker a master asked for.
func Child(logger *log.Logger) error {
	var id, record, records int
	var protocols string
	if _, err := fmt.Sscanf(os.Getenv(ChildEnv), "%d,%d,%d,%s", &id, &record, &records, &protocols); err != nil {
		return fail(1, "%s=%q: %v", ChildEnv, os.Getenv(ChildEnv), err)
	}
	cfg, err := options.Decode(os.Getenv(ConfigEnv))
	if err != nil {
		return fail(1, "%v", err)
	}
	// The app's own subprocesses must not believe they are workers.
	os.Unsetenv(ChildEnv)
	os.Unsetenv(ConfigEnv)
	// SIGHUP is the master's (reload); a stray one sent to every uwsgo process by name must
	// not kill the workers. An app can still take it with signal.signal().
	signal.Ignore(syscall.SIGHUP)
	logger.SetPrefix("worker " + strconv.Itoa(id) + ": ")
	logger.SetFlags(logger.Flags() | log.Lmsgprefix)

	board, err := scoreboard.Open(os.NewFile(fdBoard, "scoreboard"), records, int(cfg.Int("threads")))
	if err != nil {
		return fail(1, "%v", err)
	}
	env := Env{Board: board, Record: record, ID: id, Processes: int(cfg.Int("processes")), MasterPID: os.Getppid()}
	for i, proto := range strings.Split(protocols, "+") {
		f := os.NewFile(uintptr(fdFirstListener+i), "socket")
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return fail(1, "inherited socket %d (%s): %v", i+1, proto, err)
		}
		env.Listeners = append(env.Listeners, Listener{ln, protocolOf(proto)})
	}
	ctl := os.NewFile(fdControl, "master")
	env.Ready = func(app string) {
		b, _ := json.Marshal(ReadyMessage{PID: os.Getpid(), App: app})
		ctl.Write(append(b, '\n'))
	}
	drain := make(chan struct{}, 1)
	env.Drain = drain
	go func() {
		sc := bufio.NewScanner(ctl)
		for sc.Scan() {
			if sc.Text() == DrainMessage {
				select {
				case drain <- struct{}{}:
				default:
				}
			}
		}
		logger.Printf("the master (pid %d) is gone: stopping", env.MasterPID)
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
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
