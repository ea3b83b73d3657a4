package record

import (
	"io"
	"os"
	"strings"
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
	// Written, when set, is called with each trace file as soon as it is
	// complete (before Run returns, for flight recorder snapshots while
	// the program still runs), from another goroutine than Run's.
	Written func(Trace)
	// Relay, when set, is how the program's output reaches a terminal
	// that a live status line is drawn on too. Where the program's stdout
	// or stderr is a terminal, it writes into a pseudo-terminal instead
	// (it still sees a terminal, of the same size), and each chunk it
	// writes there is handed to Relay with the real terminal, to write
	// between redraws of the line. On Linux; elsewhere, and without a
	// pseudo-terminal, the program writes to the terminal itself.
	Relay func(term *os.File, p []byte)
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

// childEnv is the program's environment: its own, plus the shim's settings
// and, for --allocfree, the GODEBUG setting. file says the trace file is
// handed to the program to write directly.
func childEnv(opts RunOptions, file bool) []string {
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
	s := shimSettings{File: file, CPU: opts.CPU, Duration: int64(opts.Duration), Flight: int64(opts.Flight)}
	return append(out, s.env())
}
