package worker

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"uwsgo/internal/child"
	"uwsgo/internal/instance"
	"uwsgo/internal/options"
	"uwsgo/internal/pypy"
	"uwsgo/internal/server"
	"uwsgo/internal/shm/cache"
	"uwsgo/internal/shm/scoreboard"
	"uwsgo/internal/shm/shared"
	"uwsgo/internal/spooler"
	"uwsgo/internal/stats"
	"uwsgo/internal/uwsgisignal"
)

// master is what a worker asks of the process that routes signals and manages workers:
// its master over the control socket, or itself when it is the single process.
type master interface {
	Raise(num int) error
	AddSource(uwsgisignal.Source) error
	Reload() error
	Stop() error
	MuleMsg(target string, data []byte) error
	Spooled(dir string) error
}

// uwsgiAPI carries out the uwsgi module's operations for one worker.
type uwsgiAPI struct {
	state    *shared.State
	master   master
	env      *Env
	log      *log.Logger
	src      *stats.Source
	incoming chan int // uWSGI signals for this worker; they wait here until Python may run
	cfg      *options.Config
	server   *server.Server // set once serving: the request functions act on its connections

	role     child.Role
	roleArg  string      // a mule's script or a spooler's directory
	muleMsgs chan []byte // messages for this mule
	farmMsgs chan []byte // messages for this mule through one of its farms
	wake     chan struct{}
	pass     []string // the spooler's jobs of the current scan
	scanned  bool     // a scan happened: the next one waits for a job or the clock

	waitMu  sync.Mutex
	waiters []chan int // signal_wait() calls waiting for the next signal
}

var errBadArgs = errors.New("bad arguments")

// incomingSignals bounds signals waiting for a worker busy starting up; delivery is
// reliable below that.
const incomingSignals = 4096

func newUwsgiAPI(cfg *options.Config, env *Env, logger *log.Logger) *uwsgiAPI {
	a := &uwsgiAPI{state: env.State, env: env, log: logger, incoming: make(chan int, incomingSignals), cfg: cfg,
		muleMsgs: make(chan []byte, 1024), farmMsgs: make(chan []byte, 1024), wake: make(chan struct{}, 1), role: env.Role}
	a.src = &stats.Source{Board: env.Board, PID: os.Getpid(), Version: Version}
	for _, l := range env.Listeners {
		a.src.Sockets = append(a.src.Sockets, &instance.Socket{Addr: l.Addr().String(), Listener: l.Listener})
	}
	if env.Control != nil {
		a.master = &remoteMaster{ctl: env.Control}
		go a.listen(env.Control, env.MasterPID)
		return a
	}
	// A single process routes its own signals: every target that names a worker is it.
	router := uwsgisignal.New(env.State.UwsgiSignals, func(num int, target string) int {
		switch target {
		case "worker", "worker0", "worker1", "workers", "active-workers":
			go a.arrived(num) // not on the caller's thread: it may be Python's, raising it
			return 1
		}
		return 0
	}, logger)
	a.master = &selfMaster{router: router}
	go func() {
		for now := range time.Tick(time.Second) {
			router.Tick(now)
		}
	}()
	return a
}

// listen reads the master's messages; its end means the master is gone, and so must the
// worker be.
func (a *uwsgiAPI) listen(ctl *child.Conn, masterPID int) {
	ctl.Receive(func(msg child.Message) {
		switch msg.Kind {
		case child.Signal:
			a.arrived(msg.Num)
		case child.MuleMessage:
			if msg.Farm {
				a.farmMsgs <- msg.Data
			} else {
				a.muleMsgs <- msg.Data
			}
		case child.Wake:
			select {
			case a.wake <- struct{}{}:
			default:
			}
		case child.Drain:
			select {
			case a.env.drain <- struct{}{}:
			default:
			}
		}
	})
	a.log.Printf("the master (pid %d) is gone: stopping", masterPID)
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
}

// run delivers incoming signals once Python may be called.
func (a *uwsgiAPI) run(inPython func(func())) {
	for num := range a.incoming {
		a.deliver(num, inPython)
	}
}

// numArg is argument i as a number (Python sends them in decimal); 0 when absent.
func numArg(args [][]byte, i int) int64 {
	if i >= len(args) {
		return 0
	}
	n, _ := strconv.ParseInt(string(args[i]), 10, 64)
	return n
}

