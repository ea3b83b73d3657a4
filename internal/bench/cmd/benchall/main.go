// Command benchall is gotrace's performance harness, run by `make bench`.
//
// It generates two large traces once (testdata/bench/: stress.trace from
// testdata/progs/stress, and service.trace from testdata/progs/sleepers, a
// service-like program whose generations overlap), then measures, in one
// run, every reader on the stress trace: the bare walk, the
// golang.org/x/exp/trace loop, go tool trace, gotrace's decoder and its
// commands; and on the service trace the loop and the commands that read
// the goroutine timeline (stats, pprof, export). Each measurement is its own
// subprocess, so each has its own peak RSS, and each has a timeout and a
// memory limit. It prints a table, then the ratios gotrace's targets are
// stated in, each with PASS or MISS. A command or flag that does not exist
// yet gives a "not available" row. Only a failure of the harness itself
// exits non-zero; a MISS does not.
//
//	go run ./internal/bench/cmd/benchall [-trace FILE] [-gotrace BIN]
//
// With -run-loop NAME FILE it runs one in-process loop (walk, xexp, order, decode)
// over FILE and prints its event count; the harness uses this to measure
// each loop in a process of its own.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/bench"
)

type harness struct {
	root        string // module root
	tracePath   string
	servicePath string
	size        int64
	minSize     int64 // smallest trace accepted; tests lower it
	genTime     time.Duration
	gotrace     string // gotrace binary, "" when not available
	noGotrace   string // why gotrace is not available
	timeout     time.Duration
	maxRSS      int64
	runs        int
	count       int
	skip        map[string]bool
	self        string // this binary, for -run-loop
	tmp         string
	out         io.Writer
	log         io.Writer

	// The inputs: the whole trace, the prefix with half its generations
	// (memory growth) and the prefix with its first generation (small
	// enough for go tool trace's viewer to load).
	full, half, gen1 *input
	// service is the service-like trace, nil when left out.
	service  *input
	overhead *overhead
	selfPeak int64 // the harness's peak RSS while RSS was measured
	results  map[string]*result
	order    []string
}

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

func runMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	h := &harness{out: stdout, log: stderr, results: map[string]*result{}, skip: map[string]bool{}, minSize: minTraceSize}
	runLoop := fs.String("run-loop", "", "run one in-process loop (`name`: walk, xexp, order, decode, decode-batches, decode-each, decode-parallel) over the file argument and print its event count")
	runShape := fs.Bool("run-shape", false, "print the shape of the file argument: how its generations overlap, the events golang.org/x/exp/trace moves, the goroutines")
	fs.StringVar(&h.tracePath, "trace", "", "the stress trace (default testdata/bench/stress.trace, generated when missing)")
	fs.StringVar(&h.servicePath, "service-trace", "", "the service-like trace (default testdata/bench/service.trace, generated when missing; -skip service leaves it out)")
	fs.Int64Var(&h.size, "size", 295e6, "size in `bytes` of each generated trace")
	fs.DurationVar(&h.genTime, "gen-duration", 3*time.Minute, "longest time a trace generator may trace for")
	fs.StringVar(&h.gotrace, "gotrace", "", "gotrace `binary` to measure (default: build ./cmd/gotrace)")
	fs.DurationVar(&h.timeout, "timeout", 5*time.Minute, "time limit for each subprocess")
	maxRSS := fs.Int64("max-rss", 4000, "kill a subprocess whose resident set passes this many `MB`")
	fs.IntVar(&h.runs, "runs", 7, "runs of each side of the record overhead comparison")
	fs.IntVar(&h.count, "count", 3, "runs of each other measurement; the fastest counts")
	skip := fs.String("skip", "", "comma-separated `measurements` to leave out (see the table's keys)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: benchall [flags]\n       benchall -run-loop NAME FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *runShape {
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "benchall: -run-shape wants one file argument")
			return 2
		}
		if err := doShape(fs.Arg(0), stdout); err != nil {
			fmt.Fprintf(stderr, "benchall: shape: %v\n", err)
			return 1
		}
		return 0
	}
	if *runLoop != "" {
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "benchall: -run-loop wants one file argument")
			return 2
		}
		if err := doLoop(*runLoop, fs.Arg(0), stdout); err != nil {
			fmt.Fprintf(stderr, "benchall: %s loop: %v\n", *runLoop, err)
			return 1
		}
		return 0
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "benchall: unexpected arguments:", strings.Join(fs.Args(), " "))
		return 2
	}
	if h.count < 1 || h.runs < 1 || *maxRSS < 1 || h.timeout <= 0 {
		fmt.Fprintln(stderr, "benchall: -count, -runs, -max-rss and -timeout must be positive")
		return 2
	}
	h.maxRSS = *maxRSS * 1e6
	for _, k := range strings.Split(*skip, ",") {
		if k = strings.TrimSpace(k); k != "" {
			h.skip[k] = true
		}
	}
	if err := h.runAll(); err != nil {
		fmt.Fprintln(stderr, "benchall:", err)
		return 1
	}
	return 0
}

