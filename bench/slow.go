package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Slow clients: `bench -slow-clients ADDR` opens n connections and keeps them open, half
// trickling an endless request head (one byte every trickleEvery), half a request body
// announced as 1 MiB, reconnecting when the server closes one. It prints "ready" once
// every client has made its first attempt, and stops when its stdin closes or after
// -slow-for, whichever comes first.

const trickleEvery = 200 * time.Millisecond

func runSlowClients(addr string, n int, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	go func() { // the harness closes stdin to stop us
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	var open, attempted, reconnects atomic.Int64
	var first sync.WaitGroup
	first.Add(n)
	for i := range n {
		go slowClient(ctx, addr, i%2 == 1, &open, &reconnects, func() { attempted.Add(1); first.Done() })
	}
	waited := make(chan struct{})
	go func() { first.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
	}
	time.Sleep(trickleEvery) // let every client send a byte or two
	fmt.Printf("ready open=%d attempted=%d\n", open.Load(), attempted.Load())
	<-ctx.Done()
	fmt.Printf("done open=%d reconnects=%d\n", open.Load(), reconnects.Load())
	return nil
}

func slowClient(ctx context.Context, addr string, body bool, open, reconnects *atomic.Int64, attempted func()) {
	once := sync.OnceFunc(attempted)
	defer once()
	head := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: bench-slow-client\r\n"
	if body {
		head = "POST / HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n"
	}
	for k := 0; ctx.Err() == nil; k++ {
		if k > 0 {
			reconnects.Add(1)
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		d := net.Dialer{Timeout: 3 * time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			once()
			continue
		}
		open.Add(1)
		trickle(ctx, c, head, body, once)
		open.Add(-1)
		c.Close()
		once()
	}
}

// trickle sends head (then calls started), then one byte every trickleEvery: a header line byte by byte, or
// the body, until ctx ends or the server gives up on the connection.
func trickle(ctx context.Context, c net.Conn, head string, body bool, started func()) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		return
	}
	started()
	go func() { // a server that answers or closes ends the connection
		io.Copy(io.Discard, c)
		c.Close()
	}()
	tick := time.NewTicker(trickleEvery)
	defer tick.Stop()
	line := "X-Trickle: 0123456789abcdef\r\n"
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		b := []byte{'x'}
		if !body {
			b[0] = line[i%len(line)]
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(b); err != nil {
			return
		}
	}
}

// slowClients is a running `bench -slow-clients` child.
type slowClients struct {
	p     *proc
	stdin io.WriteCloser
	Ready string
}

func (h *harness) startSlowClients(ctx context.Context, port int, limit time.Duration) (*slowClients, error) {
	argv := []string{h.self, "-slow-clients", addr(port), "-slow-n", strconv.Itoa(h.cfg.SlowClients), "-slow-for", limit.String()}
	if h.loadList != "" {
		argv = append([]string{"/usr/bin/taskset", "-c", h.loadList}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{name: "slow-clients", cmd: cmd, logPath: os.DevNull, done: make(chan struct{}), started: time.Now()}
	procs.Lock()
	if err := cmd.Start(); err != nil {
		procs.Unlock()
		return nil, err
	}
	p.pid = cmd.Process.Pid
	procs.m[p.pid] = p
	procs.Unlock()
	s := &slowClients{p: p, stdin: stdin}
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	select {
	case l, ok := <-lines:
		if !ok {
			s.stop()
			return nil, fmt.Errorf("slow clients exited before they were ready")
		}
		s.Ready = l
	case <-time.After(15 * time.Second):
		s.stop()
		return nil, fmt.Errorf("slow clients not ready after 15s")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	go func() {
		for range lines {
		}
	}()
	return s, nil
}

func (s *slowClients) stop() {
	s.stdin.Close()
	s.p.stop(3 * time.Second)
}
