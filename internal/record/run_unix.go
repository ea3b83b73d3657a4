//go:build unix

package record

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/gotrace-cli/gotrace/internal/outfile"
)

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

// Interrupts are the signals that end a recording: while a program runs,
// the tracer is flushed before they are passed on to it; while it builds,
// or while --url captures, they cancel.
func Interrupts() []os.Signal { return append([]os.Signal(nil), interrupts...) }

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

// handOver is the file the program writes its trace into; tests hand it
// one that fails.
var handOver = func(f *outputFile) *os.File { return f.Handle() }

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
	if opts.Flight > 0 && outfile.Special(opts.Output) {
		return nil, fmt.Errorf("--flight names its snapshots after -o, and %s is not a regular file", opts.Output)
	}
	// Streaming into one regular file, the program writes the file
	// itself, as runtime/trace.Start(file) in its main would: the trace
	// costs it no more than tracing by hand. Snapshots (one file each) and
	// devices or pipes (no size, nothing to cut back) come through the
	// data pipe. N.B. Either way, find out now, not after the program ran,
	// that the trace cannot be written where it should go.
	var direct *outputFile
	if opts.Flight == 0 && !outfile.Special(opts.Output) {
		f, err := createOutput(opts.Output)
		if err != nil {
			return nil, fmt.Errorf("cannot write the trace: %w", err)
		}
		direct = f
		defer func() {
			if direct != nil {
				direct.Abort() // the program did not start
			}
		}()
	} else if err := outfile.Check(opts.Output); err != nil {
		return nil, fmt.Errorf("cannot write the trace: %w", err)
	}
	dataR, dataW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	growPipe(dataW)
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
	relay := newPTYRelay(opts.Relay, opts.Stdout, opts.Stderr)
	cmd.Stdin = opts.Stdin
	cmd.Stdout, cmd.Stderr = relay.streams(opts.Stdout, opts.Stderr)
	cmd.Env = childEnv(opts, direct != nil)
	cmd.ExtraFiles = []*os.File{dataW, ctlR}
	if direct != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, handOver(direct))
	}
	cmd.SysProcAttr = childProcAttr()
	start := time.Now()
	err = cmd.Start()
	dataW.Close()
	ctlR.Close()
	relay.start()
	if err != nil {
		relay.wait(0)
		return nil, fmt.Errorf("starting %s: %w", b.Name(), err)
	}

	rc := newReceiver(dataR, opts.Output, opts.Flight > 0, log, opts.Progress != nil)
	rc.written = opts.Written
	if direct != nil {
		rc.adopt(direct)
		direct = nil // the receiver's now
	}
	go rc.run()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	handed := make(chan struct{}, 1)
	tty := foregroundTerminal(opts.Stdin)
	if tty != nil {
		go tty.watch(cmd.Process.Pid, func() { handed <- struct{}{} })
		defer tty.restore()
	}

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
		if isInterrupt(sig) {
			// A program stopped by the terminal (it read it from its
			// background group) would otherwise keep the signal pending
			// forever.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT)
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
				syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT) // a stopped program cannot flush
				flushing = time.After(flushTimeout)
			case isInterrupt(sig):
				res.Interrupted = true
				deliver(sig) // already flushed, or asked twice: do not wait
			case sig == snapshotSignal && opts.Flight > 0:
				ctlW.Write([]byte{ctlSnapshot})
			case sig == syscall.SIGWINCH:
				relay.resize() // before the program asks its size
				deliver(sig)
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
		case <-handed:
			log("the program reads the terminal, so it is the foreground job now: Ctrl-C goes to it directly")
		case <-tick:
			if tty != nil && tty.isHanded() {
				continue // the terminal is the program's
			}
			p := Progress{Elapsed: time.Since(start)}
			p.Bytes, p.Generations = rc.progress()
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

	relay.wait(graceAfterExit)

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