// call carries out one operation of pypy.Ops; the boundary has checked the number and
// kinds of its arguments against the table.
func (a *uwsgiAPI) call(op pypy.Op, args [][]byte) (int, []byte, error) {
	num := func(i int) int64 { return numArg(args, i) }
	switch op {
	case pypy.OpLock, pypy.OpUnlock, pypy.OpIsLocked:
		n := int(num(0))
		if n < 0 || n >= len(a.state.Locks) {
			return 0, nil, fmt.Errorf("no lock %d: this instance has locks 0 to %d (--locks)", n, len(a.state.Locks)-1)
		}
		l := a.state.Locks[n]
		switch op {
		case pypy.OpLock:
			l.Lock()
		case pypy.OpUnlock:
			if !l.Unlock() {
				return 0, nil, fmt.Errorf("lock %d is not held by this worker", n)
			}
		default:
			return boolean(l.Locked()), nil, nil
		}
		return 0, nil, nil

	case pypy.OpCacheGet, pypy.OpCacheSet, pypy.OpCacheUpdate, pypy.OpCacheDel, pypy.OpCacheExists, pypy.OpCacheClear, pypy.OpCacheKeys, pypy.OpCacheMath:
		c := a.state.Cache(string(args[0]))
		if c == nil {
			if len(a.state.Caches) == 0 {
				return 0, nil, errors.New("no cache configured (--cache2 name=NAME,items=N)")
			}
			return 0, nil, fmt.Errorf("no cache named %q", args[0])
		}
		return cacheOp(c, op, args[1:])

	case pypy.OpAreaRead, pypy.OpAreaWrite, pypy.OpAreaAddLong, pypy.OpAreaWriteLong:
		id := int(num(0))
		if id < 0 || id >= len(a.state.Areas) {
			return 0, nil, fmt.Errorf("no shared area %d (--sharedarea gives %d)", id, len(a.state.Areas))
		}
		area, pos := a.state.Areas[id], int(num(1))
		var err error
		switch op {
		case pypy.OpAreaRead:
			var b []byte
			b, err = area.Read(pos, int(num(2)))
			return 0, b, err
		case pypy.OpAreaWrite:
			err = area.Write(pos, args[2])
		case pypy.OpAreaWriteLong:
			err = area.WriteLong(pos, num(2))
		case pypy.OpAreaAddLong:
			var v int64
			v, err = area.AddLong(pos, num(2))
			return 0, []byte(strconv.FormatInt(v, 10)), err
		}
		return 0, nil, err

	case pypy.OpMetric:
		if len(args[1]) != 1 {
			return 0, nil, errBadArgs
		}
		name := string(args[0])
		v, ok := a.state.Metrics.Get(name)
		if args[1][0] != '?' {
			v, ok = a.state.Metrics.Apply(name, args[1][0], num(2))
		}
		if !ok {
			return 1, nil, nil
		}
		return 0, []byte(strconv.FormatInt(v, 10)), nil

	case pypy.OpRegister:
		return boolean(a.state.UwsgiSignals.Register(int(num(0)), string(args[1]))), nil, nil
	case pypy.OpRegistered:
		return boolean(a.state.UwsgiSignals.Target(int(num(0))) != ""), nil, nil
	case pypy.OpRaise:
		return 0, nil, a.master.Raise(int(num(0)))
	case pypy.OpAddSource:
		var s uwsgisignal.Source
		if json.Unmarshal(args[0], &s) != nil {
			return 0, nil, errBadArgs
		}
		return 0, nil, a.master.AddSource(s)
	case pypy.OpWait:
		return 0, []byte(strconv.Itoa(a.wait(int(num(0))))), nil

	case pypy.OpMuleMsg:
		return 0, nil, a.master.MuleMsg(string(args[1]), args[0])
	case pypy.OpMuleGet:
		return a.muleGet(string(args[0]) == "farm", string(args[0]) != "direct", num(1))
	case pypy.OpInFarm:
		return boolean(a.inFarm(string(args[0]))), nil, nil
	case pypy.OpSpool:
		return a.spool(args)
	case pypy.OpSpoolNext:
		return a.spoolNext()
	case pypy.OpSpoolDone:
		if num(1) == spooler.OK {
			if err := os.Remove(string(args[0])); err != nil && !os.IsNotExist(err) {
				return 0, nil, err
			}
		}
		return 0, nil, nil
	case pypy.OpSpoolerPID:
		return 0, []byte(strconv.FormatInt(a.state.SpoolerPID.Load(), 10)), nil

	case pypy.OpWSHandshake, pypy.OpWSRecv, pypy.OpWSSend, pypy.OpDisconnect, pypy.OpConnectionFD, pypy.OpSetLogvar, pypy.OpGetLogvar:
		if a.server == nil {
			return 0, nil, errors.New("not called from a request")
		}
		return a.requestOp(op, int(num(0)), args[1:])

	case pypy.OpReload:
		return 0, nil, a.master.Reload()
	case pypy.OpStop:
		return 0, nil, a.master.Stop()
	case pypy.OpWorkers:
		b, _ := json.Marshal(stats.Document(a.src)["workers"])
		return 0, b, nil
	case pypy.OpListenQueue:
		doc := stats.Document(a.src)
		return 0, []byte(fmt.Sprint(doc["listen_queue"])), nil
	case pypy.OpHarakiri:
		// set_user_harakiri(s): the master kills this worker if its current request is
		// still running s seconds from now (0 cancels), whatever --harakiri says.
		if a.server == nil {
			return 1, nil, nil
		}
		slot, err := a.server.Slot(int(num(1)))
		if err != nil {
			return 0, nil, err
		}
		core := a.env.Board.Core(a.env.Record, slot)
		if s := num(0); s > 0 {
			core.UserHarakiri.Store(scoreboard.Now() + s*1e6)
		} else {
			core.UserHarakiri.Store(0)
		}
		return 0, nil, nil
	}
	return 0, nil, fmt.Errorf("%s is in the table but not carried out here", pypy.OpByNumber(int(op)))
}

