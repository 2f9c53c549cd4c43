package worker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"uwsgo/internal/child"
	"uwsgo/internal/options"
	"uwsgo/internal/pypy"
	"uwsgo/internal/spooler"
)

// serveAux runs a mule or a spooler: it starts PyPy and loads the app like a worker (so
// the app's decorators register its mule functions and spooler hook), then runs its loop
// in Python on the main thread, blocking in Go (the GIL released) while it waits. uWSGI
// signals for it run on other threads, one at a time.
func serveAux(cfg *options.Config, logger *log.Logger, env Env, arg string) error {
	// No request is ever in flight here: a stop is immediate, even while loading. A
	// spooler job cut short stays in its file and runs again.
	stop := stopSignals()
	go func() {
		sig := <-stop
		logger.Printf("%v: stopping", sig)
		os.Exit(0)
	}()
	_, api, appSigs, err := boot(cfg, logger, &env)
	if err != nil {
		return err
	}
	api.roleArg = arg
	slot := make(chan struct{}, 1)
	inPython := func(f func()) {
		slot <- struct{}{}
		defer func() { <-slot }()
		f()
	}
	go api.run(inPython)
	go appSigs.deliver(inPython)
	step, what := pypy.StepMuleLoop, "waiting for messages (uwsgi.mule_msg_hook) and signals"
	switch {
	case env.Role == child.Spooler:
		step, what = pypy.StepSpoolerLoop, "running the jobs in "+arg
	case arg != "":
		what = "running " + arg
	}
	logger.Printf("pid %d: %s", os.Getpid(), what)
	if err := pypy.Do(step, arg); err != nil {
		return fail(1, "%v", err)
	}
	logger.Printf("%s ended", arg)
	return nil
}

// muleGet waits for a message: direct ones and farm ones (both), or only one kind.
func (a *uwsgiAPI) muleGet(farmOnly, withFarms bool, timeout int64) (int, []byte, error) {
	if a.role != child.Mule {
		return 0, nil, errors.New("only a mule receives mule messages")
	}
	var after <-chan time.Time
	if timeout > 0 {
		after = time.After(time.Duration(timeout) * time.Second)
	}
	direct, farm := a.muleMsgs, a.farmMsgs
	if farmOnly {
		direct = nil
	}
	if !withFarms {
		farm = nil
	}
	select {
	case m := <-direct:
		return 0, m, nil
	case m := <-farm:
		return 0, m, nil
	case <-after:
		return 1, nil, nil
	}
}

// inFarm says whether this mule belongs to the farm name ("" any farm).
func (a *uwsgiAPI) inFarm(name string) bool {
	if a.role != child.Mule {
		return false
	}
	for _, f := range a.cfg.Shared.Farms {
		if (name == "" || f.Name == name) && f.Has(a.env.ID) {
			return true
		}
	}
	return false
}

// spool writes a job: args are the spooler's directory ("" for the first) and then
// keys and values.
func (a *uwsgiAPI) spool(args [][]byte) (int, []byte, error) {
	dirs := a.cfg.Shared.Spoolers
	if len(dirs) == 0 {
		return 0, nil, errors.New("no spooler runs: start one with --spooler DIR")
	}
	dir := dirs[0]
	if len(args) > 0 && len(args[0]) > 0 {
		dir = string(args[0])
		found := false
		for _, d := range dirs {
			found = found || d == dir
		}
		if !found {
			return 0, nil, fmt.Errorf("no spooler runs on %s (spoolers: %s)", dir, strings.Join(dirs, ", "))
		}
	}
	var vars [][2][]byte
	for i := 1; i+1 < len(args); i += 2 {
		vars = append(vars, [2][]byte{args[i], args[i+1]})
	}
	path, err := spooler.Write(dir, vars)
	if err != nil {
		return 0, nil, err
	}
	if err := a.master.Spooled(dir); err != nil {
		a.log.Printf("spool: %v", err)
	}
	return 0, []byte(path), nil
}

// spoolNext waits for the next job due and hands it over as path, body, then keys and
// values. A scan's jobs are handed out in order; the next scan waits for a new job or
// for --spooler-frequency, so that SPOOL_RETRY jobs do not spin.
func (a *uwsgiAPI) spoolNext() (int, []byte, error) {
	if a.role != child.Spooler {
		return 0, nil, errors.New("only a spooler runs spooler jobs")
	}
	freq := a.cfg.Shared.SpoolerFreq
	for {
		for len(a.pass) > 0 {
			path := a.pass[0]
			a.pass = a.pass[1:]
			job, err := spooler.Read(path)
			if err != nil {
				continue // gone since the scan, or not a job
			}
			var out []byte
			put := func(b []byte) {
				out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
				out = append(out, b...)
			}
			put([]byte(job.Path))
			put(job.Body)
			for _, kv := range job.Vars {
				put(kv[0])
				put(kv[1])
			}
			return 0, out, nil
		}
		if a.scanned {
			select {
			case <-a.wake:
			case <-time.After(freq):
			}
		}
		a.pass = spooler.Scan(a.roleArg, time.Now())
		a.scanned = true
	}
}
