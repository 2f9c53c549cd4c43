package worker

import (
	"bytes"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"uwsgo/internal/instance"
	"uwsgo/internal/options"
)

// reopenLogOnSignal opens the log file again on SIGUSR2: sent by logrotate to a single
// process, or passed on by the master to its workers. A single process also watches
// --touch-logreopen and --log-maxsize itself (a master does it for its workers).
func reopenLogOnSignal(cfg *options.Config, logger *log.Logger, single bool) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR2)
	var tick <-chan time.Time
	touched := instance.NewTouched(cfg.All("touch-logreopen"))
	if single && (len(cfg.All("touch-logreopen")) > 0 || cfg.Int("log-maxsize") > 0) {
		tick = time.Tick(time.Second)
	}
	go func() {
		for {
			why := "SIGUSR2"
			select {
			case <-sigs:
			case <-tick:
				backup, err := instance.RotateLog(cfg)
				if err != nil {
					logger.Printf("%v", err)
				}
				if backup != "" {
					why = "--log-maxsize: the full log is now " + backup
				} else if f := touched.Changed(); f != "" {
					why = "--touch-logreopen " + f
				} else {
					continue
				}
			}
			switch f, err := instance.ReopenLog(cfg); {
			case err != nil:
				logger.Printf("%s: reopening the log file %s: %v", why, f, err)
			case f != "":
				logger.Printf("%s: reopened the log file %s", why, f)
			case single:
				logger.Printf("%s: no log file to reopen (the log is standard error; --logto FILE names one)", why)
			}
		}
	}()
}

// pythonLog writes what the app prints (and Python's tracebacks) to the log a line at a
// time, each with the process's prefix like uwsgo's own lines. The setup module hands
// over complete lines only.
func pythonLog(logger *log.Logger) func([]byte) {
	return func(msg []byte) {
		for len(msg) > 0 {
			line := msg
			if i := bytes.IndexByte(msg, '\n'); i >= 0 {
				line, msg = msg[:i], msg[i+1:]
			} else {
				msg = nil
			}
			logger.Output(2, string(line))
		}
	}
}
