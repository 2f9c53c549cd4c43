package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The bare Go server answers the same bytes as the apps in apps/, doing the same work in
// Go: it is the practical upper bound of a server on this machine. The harness also
// checks every server's answer against these bodies before it measures it.

const helloBody = "Hello, World!\n"

const sleepBody = "slept 10 ms\n"

// midBody is what apps/mid.py builds: a table of 100 rows and the json.dumps (default
// separators) of a 50-entry dict, whose order Python keeps as inserted.
func midBody() string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>mid</title></head><body>\n<table>\n")
	for i := range 100 {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "<tr><td>%d</td><td>item-%d</td><td>%d</td><td>%.2f</td></tr>", i, i, i*i, float64(i)/7.0)
	}
	b.WriteString("\n</table>\n<script type=\"application/json\">{")
	for i := range 50 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"key%02d": {"id": %d, "name": "name-%d", "ok": %t}`, i, i, i, i%2 == 0)
	}
	b.WriteString("}</script>\n</body></html>\n")
	return b.String()
}

// expectedBody is the body of the answer to the request wrk sends for a: built here, or
// read from apps/expected/ under benchDir for the framework apps.
func expectedBody(benchDir string, a app) (string, error) {
	if a.Expected != "" {
		b, err := os.ReadFile(filepath.Join(benchDir, "apps", "expected", a.Expected))
		return string(b), err
	}
	switch a.Name {
	case "hello", "gen", "write", "asgi-hello":
		return helloBody, nil
	case "mid":
		return midBody(), nil
	case "big":
		return bigBody(), nil
	case "post":
		return strconv.Itoa(a.BodyBytes) + "\n", nil
	case "sleep", "asgi-sleep":
		return sleepBody, nil
	}
	return "", fmt.Errorf("no expected answer for the app %q", a.Name)
}

// bigBody is what apps/big.py builds: 16,384 lines, each its number in 63 digits.
func bigBody() string {
	var b strings.Builder
	for i := range 16384 {
		fmt.Fprintf(&b, "%063d\n", i)
	}
	return b.String()
}

func serveBare(addr, appName string, threads int) error {
	var sem chan struct{}
	if threads > 0 {
		sem = make(chan struct{}, threads)
	}
	text := func(w http.ResponseWriter, ctype, body string) {
		h := w.Header()
		h["Content-Type"] = []string{ctype}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		io.WriteString(w, body)
	}
	if !slices.Contains(appNames(), appName) {
		return fmt.Errorf("-bare-app %q: unknown (known: %s)", appName, strings.Join(appNames(), ", "))
	}
	a := appByName(appName)
	var handler http.HandlerFunc
	switch a.Name {
	case "post":
		handler = func(w http.ResponseWriter, r *http.Request) {
			n, _ := io.Copy(io.Discard, r.Body)
			text(w, a.Type, strconv.FormatInt(n, 10)+"\n")
		}
	case "sleep":
		handler = func(w http.ResponseWriter, r *http.Request) {
			if sem != nil {
				sem <- struct{}{}
				defer func() { <-sem }()
			}
			time.Sleep(10 * time.Millisecond)
			text(w, a.Type, sleepBody)
		}
	default:
		root, err := findRoot()
		if err != nil {
			return err
		}
		body, err := expectedBody(filepath.Join(root, "bench"), a)
		if err != nil {
			return err
		}
		handler = func(w http.ResponseWriter, r *http.Request) { text(w, a.Type, body) }
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	return srv.Serve(ln)
}
