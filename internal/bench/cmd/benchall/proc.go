package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// proc is one subprocess to measure.
type proc struct {
	args   []string
	dir    string
	env    []string  // added to the harness's environment
	stdout io.Writer // nil: /dev/null
	// ready, when set, is called with the running command and a reader of
	// its stderr lines; it returns when the thing being measured is done
	// (the process keeps running) and the harness then kills the process.
	ready func(ctx context.Context, lines <-chan string) error
	// after, when set, is called after each run, e.g. to remove what the
	// process wrote.
	after func()
}

// outcome is what running a proc gave.
type outcome struct {
	dur    time.Duration
	rss    int64         // peak resident set in bytes, 0 when not known
	cpu    time.Duration // user and system CPU time, 0 when not known
	stderr string        // its tail
	err    error
}

// errMemory is the error of a process killed for exceeding -max-rss.
var errMemory = errors.New("memory limit")

// run starts p and waits for it (or for ready) with the harness's timeout
// and memory limit. The duration is wall time from start to exit, or to
// ready's return.
func (h *harness) run(p proc) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), p.env...)
	cmd.SysProcAttr = newProcAttr()
	// A grandchild that keeps stderr open must not hold Wait for ever.
	cmd.WaitDelay = 10 * time.Second
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return outcome{err: err}
	}
	defer devnull.Close()
	cmd.Stdout = devnull
	if p.stdout != nil {
		cmd.Stdout = p.stdout
	}
	tail := &tailBuffer{max: 8 << 10}
	var lines chan string
	var pw *io.PipeWriter
	if p.ready != nil {
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		cmd.Stderr = io.MultiWriter(tail, pw)
		lines = make(chan string, 64)
		go splitLines(pr, lines)
	} else {
		cmd.Stderr = tail
	}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return outcome{err: err}
	}
	var (
		mu      sync.Mutex
		killed  error
		readyAt time.Duration
		readyCh = make(chan error, 1)
	)
	kill := func(why error) {
		mu.Lock()
		if killed == nil {
			killed = why
		}
		mu.Unlock()
		killGroup(cmd)
	}
	exited := make(chan struct{})
	go h.watchMemory(cmd.Process.Pid, exited, kill)
	readyCtx, readyCancel := context.WithCancel(ctx)
	defer readyCancel()
	if p.ready != nil {
		go func() {
			err := p.ready(readyCtx, lines)
			mu.Lock()
			readyAt = time.Since(start)
			mu.Unlock()
			readyCh <- err
			killGroup(cmd)
		}()
	}
	go func() {
		select {
		case <-ctx.Done():
			kill(fmt.Errorf("timed out after %v", h.timeout))
		case <-exited:
		}
	}()
	waitErr := cmd.Wait()
	dur := time.Since(start)
	close(exited)
	readyCancel()
	if pw != nil {
		pw.Close()
	}
	o := outcome{dur: dur, rss: maxRSS(cmd.ProcessState), cpu: cpuTime(cmd.ProcessState), stderr: tail.String()}
	// With ready, the process was killed on purpose once ready returned:
	// what counts is ready's error and time, not the exit.
	failure := waitErr
	if p.ready != nil {
		failure = <-readyCh // N.B. before taking mu, which the sender holds briefly
	}
	mu.Lock()
	defer mu.Unlock()
	if p.ready != nil {
		o.dur = readyAt
	}
	switch {
	case killed != nil:
		o.err = killed
	case failure != nil:
		o.err = fmt.Errorf("%v%s", failure, lastLine(o.stderr))
	}
	return o
}

// watchMemory polls the process's resident set (Linux) and kills it past
// the limit, so a reference tool cannot take the machine down.
func (h *harness) watchMemory(pid int, exited <-chan struct{}, kill func(error)) {
	if runtime.GOOS != "linux" || h.maxRSS <= 0 {
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-exited:
			return
		case <-t.C:
		}
		if rss := procRSS(pid); rss > h.maxRSS {
			kill(fmt.Errorf("killed at %s RSS (%w -max-rss %s)", mb(rss), errMemory, mb(h.maxRSS)))
			return
		}
	}
}

// procRSS reads VmRSS of a process group leader and its children from
// /proc; it returns 0 when it cannot.
func procRSS(pid int) int64 {
	total := statusRSS(pid)
	if kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)); err == nil {
		for _, f := range strings.Fields(string(kids)) {
			if k, err := strconv.Atoi(f); err == nil {
				total += procRSS(k)
			}
		}
	}
	return total
}

func statusRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// cpuTime is the user and system CPU time of an exited process and the
// descendants it waited for.
func cpuTime(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

func splitLines(r io.Reader, out chan<- string) {
	defer close(out)
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		n, err := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				break
			}
			select {
			case out <- string(buf[:i]):
			default: // nobody listens any more; keep draining
			}
			buf = buf[i+1:]
		}
		if len(buf) > 64<<10 {
			buf = buf[:0]
		}
		if err != nil {
			return
		}
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// lastLine formats the last non-empty line of a process's stderr for an
// error message.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if l == "" {
		return ""
	}
	if len(l) > 160 {
		l = l[:160] + "…"
	}
	return ": " + l
}
