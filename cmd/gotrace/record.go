package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gotrace-cli/gotrace/internal/outfile"
	"github.com/gotrace-cli/gotrace/internal/record"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

type recordOptions struct {
	IO *Streams

	Packages   []string // one, or several with --test
	Args       []string
	Output     string
	Duration   time.Duration
	CPU        bool
	AllocFree  bool
	Flight     time.Duration
	Test       bool
	URL        string
	BuildFlags string
}

func newRecordCmd(io *Streams, runF func(*recordOptions) error) *cobra.Command {
	opts := &recordOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "record [flags] [package] [-- args...]\n  gotrace record --test [flags] [packages] [-- test flags...]",
		Short: "Run a Go program with the execution tracer on and write its trace",
		Long: strings.TrimSpace(`
record builds the package as go run would (a directory such as ./cmd/server,
an import path, . by default, or the .go files of one directory) with a
small tracer file added through go build -overlay, runs it with the
arguments after --, and writes the trace to -o (default: PROGRAM.trace in
the current directory). Each file is announced when it is complete.

The program's stdin, stdout, stderr, environment and exit status are its
own, so record can wrap a program in a script. The trace is complete when
the program returns from main or calls os.Exit (log.Fatal too), and when
gotrace is interrupted: on SIGINT, SIGTERM, SIGHUP or SIGQUIT the tracer is
flushed first, then the program gets the signal. If the program crashes,
the trace keeps every complete generation and gotrace says what was lost.

  --test       records go test of the package(s) instead, one trace per
               package (PKG.test.trace); test flags go after --
  --flight D   keeps the last D in memory (Go 1.25+) and writes a numbered
               snapshot when the program ends and on each SIGUSR1 to gotrace
  --url U      captures D (--duration) from a live server's
               /debug/pprof/trace instead of running anything`),
		Example: `  gotrace record ./cmd/server -- -addr :8080
  gotrace record -o run.trace --cpu . -- input.txt
  gotrace record --duration 5s --allocfree ./cmd/worker
  gotrace record --flight 10s ./cmd/server      # kill -USR1 <gotrace pid> for a snapshot
  gotrace record --test ./internal/... -- -run TestParse -count 1
  gotrace record --url http://localhost:6060 --duration 5s -o live.trace`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.parseArgs(c.ArgsLenAtDash(), args); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRecord(opts)
		},
	}
	// N.B. Flags stop at the package, as with go run: what follows it is the
	// program's, with or without --.
	cmd.Flags().SetInterspersed(false)
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "", "write the trace to `FILE`, or into a directory (default PROGRAM.trace here; with several --test packages, the directory for their traces)")
	f.DurationVar(&opts.Duration, "duration", 0, "trace only the first `D` of the run (the program goes on untraced); with --url, how long to capture")
	f.BoolVar(&opts.CPU, "cpu", false, "profile the CPU while tracing, so the trace holds CPU samples")
	f.BoolVar(&opts.AllocFree, "allocfree", false, "trace heap allocations and frees (GODEBUG=traceallocfree=1)")
	f.DurationVar(&opts.Flight, "flight", 0, "flight recorder: keep about the last `D` and write it at exit and on SIGUSR1")
	f.BoolVar(&opts.Test, "test", false, "record go test of the package(s) instead of running a program")
	f.StringVar(&opts.URL, "url", "", "capture from a live server's /debug/pprof/trace at `URL` (needs --duration)")
	f.StringVar(&opts.BuildFlags, "build-flags", "", "flags for go build, e.g. '-race -tags x'")
	return cmd
}