// loopResult is what a -run-loop child prints.
type loopResult struct {
	Events int64 `json:"events"`
	Nanos  int64 `json:"ns"`
}

func doLoop(name, file string, w io.Writer) error {
	l := bench.LoopNamed(name)
	if l == nil {
		return fmt.Errorf("no loop called %q", name)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	n, err := l.Run(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return json.NewEncoder(w).Encode(loopResult{Events: n, Nanos: time.Since(start).Nanoseconds()})
}

// shape is what a -run-shape child prints.
type shape struct {
	Overlap bench.Overlap   `json:"overlap"`
	XExp    bench.XExpShape `json:"xexp"`
}

func doShape(file string, w io.Writer) error {
	var s shape
	for _, pass := range []func(io.Reader) error{
		func(r io.Reader) (err error) { s.Overlap, err = bench.MeasureOverlap(r); return err },
		func(r io.Reader) (err error) { s.XExp, err = bench.MeasureXExp(r); return err },
	} {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		err = pass(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	return json.NewEncoder(w).Encode(s)
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "benchall: "+format+"\n", args...)
}

func (h *harness) runAll() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	h.root = root
	if h.self, err = os.Executable(); err != nil {
		return err
	}
	if h.tmp, err = os.MkdirTemp("", "benchall-"); err != nil {
		return err
	}
	defer os.RemoveAll(h.tmp)
	if h.tracePath == "" {
		h.tracePath = filepath.Join(root, "testdata", "bench", "stress.trace")
	}
	if h.full, err = h.ensureTrace(h.tracePath, stressGen); err != nil {
		return err
	}
	if h.half, err = h.ensurePrefix("half", max(1, h.full.c.Generations/2)); err != nil {
		return err
	}
	if h.gen1, err = h.ensurePrefix("gen1", 1); err != nil {
		return err
	}
	if !h.skip["service"] {
		if h.servicePath == "" {
			h.servicePath = filepath.Join(root, "testdata", "bench", "service.trace")
		}
		if h.service, err = h.ensureTrace(h.servicePath, serviceGen); err != nil {
			return err
		}
	}
	h.setupGotrace()

	h.measureShapes()
	h.measureLoops()
	h.measureGoToolWire()
	h.measureGotrace(h.gotraceRows())
	h.measureParquetCopies()
	h.measureGoToolHTTP()
	h.measureService()
	// N.B. taken before the record overhead runs, which decode traces in
	// this process and report no RSS.
	h.selfPeak = selfRSS()
	h.measureRecordOverhead()

	h.report()
	return nil
}

// moduleRoot finds the directory of gotrace's go.mod from the working
// directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if strings.TrimSpace(first) == "module github.com/gotrace-cli/gotrace" {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the gotrace module: no go.mod for github.com/gotrace-cli/gotrace above the working directory")
		}
		dir = parent
	}
}

// The sizes the big trace may have: large enough that the memory targets,
// set for a 300 MB trace, are measured near that size.
const (
	minTraceSize = 150e6
	maxTraceSize = 300e6
)

// sizeFits reports whether a cached trace of n bytes will do: one made for
// another -size (within 5%) is made again.
func (h *harness) sizeFits(n int64) bool {
	near := h.size <= 0 || n >= h.size-h.size/20 && n <= h.size+h.size/20
	return near && n >= h.minSize && n <= maxTraceSize
}

// generator is a program that writes a big trace.
type generator struct {
	name string // for messages
	pkg  string // its package, from the module root
	// args are its arguments to write about size bytes to out, tracing
	// for at most d.
	args func(out string, size int64, d time.Duration) []string
}

