package record

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// RunOptions say how to run a built program and where its trace goes.
type RunOptions struct {
	// Args are the program's arguments.
	Args []string
	// Output is the trace file. Flight recorder snapshots are numbered
	// after it: prog.trace gives prog.1.trace, prog.2.trace, ...
	Output string
	// Env is the program's environment; nil means os.Environ().
	Env []string
	// Stdin, Stdout and Stderr are the program's own streams.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Duration traces only the first Duration of the run; 0 traces it all.
	Duration time.Duration
	// CPU turns CPU profiling on while tracing, so the trace holds CPU
	// samples.
	CPU bool
	// AllocFree adds traceallocfree=1 to the program's GODEBUG.
	AllocFree bool
	// Flight keeps about the last Flight of the trace in memory and writes
	// it when the program ends and on each snapshot signal.
	Flight time.Duration

	// Signals are the signals gotrace received. SIGINT, SIGTERM, SIGHUP
	// and SIGQUIT stop and flush the tracer, then reach the program;
	// SIGUSR1 in flight mode writes a snapshot; any other signal is passed
	// on at once.
	Signals <-chan os.Signal
	// Log receives gotrace's own messages, one line each, without the
	// "gotrace: " prefix. nil discards them.
	Log func(string)
	// Progress, when set, is called about every ProgressEvery while the
	// program runs.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// FlushTimeout bounds the wait for the tracer to flush on an interrupt
	// before the signal is passed on anyway; 0 means 10s.
	FlushTimeout time.Duration
}

// Progress is the state of a recording in progress.
type Progress struct {
	Bytes       int64
	Generations int
	Elapsed     time.Duration
}

// Result is how a recording went.
type Result struct {
	// Traces are the files written, in order.
	Traces []Trace
	// ExitCode is the program's exit status, 128+N when signal N ended it,
	// as a shell reports it.
	ExitCode int
	// Signal is the signal that ended the program, nil if it exited.
	Signal os.Signal
	// Interrupted is set when gotrace passed an interrupt on to it.
	Interrupted bool
}

// interrupts are the signals that end a program: the tracer is flushed
// before they are passed on.
var interrupts = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// snapshotSignal asks for a flight recorder snapshot.
const snapshotSignal = syscall.SIGUSR1

// Signals are the signals a caller should relay to Run through
// RunOptions.Signals. SIGTSTP (Ctrl-Z) stops the program's process group,
// then gotrace; SIGCONT continues the program when gotrace is continued.
func Signals() []os.Signal {
	return append(append([]os.Signal(nil), interrupts...),
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGTSTP, syscall.SIGCONT)
}

func isInterrupt(s os.Signal) bool {
	for _, i := range interrupts {
		if s == i {
			return true
		}
	}
	return false
}

// graceAfterExit bounds how long the trace may keep flowing after the
// program exited: only a descendant that kept the pipe open delays the end.
const graceAfterExit = 5 * time.Second