// parseArgs splits the command line into the package and the program's
// arguments. N.B. Flag parsing stops at the first argument, so a "--" after
// the package arrives here as an argument.
func (o *recordOptions) parseArgs(dash int, args []string) error {
	switch {
	case dash == 0:
		o.Args = args
	case o.Test:
		// Packages up to "--", test flags after it.
		i := 0
		for i < len(args) && args[i] != "--" {
			i++
		}
		o.Packages = args[:i]
		if i < len(args) {
			o.Args = args[i+1:]
		}
	case len(args) > 0:
		// The package, or as with go run the .go files of one.
		n := 1
		for strings.HasSuffix(args[0], ".go") && n < len(args) && strings.HasSuffix(args[n], ".go") {
			n++
		}
		o.Packages = args[:n]
		o.Args = args[n:]
		if len(o.Args) > 0 && o.Args[0] == "--" {
			o.Args = o.Args[1:]
		}
	}
	if len(o.Args) == 0 {
		o.Args = nil
	}
	if o.URL != "" {
		if len(o.Packages) > 0 || len(o.Args) > 0 {
			return usagef("--url captures from a running server: no package or arguments (got %q)", append(o.Packages, o.Args...)[0])
		}
		if o.Duration <= 0 {
			return usagef("--url needs --duration, e.g. --duration 5s")
		}
		if o.Test || o.Flight > 0 || o.CPU || o.AllocFree || o.BuildFlags != "" {
			return usagef("--url cannot be combined with --test, --flight, --cpu, --allocfree or --build-flags: the server chose how it runs")
		}
	}
	if o.Duration < 0 || o.Flight < 0 {
		return usagef("--duration and --flight must be positive")
	}
	if o.Flight > 0 && o.Duration > 0 {
		return usagef("--flight and --duration do not go together: a flight recorder keeps the last D, --duration the first")
	}
	return nil
}

func runRecord(opts *recordOptions) error {
	if opts.URL != "" {
		return recordURL(opts)
	}
	buildFlags, err := record.SplitFlags(opts.BuildFlags)
	if err != nil {
		return usageError{err}
	}

	// 1. Make sure the trace can be written where it goes, and that no
	// other recording is writing it, before the build spends minutes.
	held := claims{}
	defer held.release()
	if err := checkOutput(opts, held); err != nil {
		return err
	}

	// 2. Build, cancelled by an interrupt (and by nothing else: a terminal
	// resized or a job stopped and continued is no reason to give up); a
	// failed build leaves no file.
	ctx, stopBuildSignals := signal.NotifyContext(context.Background(), record.Interrupts()...)
	defer stopBuildSignals()
	b, err := record.NewBuilder(record.BuildOptions{BuildFlags: buildFlags, Test: opts.Test, Stderr: opts.IO.ErrOut})
	if err != nil {
		return err
	}
	defer b.Close()
	bins, err := b.Build(ctx, opts.Packages...)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted while building; nothing recorded: %w", err)
	}
	if err != nil {
		return err
	}
	// N.B. Relay signals to Run before the build stops catching them, so
	// that no interrupt in between ends gotrace unannounced.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, record.Signals()...)
	defer signal.Stop(sigs)
	stopBuildSignals()

	// 3. Run each program; tests run package after package.
	outputs, err := outputNames(opts, bins)
	if err != nil {
		return err
	}
	for _, out := range outputs {
		if err := held.claim(out); err != nil {
			return err
		}
	}
	status := 0
	for i, bin := range bins {
		if bin.BuildErr != nil {
			logf(opts.IO, "%v", bin.BuildErr)
			if status == 0 {
				status = exitError
			}
			continue
		}
		if bin.Path == "" {
			logf(opts.IO, "%s: no test files, nothing to record", bin.Package.ImportPath)
			continue
		}
		args := opts.Args
		if opts.Test {
			args = record.TestBinaryArgs(args)
		}
		p := newProgressLine(opts.IO, bin.Name())
		res, err := bin.Run(record.RunOptions{
			Args:      args,
			Output:    outputs[i],
			Stdin:     opts.IO.In,
			Stdout:    opts.IO.Out,
			Stderr:    opts.IO.ErrOut,
			Duration:  opts.Duration,
			CPU:       opts.CPU,
			AllocFree: opts.AllocFree,
			Flight:    opts.Flight,
			Signals:   sigs,
			Log:       p.log,
			Written:   func(t record.Trace) { p.log(summary(t)) },
			Progress:  p.updater(),
			Relay:     p.relayer(),
		})
		p.clear()
		if res == nil {
			return err // the program did not run
		}
		// N.B. The program ran, so its status is gotrace's even when its
		// trace was cut short and nothing could be kept: a script wrapping
		// it must see it. A trace that could not be written (a full disk)
		// is gotrace's failure, and says how the program ended instead.
		var we *record.WriteError
		failed := errors.As(err, &we)
		switch {
		case failed:
			logf(opts.IO, "%v; %s", err, howEnded(bin.Name(), res))
		case err != nil:
			logf(opts.IO, "%v", err)
		case len(res.Traces) == 0:
			logf(opts.IO, "%s wrote no trace", bin.Name())
		}
		switch {
		case status != 0:
		case failed:
			status = exitError
		case res.ExitCode != 0:
			status = res.ExitCode
		case err != nil:
			status = exitError
		}
		if res.Interrupted {
			break
		}
	}
	if status != 0 {
		return silentExit(status)
	}
	return nil
}

