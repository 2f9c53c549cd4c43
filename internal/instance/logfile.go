package instance

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"uwsgo/internal/options"
)

// Log rotation: logrotate renames the log file and then asks for it to be opened again
// (SIGUSR2, or touching a --touch-logreopen file, in its postrotate script). Every process
// of the instance writes to the file through its own descriptors 1 and 2, so each one
// reopens it itself: the master (or the single process) on the trigger, and the master
// passes SIGUSR2 on to its workers. A worker started afterwards inherits the new file.

// LogFile is the file the log goes to and ReopenLog opens again: --logto, else the
// --daemonize log file in the background copy and its workers. "" when the log is the
// inherited standard error (a terminal, journald): nothing to reopen.
func LogFile(cfg *options.Config) string {
	if f := cfg.Operations.Logto; f != "" {
		return f
	}
	if os.Getenv(daemonizedEnv) != "" {
		return cfg.Operations.Daemonize
	}
	return ""
}

// ReopenLog opens the log file again onto descriptors 1 and 2 and returns its name ("":
// no log file).
func ReopenLog(cfg *options.Config) (string, error) {
	f := LogFile(cfg)
	if f == "" {
		return "", nil
	}
	return f, logTo(f)
}

// RotateLog is --log-maxsize: once the log file has grown to that many bytes it is
// renamed to --log-backupname (else FILE.UNIXTIME, uWSGI's name) and the caller reopens
// it, as after logrotate. It returns the backup's name, "" when nothing was rotated.
func RotateLog(cfg *options.Config) (string, error) {
	f, max := LogFile(cfg), cfg.Logging.MaxSize
	if f == "" || max <= 0 {
		return "", nil
	}
	st, err := os.Stat(f)
	if err != nil || st.Size() < max {
		return "", nil
	}
	backup := cfg.Logging.BackupName
	if backup == "" {
		backup = f + "." + strconv.FormatInt(time.Now().Unix(), 10)
	}
	if err := os.Rename(f, backup); err != nil {
		return "", fmt.Errorf("--log-maxsize: %w", err)
	}
	return backup, nil
}

// Touched watches files for a change of modification time, as --touch-reload and
// --touch-logreopen do. A file that does not exist yet counts as changed once it appears.
type Touched struct {
	mtimes map[string]time.Time
}

// NewTouched remembers the files' current modification times.
func NewTouched(files []string) *Touched {
	t := &Touched{mtimes: map[string]time.Time{}}
	for _, f := range files {
		t.mtimes[f] = mtime(f)
	}
	return t
}

// Changed returns the first file whose modification time changed since the last call
// (or NewTouched), "" if none did.
func (t *Touched) Changed() string {
	changed := ""
	for f, prev := range t.mtimes {
		if now := mtime(f); !now.Equal(prev) {
			t.mtimes[f] = now
			if changed == "" {
				changed = f
			}
		}
	}
	return changed
}

func mtime(f string) time.Time {
	st, err := os.Stat(f)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}
