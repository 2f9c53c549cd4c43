// Package child is the contract between the master and the processes it starts: what a
// child inherits, how it learns who it is, and what the two say to each other. It is the
// one place to read to answer "what does the master tell a child".
//
// Go cannot fork a running runtime, so a child is a new execution of the same binary.
// It inherits descriptors at fixed numbers and reads its part from the environment:
//
//	descriptor       what
//	3 FDControl      a socket to the master: Message lines both ways; EOF means the master is gone
//	4 FDBoard        the scoreboard (shm), a record of which is the child's
//	5 FDShared       the shared state (shm): locks, caches, shared areas, metrics, uWSGI signals
//	6… FDListeners   a worker's listening sockets, in the order of Spec.Protocols
//
//	environment      what
//	UWSGO_WORKER     "ID,RECORD,RECORDS,PROTOCOLS" (see Spec)
//	UWSGO_CONFIG     the master's parsed options (options.Config.Encode)
//	UWSGO_ROLE       "ROLE:ARG": ":" for a worker, "mule:SCRIPT", "spooler:DIR", "loader:"
//
// A loader (pre-fork: internal/pypy's zygote.go, internal/master's loader.go) is given a
// worker's descriptors and names, and pypy.LoaderEnv besides, which makes it one before its
// Go runtime starts. It speaks pypy.Loader's protocol on its control socket, not Message
// lines, and the workers it forks find their id and record in pypy.Forked, not here.
//
// A child removes these names from its environment before the app runs, so that the
// app's own subprocesses do not take themselves for children of a master.
package child

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"uwsgo/internal/uwsgisignal"
)

// The descriptors a child inherits.
const (
	FDControl   = 3
	FDBoard     = 4
	FDShared    = 5
	FDListeners = 6 // the first listening socket; the others follow
)

// The environment names the master sets for a child.
const (
	EnvSpec   = "UWSGO_WORKER"
	EnvConfig = "UWSGO_CONFIG"
	EnvRole   = "UWSGO_ROLE"
)

// Role is what a child is for. The zero Role is a worker, the one role that serves
// requests (and the one the app sees as "" in its configuration).
type Role string

const (
	Worker  Role = ""
	Mule    Role = "mule"    // runs uwsgi.mule_msg_hook or a script; receives mule messages
	Spooler Role = "spooler" // runs the spooler jobs of its directory
	Loader  Role = "loader"  // loads PyPy and the app once and forks the workers (pre-fork)
)

// String is the role as logs and process names say it.
func (r Role) String() string {
	if r == Worker {
		return "worker"
	}
	return string(r)
}

// Spec is who a child is: everything the master tells it besides its configuration.
type Spec struct {
	Role Role
	// ID is uWSGI's id: a worker's 1..processes, a mule's id from 1, a spooler's number.
	ID int
	// Record is a worker's record on the scoreboard (-1 for other roles), of Records.
	Record, Records int
	// Protocols names the protocol of each inherited listening socket, in order ("http",
	// "uwsgi"); they can outnumber the configured addresses when systemd passed some.
	Protocols []string
	// Arg is a mule's script ("" for none) or a spooler's directory.
	Arg string
}

// IsChild says whether a master started this process.
func IsChild() bool { return os.Getenv(EnvSpec) != "" }

// Environ is base (the master's environment) with the child's names set, replacing any
// the master itself inherited.
func (s Spec) Environ(base []string, config string) []string {
	env := make([]string, 0, len(base)+3)
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if name != EnvSpec && name != EnvConfig && name != EnvRole {
			env = append(env, kv)
		}
	}
	return append(env,
		fmt.Sprintf("%s=%d,%d,%d,%s", EnvSpec, s.ID, s.Record, s.Records, strings.Join(s.Protocols, "+")),
		EnvConfig+"="+config,
		EnvRole+"="+string(s.Role)+":"+s.Arg)
}