// checkOutput finds out, before anything is built, whether the trace can
// be written where it will go, and claims -o when it names the file. The
// file's name is known before the build only then: otherwise it is named
// after the program, in the current directory or the one -o names.
func checkOutput(opts *recordOptions, held claims) error {
	dest := opts.Output
	var err error
	switch {
	case dest == "":
		err = outfile.CheckDir(".")
	case isDir(dest):
		err = outfile.CheckDir(dest)
	case opts.Test && !exists(dest):
		// The file for one package, or the directory for several.
		err = outfile.CheckDir(filepath.Dir(dest))
	default:
		if err = outfile.Check(dest); err == nil {
			return held.claim(dest)
		}
	}
	if err != nil {
		return fmt.Errorf("cannot write the trace: %w", err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// claims are the trace files this recording holds, so that a second
// recording into one of them refuses while this one runs, instead of both
// announcing the file and one of them silently losing it.
type claims map[string]*outfile.Lock

func (c claims) claim(path string) error {
	path = filepath.Clean(path)
	if c[path] != nil {
		return nil
	}
	l, err := outfile.Claim(path)
	if err != nil {
		return fmt.Errorf("cannot write the trace: %w", err)
	}
	c[path] = l
	return nil
}

func (c claims) release() {
	for _, l := range c {
		l.Unlock()
	}
}

// howEnded says how a program that ran ended, for a message whose exit
// status is not the program's.
func howEnded(name string, res *record.Result) string {
	if res.Signal != nil {
		return fmt.Sprintf("%s was ended by %v (status %d)", name, res.Signal, res.ExitCode)
	}
	return fmt.Sprintf("%s exited with status %d", name, res.ExitCode)
}

// outputNames chooses each binary's trace file. One program: -o, or
// PROGRAM.trace here or in the directory -o names. Several test packages:
// PKG.test.trace each, in the directory -o names; two packages with the
// same name get their import paths spelled out.
func outputNames(opts *recordOptions, bins []*record.Binary) ([]string, error) {
	if len(bins) == 1 {
		switch {
		case opts.Output == "":
			return []string{bins[0].Name() + ".trace"}, nil
		case isDir(opts.Output):
			return []string{filepath.Join(opts.Output, bins[0].Name()+".trace")}, nil
		}
		return []string{opts.Output}, nil
	}
	dir := opts.Output
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	count := map[string]int{}
	for _, b := range bins {
		count[b.Name()]++
	}
	names := make([]string, len(bins))
	for i, b := range bins {
		name := b.Name()
		if count[name] > 1 {
			name = strings.ReplaceAll(b.Package.ImportPath, "/", "_") + ".test"
		}
		names[i] = filepath.Join(dir, name+".trace")
	}
	return names, nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func recordURL(opts *recordOptions) error {
	ctx, stop := signal.NotifyContext(context.Background(), record.Interrupts()...)
	defer stop()
	u, err := url.Parse(opts.URL)
	if err != nil || u.Host == "" {
		return usagef("--url %q is not a URL with a host", opts.URL)
	}
	name := strings.ReplaceAll(u.Host, ":", "-") + ".trace"
	out := opts.Output
	switch {
	case out == "":
		out = name
	case isDir(out):
		out = filepath.Join(out, name)
	}
	held := claims{}
	defer held.release()
	if err := held.claim(out); err != nil {
		return err
	}
	p := newProgressLine(opts.IO, opts.URL)
	t, err := record.Capture(ctx, record.CaptureOptions{URL: opts.URL, Duration: opts.Duration, Output: out, Progress: p.updater()})
	p.clear()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; nothing written: %w", err)
		}
		return err
	}
	if t.CutShort {
		logf(opts.IO, "the response broke off: %s keeps %d of %d bytes received, the complete generations", t.Path, t.Size, t.Received)
	}
	logf(opts.IO, "%s", summary(*t))
	return nil
}

// summary is the line that ends a recording, without the "gotrace: ".
func summary(t record.Trace) string {
	s, err := record.Summarize(t.Path)
	if errors.Is(err, record.ErrNotRegular) {
		return fmt.Sprintf("wrote %s: %s", t.Path, stats.ByteCount(t.Size))
	}
	if err != nil {
		return fmt.Sprintf("wrote %s (%s) but cannot read it back: %v", t.Path, stats.ByteCount(t.Size), err)
	}
	plural := "s"
	if s.Generations == 1 {
		plural = ""
	}
	return fmt.Sprintf("wrote %s: %s, %d generation%s, %d events, %v, %s trace; next: gotrace stats %s",
		t.Path, stats.ByteCount(s.Size), s.Generations, plural, s.Events, stats.Duration(s.Duration), s.Version, shellQuote(t.Path))
}

func logf(io *Streams, format string, args ...any) {
	fmt.Fprintf(io.ErrOut, "gotrace: "+format+"\n", args...)
}

// shellQuote quotes a path for the suggested next command when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// progressLine is the live status line on a terminal's stderr; on anything
// else it prints nothing. gotrace's own messages go through it too, so they
// never land in the middle of the line: they come from the goroutine that
// receives the trace as well as the one that draws the line.
type progressLine struct {
	io    *Streams
	name  string
	mu    sync.Mutex
	shown bool
	// midLine: the program's last output did not end its line (a prompt),
	// so the line is not drawn over it.
	midLine bool
}

func newProgressLine(io *Streams, name string) *progressLine {
	return &progressLine{io: io, name: name}
}

// updater returns the function that redraws the line, or nil when stderr
// is not a terminal, so that nothing is counted for it.
func (p *progressLine) updater() func(record.Progress) {
	if !p.io.ErrTTY {
		return nil
	}
	return p.update
}

func (p *progressLine) update(pr record.Progress) {
	gens := ""
	switch {
	case pr.Generations == 1:
		gens = ", generation 1"
	case pr.Generations > 1:
		gens = fmt.Sprintf(", %d generations", pr.Generations)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.midLine {
		return
	}
	fmt.Fprintf(p.io.ErrOut, "\r\x1b[Krecording %s: %s%s, %v", p.name, stats.ByteCount(pr.Bytes), gens, pr.Elapsed.Round(100*time.Millisecond))
	p.shown = true
}

// relayer returns the function that writes the program's output to the
// terminal the line is drawn on (see record.RunOptions.Relay), or nil when
// no line is drawn.
func (p *progressLine) relayer() func(*os.File, []byte) {
	if !p.io.ErrTTY {
		return nil
	}
	return p.relay
}

// relay writes what the program wrote to its terminal, clearing the line
// first; the next update draws it again below.
func (p *progressLine) relay(term *os.File, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	term.Write(b)
	p.midLine = b[len(b)-1] != '\n'
}

// log prints one of gotrace's lines, clearing the progress line first.
func (p *progressLine) log(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	logf(p.io, "%s", s)
}

func (p *progressLine) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progressLine) clearLocked() {
	if p.shown {
		fmt.Fprint(p.io.ErrOut, "\r\x1b[K")
		p.shown = false
	}
}
