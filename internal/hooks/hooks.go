// Package hooks runs uWSGI's hooks: actions the configuration attaches to moments of an
// instance's life (--hook-PHASE ACTION:ARG, and --exec-PHASE COMMAND as the shorthand
// for --hook-PHASE exec:COMMAND). The phases are the ones uwsgo has:
//
//	asap             right after the configuration is read, before anything else
//	as-root          once the sockets are bound, before privileges are dropped
//	as-user          after privileges are dropped (or where that would be)
//	master-start     when the master starts its workers
//	pre-app, post-app in each worker, before and after it loads the app
//	accepting        in each worker, once it serves its sockets
//	as-user-atexit   when the instance has stopped
//
// A failing action stops what it is part of (the start-up, or the worker), with the
// hook named: a hook is there because what follows depends on it.
package hooks

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"

	"uwsgo/internal/options"
)

// actions are the hook actions uwsgo knows, by the name before the colon.
var actions = map[string]func(arg string, logger *log.Logger) error{
	"exec": func(arg string, _ *log.Logger) error {
		cmd := exec.Command("/bin/sh", "-c", arg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	},
	"print": func(arg string, logger *log.Logger) error { logger.Print(arg); return nil },
	"log":   func(arg string, logger *log.Logger) error { logger.Print(arg); return nil },
	"mkdir": func(arg string, _ *log.Logger) error { return os.MkdirAll(arg, 0o755) },
	"unlink": func(arg string, _ *log.Logger) error {
		if err := os.Remove(arg); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	},
	// write:FILE CONTENT, as uWSGI's: the file is created or truncated.
	"write": func(arg string, _ *log.Logger) error {
		file, content, _ := strings.Cut(arg, " ")
		return os.WriteFile(file, []byte(content), 0o644)
	},
	"putenv": func(arg string, _ *log.Logger) error {
		name, value, ok := strings.Cut(arg, "=")
		if !ok || name == "" {
			return fmt.Errorf("want NAME=VALUE")
		}
		return os.Setenv(name, value)
	},
	"chdir": func(arg string, _ *log.Logger) error { return os.Chdir(arg) },
	// Checked (checkUnixSignal) to restate what uwsgo does anyway: nothing to do.
	"unix_signal": func(string, *log.Logger) error { return nil },
}

// fixedSignals is what uwsgo's master does on each signal, in the names of uWSGI's
// functions for unix_signal:N FUNCTION.
var fixedSignals = map[string]string{
	"1": "grace_them_all", "2": "gracefully_kill_them_all", "3": "kill_them_all", "15": "gracefully_kill_them_all",
}

// checkUnixSignal accepts uWSGI's unix_signal:N FUNCTION (as Docker images use it to
// make SIGTERM graceful) when it asks for what uwsgo does anyway.
func checkUnixSignal(arg string) error {
	num, fn, _ := strings.Cut(arg, " ")
	if fixedSignals[num] != strings.TrimSpace(fn) {
		return fmt.Errorf("uwsgo's signals are fixed: SIGTERM and SIGINT stop gracefully (gracefully_kill_them_all), SIGQUIT at once (kill_them_all), SIGHUP reloads (grace_them_all)")
	}
	return nil
}

// Check reports the first hook whose action uwsgo does not know, so that a typo stops
// the start at once rather than when the phase comes.
func Check(cfg *options.Config) error {
	for _, ph := range options.HookPhases {
		for _, h := range cfg.Hooks[ph.Name] {
			if actions[h.Action] == nil {
				return fmt.Errorf("%s: uwsgo has no %q action (it has exec, print, log, mkdir, unlink, write, putenv, chdir, unix_signal)", h.Given, h.Action)
			}
			if h.Action == "unix_signal" {
				if err := checkUnixSignal(h.Arg); err != nil {
					return fmt.Errorf("%s: %v", h.Given, err)
				}
			}
		}
	}
	return nil
}

// Run runs the hooks of one phase, in the order given.
func Run(cfg *options.Config, phase string, logger *log.Logger) error {
	for _, h := range cfg.Hooks[phase] {
		if err := actions[h.Action](h.Arg, logger); err != nil {
			return fmt.Errorf("%s (%s): %v", h.Given, h.Origin, err)
		}
	}
	return nil
}