// FromEnv reads the child's Spec and encoded configuration and removes their names from
// the environment.
func FromEnv() (Spec, string, error) {
	var s Spec
	raw := os.Getenv(EnvSpec)
	config := os.Getenv(EnvConfig)
	role, arg, _ := strings.Cut(os.Getenv(EnvRole), ":")
	os.Unsetenv(EnvSpec)
	os.Unsetenv(EnvConfig)
	os.Unsetenv(EnvRole)
	fields := strings.SplitN(raw, ",", 4)
	if len(fields) != 4 {
		return s, "", fmt.Errorf("%s=%q: want ID,RECORD,RECORDS,PROTOCOLS", EnvSpec, raw)
	}
	if _, err := fmt.Sscanf(strings.Join(fields[:3], " "), "%d %d %d", &s.ID, &s.Record, &s.Records); err != nil {
		return s, "", fmt.Errorf("%s=%q: %v", EnvSpec, raw, err)
	}
	if fields[3] != "" {
		s.Protocols = strings.Split(fields[3], "+")
	}
	switch s.Role, s.Arg = Role(role), arg; s.Role {
	case Worker, Mule, Spooler, Loader:
	default:
		return s, "", fmt.Errorf("%s=%q: no such role (roles: \"\" for a worker, %q, %q, %q)", EnvRole, role, string(Mule), string(Spooler), string(Loader))
	}
	return s, config, nil
}

// Kind is what a Message says. The first group goes from a child to the master, the
// second from the master to a child.
type Kind string

const (
	Ready     Kind = "ready"   // a worker serves; App names what it loaded ("" none)
	Raise     Kind = "raise"   // uwsgi.signal(Num): route it to its registered target
	AddSource Kind = "source"  // a timer, cron or file monitor (Source) raises a signal
	MuleSend  Kind = "mule"    // uwsgi.mule_msg(Data, Arg): Arg a mule id, a farm, or "" any mule
	Spooled   Kind = "spooled" // a job was written to the spooler of directory Arg
	Reload    Kind = "reload"  // uwsgi.reload(): replace the workers gracefully
	Stop      Kind = "stop"    // uwsgi.stop(): stop the instance gracefully

	Signal      Kind = "signal"  // run the handler of uWSGI signal Num
	MuleMessage Kind = "mulemsg" // a mule message (Data), through a farm if Farm
	Wake        Kind = "wake"    // a spooler: a job was written, scan now
	Drain       Kind = "drain"   // a worker: the instance stops; turn health checks to 503 first
)

// Message is one line on the control socket, in either direction.
type Message struct {
	Kind   Kind                `json:"t"`
	App    string              `json:"app,omitempty"`
	Num    int                 `json:"num,omitempty"`
	Source *uwsgisignal.Source `json:"source,omitempty"`
	Arg    string              `json:"arg,omitempty"`
	Data   []byte              `json:"data,omitempty"`
	Farm   bool                `json:"farm,omitempty"`
}

// Conn is one end of a control socket. Send may be called from any goroutine.
type Conn struct {
	mu sync.Mutex
	f  *os.File
}

// NewConn wraps an open control socket.
func NewConn(f *os.File) *Conn { return &Conn{f: f} }

// Pair makes a control socket: the master's end, and the child's, to be inherited as
// FDControl and closed in the master once the child started.
func Pair() (*Conn, *os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return NewConn(os.NewFile(uintptr(fds[0]), "child control")), os.NewFile(uintptr(fds[1]), "master control"), nil
}

// Send writes msg as one line.
func (c *Conn) Send(msg Message) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = c.f.Write(append(b, '\n'))
	return err
}

// Receive calls handle with each message read, until the other end is gone. A line
// that is not a Message is skipped.
func (c *Conn) Receive(handle func(Message)) {
	sc := bufio.NewScanner(c.f)
	// A mule message can be large: lines up to 16 MB.
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var msg Message
		if json.Unmarshal(sc.Bytes(), &msg) == nil {
			handle(msg)
		}
	}
}

// Close closes this end.
func (c *Conn) Close() error { return c.f.Close() }