// requestOp acts on the connection of the request named by handle.
func (a *uwsgiAPI) requestOp(op pypy.Op, handle int, args [][]byte) (int, []byte, error) {
	arg := func(i int) string { return string(args[i]) }
	switch op {
	case pypy.OpWSHandshake:
		return 0, nil, a.server.WebSocketHandshake(handle, arg(0), arg(1))
	case pypy.OpWSRecv:
		msg, err := a.server.WebSocketRecv(handle, arg(0) == "1")
		if msg == nil && err == nil {
			return 1, nil, nil
		}
		return 0, msg, err
	case pypy.OpWSSend:
		return 0, nil, a.server.WebSocketSend(handle, args[0], arg(1) == "1")
	case pypy.OpDisconnect:
		return 0, nil, a.server.Disconnect(handle)
	case pypy.OpSetLogvar:
		return 0, nil, a.server.SetLogvar(handle, args[0], args[1])
	case pypy.OpGetLogvar:
		v, ok, err := a.server.Logvar(handle, args[0])
		if !ok {
			return 1, nil, err
		}
		return 0, append([]byte{}, v...), err
	}
	fd, err := a.server.ConnectionFD(handle)
	return 0, []byte(strconv.Itoa(fd)), err
}

// Send, SendFile and RPCReply make the worker Python's sink (pypy.Host.Sink) from PyPy's
// start, before its server exists: they pass a request's response to the server. A mule
// or spooler has no server and no requests, so Python's calls there name none.
func (a *uwsgiAPI) Send(handle int, head, body []byte, final bool) int {
	if a.server == nil {
		return pypy.SendClientGone
	}
	return a.server.Send(handle, head, body, final)
}

// SendFile implements pypy.Sink.
func (a *uwsgiAPI) SendFile(handle int, head []byte, fd int, offset, length int64) int {
	if a.server == nil {
		return pypy.SendClientGone
	}
	return a.server.SendFile(handle, head, fd, offset, length)
}

// RPCReply implements pypy.Sink.
func (a *uwsgiAPI) RPCReply(handle int, result []byte) {
	if a.server != nil {
		a.server.RPCReply(handle, result)
	}
}

func boolean(b bool) int {
	if b {
		return 0
	}
	return 1
}