var (
	stressGen = generator{"stress program", "./testdata/progs/stress", func(out string, size int64, d time.Duration) []string {
		return []string{"-o", out, "-size", fmt.Sprint(size), "-duration", d.String()}
	}}
	// The service-like program loads the CPUs itself while it traces, so
	// its generations overlap; with CPU samples, like the stress trace.
	serviceGen = generator{"service program", "./testdata/progs/sleepers", func(out string, size int64, d time.Duration) []string {
		return []string{"-size", fmt.Sprint(size), "-d", d.String(), "-cpu", out}
	}}
)

// ensureTrace generates a big trace at path with gen unless a readable one
// of the right size is cached, then walks it for the counts every row is
// quoted in.
func (h *harness) ensureTrace(path string, gen generator) (*input, error) {
	if st, err := os.Stat(path); err == nil {
		if c, err := walkFile(path); err == nil && h.sizeFits(st.Size()) {
			h.logf("using cached %s (%s)", h.rel(path), mb(st.Size()))
			return &input{path: path, c: c}, nil
		}
		h.logf("regenerating %s: cached file is not a readable trace of about %s", h.rel(path), mb(h.size))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	prog := filepath.Join(h.tmp, filepath.Base(gen.pkg))
	h.logf("building %s", strings.TrimPrefix(gen.pkg, "./"))
	if o := h.run(proc{args: []string{goCmd(), "build", "-o", prog, gen.pkg}, dir: h.root}); o.err != nil {
		return nil, fmt.Errorf("building the %s: %v", gen.name, o.err)
	}
	tmp := path + ".tmp"
	defer os.Remove(tmp)
	h.logf("generating %s (%s, at most %v)", h.rel(path), mb(h.size), h.genTime)
	o := h.run(proc{args: append([]string{prog}, gen.args(tmp, h.size, h.genTime)...), dir: h.tmp})
	if o.err != nil {
		return nil, fmt.Errorf("%s: %v", gen.name, o.err)
	}
	st, err := os.Stat(tmp)
	if err != nil {
		return nil, err
	}
	if st.Size() < h.minSize || st.Size() > maxTraceSize {
		return nil, fmt.Errorf("%s wrote %s in %v, want 150–300 MB; adjust -size or -gen-duration", gen.name, mb(st.Size()), o.dur.Round(time.Millisecond))
	}
	c, err := walkFile(tmp)
	if err != nil {
		return nil, fmt.Errorf("generated trace: %v", err)
	}
	// The reference parser must read what the program wrote, or no
	// comparison means anything. N.B. it runs in a subprocess: a child's
	// peak RSS as rusage reports it includes the parent's pages up to exec,
	// so the harness itself must stay small.
	if o := h.run(proc{args: []string{h.self, "-run-loop", "xexp", tmp}}); o.err != nil {
		return nil, fmt.Errorf("golang.org/x/exp/trace cannot read the generated trace: %v", o.err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	h.logf("generated %s in %v", mb(st.Size()), o.dur.Round(time.Millisecond))
	return &input{path: path, c: c}, nil
}

// input is a trace file the harness measures with what the walk counted.
type input struct {
	path    string
	c       bench.Counts
	shape   *shape // nil until measured
	noShape string // why shape is nil
}

// ensurePrefix writes (unless cached) the prefix of the trace holding its
// first gens generations, next to it with the suffix name.
func (h *harness) ensurePrefix(name string, gens int) (*input, error) {
	path := strings.TrimSuffix(h.tracePath, ".trace") + "-" + name + ".trace"
	if c, err := walkFile(path); err == nil && c.Generations == gens && newer(path, h.tracePath) {
		return &input{path: path, c: c}, nil
	}
	in, err := os.Open(h.tracePath)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	if _, err := bench.WritePrefix(bw, in, gens); err != nil {
		out.Close()
		return nil, fmt.Errorf("writing %s: %v", h.rel(path), err)
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	c, err := walkFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", h.rel(path), err)
	}
	return &input{path: path, c: c}, nil
}

func walkFile(path string) (bench.Counts, error) {
	f, err := os.Open(path)
	if err != nil {
		return bench.Counts{}, err
	}
	defer f.Close()
	return bench.Walk(f)
}

// newer reports whether a was modified after b.
func newer(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && sa.ModTime().After(sb.ModTime())
}

func (h *harness) rel(path string) string {
	if r, err := filepath.Rel(h.root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// goCmd is the go command the harness runs: the one in GOROOT when there is
// one, so the tool versions match the runtime the harness was built with.
func goCmd() string {
	p := filepath.Join(goroot(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}
