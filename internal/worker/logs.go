package worker

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"uwsgo/internal/instance"
	"uwsgo/internal/options"
)

// reopenLogOnSignal opens the log file again on SIGUSR2: sent by logrotate to a single
// process, or passed on by the master to its workers. A single process also watches
// --touch-logreopen and --log-maxsize itself (a master does it for its workers).
func reopenLogOnSignal(cfg *options.Config, logger *log.Logger, single bool, rl *reqLog) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR2)
	var tick <-chan time.Time
	touched := instance.NewTouched(cfg.Logging.TouchReopen)
	if single && (len(cfg.Logging.TouchReopen) > 0 || cfg.Logging.MaxSize > 0) {
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
			if rl != nil {
				if err := rl.reopen(); err != nil {
					logger.Printf("%s: reopening the request log %s: %v", why, rl.path, err)
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

// reqLog is uWSGI's req-logger with a file: target: the request lines go to a file of their
// own, opened again with the log (SIGUSR2, --touch-logreopen, --log-maxsize), so that
// logrotate can move it. Only file: is a logger uwsgo has; any other is warned about and
// its lines stay in the log.
type reqLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func openReqLog(cfg *options.Config, logger *log.Logger) (*reqLog, error) {
	var path string
	for _, v := range cfg.Logging.ReqLogger {
		spec := v
		if name, rest, ok := strings.Cut(v, " "); ok && !strings.Contains(name, ":") {
			spec = strings.TrimSpace(rest) // uWSGI's "NAME file:PATH"
		}
		if p, ok := strings.CutPrefix(spec, "file:"); ok && p != "" {
			path = p
		} else {
			logger.Printf("warning: req-logger %s: uwsgo has only file: request loggers; these lines stay in the log", v)
		}
	}
	if path == "" {
		return nil, nil
	}
	rl := &reqLog{path: path}
	if err := rl.reopen(); err != nil {
		return nil, fmt.Errorf("req-logger file:%s: %v", path, err)
	}
	return rl, nil
}

func (rl *reqLog) reopen() error {
	f, err := os.OpenFile(rl.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	rl.mu.Lock()
	old := rl.f
	rl.f = f
	rl.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (rl *reqLog) Write(p []byte) (int, error) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.f.Write(p)
}

// logger is the request log's logger, its lines written like the log's own; nil for none.
func (rl *reqLog) logger(main *log.Logger) *log.Logger {
	if rl == nil {
		return nil
	}
	return log.New(rl, main.Prefix(), main.Flags())
}