// Run runs the program and writes its trace. The error is about gotrace's
// side only (the program could not start, a trace could not be written);
// the program's own failure is in Result.ExitCode.
func (b *Binary) Run(opts RunOptions) (*Result, error) {
	if b.Path == "" {
		return nil, fmt.Errorf("%s has no test files", b.Package.ImportPath)
	}
	if opts.Flight > 0 && !b.flight {
		return nil, fmt.Errorf("--flight needs Go 1.25 or later; %s builds with %s", b.Package.ImportPath, b.GoVersion)
	}
	log := opts.Log
	if log == nil {
		log = func(string) {}
	}
	// N.B. Find out now, not after the program ran, that the trace
	// cannot be written where it should go.
	probe, err := createOutput(opts.Output)
	if err != nil {
		return nil, fmt.Errorf("cannot write the trace: %w", err)
	}
	probe.abort()
	dataR, dataW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		dataR.Close()
		dataW.Close()
		return nil, err
	}
	defer dataR.Close()
	defer ctlW.Close()

	cmd := exec.Command(b.Path, opts.Args...)
	if b.Test {
		cmd.Dir = b.Package.Dir // as go test runs it
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	cmd.Env = childEnv(opts)
	cmd.ExtraFiles = []*os.File{dataW, ctlR}
	cmd.SysProcAttr = childProcAttr()
	start := time.Now()
	err = cmd.Start()
	dataW.Close()
	ctlR.Close()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", b.Name(), err)
	}

	rc := newReceiver(dataR, opts.Output, opts.Flight > 0, log, opts.Progress != nil)
	go rc.run()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var tick <-chan time.Time
	if opts.Progress != nil {
		every := opts.ProgressEvery
		if every <= 0 {
			every = 250 * time.Millisecond
		}
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	flushTimeout := opts.FlushTimeout
	if flushTimeout <= 0 {
		flushTimeout = 10 * time.Second
	}

	res := &Result{}
	var (
		pending  os.Signal    // an interrupt waiting for the flush
		stopped  = rc.stopped // nil once the tracer is known to be stopped
		flushing <-chan time.Time
		waitErr  error
	)
	deliver := func(sig os.Signal) {
		// N.B. The program runs in its own process group (so a terminal's
		// Ctrl-C reaches gotrace alone and the flush can come first); the
		// signal goes to the whole group, as the terminal would have sent it.
		if s, ok := sig.(syscall.Signal); ok {
			if err := syscall.Kill(-cmd.Process.Pid, s); err != nil {
				cmd.Process.Signal(sig)
			}
		}
	}
loop:
	for {
		select {
		case sig := <-opts.Signals:
			switch {
			case isInterrupt(sig) && pending == nil && stopped != nil:
				res.Interrupted = true
				pending = sig
				ctlW.Write([]byte{ctlStop})
				flushing = time.After(flushTimeout)
			case isInterrupt(sig):
				res.Interrupted = true
				deliver(sig) // already flushed, or asked twice: do not wait
			case sig == snapshotSignal && opts.Flight > 0:
				ctlW.Write([]byte{ctlSnapshot})
			case sig == syscall.SIGTSTP:
				// Job control: the program is in its own group, so the
				// terminal's Ctrl-Z reached gotrace alone.
				deliver(sig)
				syscall.Kill(os.Getpid(), syscall.SIGSTOP)
			default:
				deliver(sig)
			}
		case <-stopped:
			stopped = nil
			if pending != nil {
				deliver(pending)
				pending, flushing = nil, nil
			}
		case <-flushing:
			log(fmt.Sprintf("the tracer did not flush within %v; passing %v on", flushTimeout, pending))
			deliver(pending)
			pending, flushing = nil, nil
		case <-tick:
			p := Progress{Bytes: rc.bytes.Load(), Elapsed: time.Since(start)}
			if rc.gens != nil {
				p.Generations = rc.gens.count()
			}
			opts.Progress(p)
		case waitErr = <-waited:
			break loop
		}
	}
	select {
	case <-rc.done:
	case <-time.After(graceAfterExit):
		log(fmt.Sprintf("the trace stream stayed open %v after the program exited; closing it", graceAfterExit))
		dataR.Close()
		<-rc.done
	}

	res.Traces = rc.traces
	if err := exitStatus(waitErr, res); err != nil {
		return res, err
	}
	return res, rc.err
}

// exitStatus fills in how the program ended.
func exitStatus(err error, res *Result) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	res.ExitCode = ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = ws.Signal()
		res.ExitCode = 128 + int(ws.Signal())
	}
	return nil
}

// childEnv is the program's environment: its own, plus the shim's settings
// and, for --allocfree, the GODEBUG setting.
func childEnv(opts RunOptions) []string {
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env)+2)
	godebug := ""
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, envVar+"="):
			continue
		case opts.AllocFree && strings.HasPrefix(kv, "GODEBUG="):
			godebug = strings.TrimPrefix(kv, "GODEBUG=")
			continue
		}
		out = append(out, kv)
	}
	if opts.AllocFree {
		if godebug != "" {
			godebug += ","
		}
		out = append(out, "GODEBUG="+godebug+"traceallocfree=1")
	}
	s := shimSettings{CPU: opts.CPU, Duration: int64(opts.Duration), Flight: int64(opts.Flight)}
	return append(out, s.env())
}