// cacheOp runs a cache operation; args are key, then value or operator, then numbers.
func cacheOp(c *cache.Cache, op pypy.Op, args [][]byte) (int, []byte, error) {
	arg := func(i int) []byte {
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	num := func(i int) int64 { return numArg(args, i) }
	key := arg(0)
	switch op {
	case pypy.OpCacheGet:
		v, ok := c.Get(key)
		if !ok {
			return 1, nil, nil
		}
		return 0, v, nil
	case pypy.OpCacheSet, pypy.OpCacheUpdate:
		err := c.Set(key, arg(1), num(2), op == pypy.OpCacheUpdate)
		if errors.Is(err, cache.ErrExists) || errors.Is(err, cache.ErrFull) || errors.Is(err, cache.ErrTooBig) {
			return 1, nil, nil // uWSGI answers None
		}
		return 0, nil, err
	case pypy.OpCacheDel:
		return boolean(c.Del(key)), nil, nil
	case pypy.OpCacheExists:
		return boolean(c.Exists(key)), nil, nil
	case pypy.OpCacheClear:
		c.Clear()
		return 0, nil, nil
	case pypy.OpCacheKeys:
		out := []byte{} // an empty cache has no keys, which is not no answer
		for _, k := range c.Keys() {
			out = binary.LittleEndian.AppendUint32(out, uint32(len(k)))
			out = append(out, k...)
		}
		return 0, out, nil
	case pypy.OpCacheMath:
		if len(arg(1)) != 1 {
			return 0, nil, errBadArgs
		}
		v, err := c.Math(key, arg(1)[0], num(2), num(3))
		if err != nil {
			return 1, nil, nil
		}
		return 0, []byte(strconv.FormatInt(v, 10)), nil
	}
	return 0, nil, errBadArgs
}

// deliver runs a uWSGI signal's handler in Python, holding a slot, and wakes the
// signal_wait() calls.
func (a *uwsgiAPI) deliver(num int, inPython func(func())) {
	inPython(func() { pypy.DeliverUwsgiSignal(num) })
}

// arrived takes a signal for this process: signal_wait() calls return at once (they hold
// slots that the handlers may be waiting for), and the handler runs when Python may.
func (a *uwsgiAPI) arrived(num int) {
	a.waitMu.Lock()
	for _, w := range a.waiters {
		w <- num
	}
	a.waiters = nil
	a.waitMu.Unlock()
	a.incoming <- num
}

func (a *uwsgiAPI) wait(num int) int {
	for {
		ch := make(chan int, 1)
		a.waitMu.Lock()
		a.waiters = append(a.waiters, ch)
		a.waitMu.Unlock()
		got := <-ch
		if num < 0 || got == num {
			return got
		}
	}
}

// remoteMaster reaches the master over the control socket.
type remoteMaster struct{ ctl *child.Conn }

func (m *remoteMaster) Raise(num int) error {
	return m.ctl.Send(child.Message{Kind: child.Raise, Num: num})
}
func (m *remoteMaster) AddSource(s uwsgisignal.Source) error {
	return m.ctl.Send(child.Message{Kind: child.AddSource, Source: &s})
}
func (m *remoteMaster) Reload() error { return m.ctl.Send(child.Message{Kind: child.Reload}) }
func (m *remoteMaster) MuleMsg(target string, data []byte) error {
	return m.ctl.Send(child.Message{Kind: child.MuleSend, Arg: target, Data: data})
}
func (m *remoteMaster) Spooled(dir string) error {
	return m.ctl.Send(child.Message{Kind: child.Spooled, Arg: dir})
}
func (m *remoteMaster) Stop() error { return m.ctl.Send(child.Message{Kind: child.Stop}) }

// selfMaster is the single process's own router.
type selfMaster struct{ router *uwsgisignal.Router }

func (m *selfMaster) Raise(num int) error                  { return m.router.Raise(num) }
func (m *selfMaster) AddSource(s uwsgisignal.Source) error { return m.router.Add(s) }
func (m *selfMaster) Reload() error {
	return errors.New("uwsgi.reload() needs a master (--master): a single process cannot replace itself without dropping requests")
}
func (m *selfMaster) Stop() error { return syscall.Kill(os.Getpid(), syscall.SIGTERM) }
func (m *selfMaster) MuleMsg(string, []byte) error {
	return errors.New("no mules run: start them with --mule")
}
func (m *selfMaster) Spooled(string) error {
	return errors.New("no spooler runs: start one with --spooler DIR")
}
