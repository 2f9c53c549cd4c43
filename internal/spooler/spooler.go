// Package spooler is uWSGI's spooler: jobs are files in a directory, written by any worker
// (uwsgi.spool) and run one at a time by the spooler process, which calls the app's
// uwsgi.spooler hook with the job's variables. Files make jobs survive restarts: a job
// stays until the hook answers SPOOL_OK.
//
// A job file is what uWSGI writes: a uwsgi packet (modifier1 17) holding the job's
// variables as a vars block, followed by the job's body if it has one. A job may wait in a
// numbered subdirectory (its priority: lower numbers first) and carry an "at" time before
// which it does not run.
package spooler

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"uwsgo/internal/proto"
)

// What the spooler hook returns, as in uWSGI.
const (
	OK     = -2 // done: the file is removed
	Retry  = -1 // run it again at the next scan
	Ignore = 0  // leave it (another language's spooler may want it)
)

// modifierSpool is the packet's modifier1 in a job file.
const modifierSpool = 17

var counter atomic.Int64

// Write stores a job in dir and returns its file name. Keys "priority" and "at" are
// honoured; "body" is stored after the variables, as uWSGI does.
func Write(dir string, vars [][2][]byte) (string, error) {
	var block, body []byte
	sub := ""
	for _, kv := range vars {
		switch string(kv[0]) {
		case "body":
			body = kv[1]
			continue
		case "priority":
			if _, err := strconv.Atoi(string(kv[1])); err != nil {
				return "", fmt.Errorf("spool: priority %q is not a number", kv[1])
			}
			sub = string(kv[1])
		case "at":
			if _, err := strconv.ParseFloat(string(kv[1]), 64); err != nil {
				return "", fmt.Errorf("spool: at %q is not a unix time", kv[1])
			}
		}
		var err error
		if block, err = proto.AppendVarChecked(block, string(kv[0]), kv[1]); err != nil {
			return "", fmt.Errorf("spool: %s: %w", kv[0], err)
		}
	}
	if len(block) > proto.MaxVarLen {
		return "", errors.New("spool: the job's variables are larger than 64 KiB")
	}
	target := dir
	if sub != "" {
		target = filepath.Join(dir, sub)
		if err := os.MkdirAll(target, 0o755); err != nil {
			return "", err
		}
	}
	host, _ := os.Hostname()
	name := fmt.Sprintf("uwsgi_spoolfile_on_%s_%d_%d_%d", host, os.Getpid(), counter.Add(1), time.Now().UnixNano())
	data := proto.AppendPacketHeader(nil, proto.PacketHeader{Modifier1: modifierSpool, Size: uint16(len(block))})
	data = append(append(data, block...), body...)
	// Written aside and renamed in, so the spooler never reads half a job.
	tmp := filepath.Join(dir, "."+name)
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", err
	}
	path := filepath.Join(target, name)
	return path, os.Rename(tmp, path)
}

// Job is a job read back.
type Job struct {
	Path string
	Vars [][2][]byte
	Body []byte
	At   int64
}

// Read parses a job file.
func Read(path string) (*Job, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 4 || data[0] != modifierSpool {
		return nil, fmt.Errorf("%s is not a spool file", path)
	}
	size := int(binary.LittleEndian.Uint16(data[1:3]))
	if 4+size > len(data) {
		return nil, fmt.Errorf("%s is truncated", path)
	}
	j := &Job{Path: path, Body: data[4+size:]}
	err = proto.EachVar(data[4:4+size], func(k, v []byte) bool {
		j.Vars = append(j.Vars, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
		if string(k) == "at" {
			f, _ := strconv.ParseFloat(string(v), 64)
			j.At = int64(f)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return j, nil
}

// Scan lists the jobs due now: priority subdirectories first (lowest number first), then
// the directory itself, each in file-name order (the order they were written).
func Scan(dir string, now time.Time) []string {
	var due []string
	entries, _ := os.ReadDir(dir)
	var subs []int
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			if n, err := strconv.Atoi(name); err == nil {
				subs = append(subs, n)
			}
			continue
		}
		if len(name) > 0 && name[0] != '.' {
			files = append(files, filepath.Join(dir, name))
		}
	}
	sort.Ints(subs)
	for _, n := range subs {
		sub, _ := os.ReadDir(filepath.Join(dir, strconv.Itoa(n)))
		for _, e := range sub {
			if !e.IsDir() && e.Name()[0] != '.' {
				due = append(due, filepath.Join(dir, strconv.Itoa(n), e.Name()))
			}
		}
	}
	sort.Strings(files)
	due = append(due, files...)
	out := due[:0]
	for _, p := range due {
		if j, err := Read(p); err == nil && j.At <= now.Unix() {
			out = append(out, p)
		}
	}
	return out
}
