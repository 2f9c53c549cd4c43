package master

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"uwsgo/internal/uwsgisignal"
)

// cronJob is a --cron entry in uWSGI's syntax: "MINUTE HOUR DAY MONTH WEEKDAY COMMAND",
// where -1 is any value and -N (N > 1) every N (minute 0, N, 2N ...). The master runs
// COMMAND through /bin/sh at the start of each matching minute, without waiting for it.
type cronJob struct {
	fields  [5]int // minute, hour, day of the month, month, day of the week (0 = Sunday)
	command string
}

func parseCron(spec string) (cronJob, error) {
	var j cronJob
	parts := strings.Fields(spec)
	if len(parts) < 6 {
		return j, fmt.Errorf("--cron %q: want MINUTE HOUR DAY MONTH WEEKDAY COMMAND (-1 for any, -N for every N)", spec)
	}
	for i := range j.fields {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n == 0 && parts[i] != "0" {
			return j, fmt.Errorf("--cron %q: %q is not a number (-1 for any, -N for every N)", spec, parts[i])
		}
		j.fields[i] = n
	}
	// The command is the rest of the line as written, spaces included.
	rest := spec
	for i := 0; i < 5; i++ {
		rest = strings.TrimLeft(rest, " \t")
		rest = rest[len(parts[i]):]
	}
	j.command = strings.TrimSpace(rest)
	return j, nil
}

func (j cronJob) due(t time.Time) bool { return uwsgisignal.CronMatches(j.fields, t) }

func (m *Master) planCron() error {
	for _, spec := range m.cfg.Processes.Cron {
		j, err := parseCron(spec)
		if err != nil {
			return err
		}
		m.cron = append(m.cron, j)
	}
	return nil
}

// runCron starts the jobs due in the minute now falls in, once per minute.
func (m *Master) runCron(now time.Time) {
	minute := now.Truncate(time.Minute)
	if len(m.cron) == 0 || !minute.After(m.cronMinute) {
		return
	}
	m.cronMinute = minute
	for _, j := range m.cron {
		if !j.due(now) {
			continue
		}
		p, err := startShell(j.command)
		if err != nil {
			m.log.Printf("master: --cron %q: %v", j.command, err)
			continue
		}
		m.log.Printf("master: cron: started %q (pid %d)", j.command, p.Pid)
		go func() {
			st, _ := p.Wait()
			if !st.Success() {
				m.log.Printf("master: cron: %q (pid %d) %s", j.command, p.Pid, describeExit(st))
			}
		}()
	}
}
