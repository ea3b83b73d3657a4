//go:build unix

package record

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	httppprof "net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	xtrace "golang.org/x/exp/trace"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// The programs are built once per test run, into builders TestMain removes.
var (
	buildMu  sync.Mutex
	builders []*Builder
	binaries = map[string]*Binary{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range builders {
		b.Close()
	}
	os.Exit(code)
}

// repoRoot is where the go command runs, so testdata/progs are packages of
// the module.
const repoRoot = "../.."

// built returns testdata/progs/NAME built with the shim, building it on
// first use.
func built(t *testing.T, name string, test bool, env ...string) *Binary {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := name + " " + strconv.FormatBool(test) + " " + strings.Join(env, " ")
	if b, ok := binaries[key]; ok {
		return b
	}
	var stderr bytes.Buffer
	opts := BuildOptions{Dir: repoRoot, Test: test, Stderr: &stderr}
	if len(env) > 0 {
		opts.Env = append(os.Environ(), env...)
	}
	bld, err := NewBuilder(opts)
	if err != nil {
		t.Fatal(err)
	}
	builders = append(builders, bld)
	bins, err := bld.Build(context.Background(), "./testdata/progs/"+name)
	if err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, stderr.Bytes())
	}
	if len(bins) != 1 {
		t.Fatalf("building %s: got %d binaries, want 1", name, len(bins))
	}
	binaries[key] = bins[0]
	return bins[0]
}

// facts are what the tests check in a trace.
type facts struct {
	Generations int
	GoCreate    int64
	CPUSamples  int
	Types       int
	Duration    time.Duration
}

// checkTrace reads a trace with golang.org/x/exp/trace, which must reach
// io.EOF without an error, and with the decoder, which must too; it
// returns what the decoder counted.
func checkTrace(t *testing.T, path string) facts {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := readAllExp(data); err != nil {
		t.Fatalf("%s: golang.org/x/exp/trace: %v", path, err)
	}
	rd, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: decode: %v", path, err)
	}
	rd.SetDetail(decode.Counts)
	var f facts
	for {
		g, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: decode: %v", path, err)
		}
		f.Generations++
		f.GoCreate += g.Counts[format.EvGoCreate].Events + g.Counts[format.EvGoCreateBlocked].Events
		f.CPUSamples += len(g.CPUSamples)
		f.Types += len(g.Types)
		f.Duration += g.Duration()
	}
	if f.Generations == 0 {
		t.Fatalf("%s: no generations", path)
	}
	return f
}

func readAllExp(data []byte) error {
	r, err := xtrace.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	for {
		_, err := r.ReadEvent()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// logTo collects gotrace's messages.
type logTo struct {
	mu    sync.Mutex
	lines []string
}

func (l *logTo) log(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

func (l *logTo) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// record runs a program to the end with opts filled in for a test.
func record(t *testing.T, bin *Binary, opts RunOptions) (*Result, string, *logTo) {
	t.Helper()
	if opts.Output == "" {
		opts.Output = filepath.Join(t.TempDir(), "prog.trace")
	}
	var out bytes.Buffer
	logs := &logTo{}
	opts.Stdout, opts.Stderr, opts.Log = &out, &out, logs.log
	res, err := bin.Run(opts)
	if err != nil {
		t.Fatalf("Run: %v\nprogram output:\n%s\nlog:\n%s", err, out.Bytes(), logs)
	}
	return res, out.String(), logs
}

func oneTrace(t *testing.T, res *Result) Trace {
	t.Helper()
	if len(res.Traces) != 1 {
		t.Fatalf("got %d traces, want 1: %+v", len(res.Traces), res.Traces)
	}
	return res.Traces[0]
}

// TestExitPaths records a program that ends each way a program can end by
// itself and checks the trace is complete, the status is the program's,
// and the trace holds its 100 goroutines.
func TestExitPaths(t *testing.T) {
	bin := built(t, "exits", false)
	for _, tc := range []struct {
		args   []string
		status int
		output string
		cut    bool
	}{
		{args: []string{"return"}, status: 0, output: "returning from main"},
		{args: []string{"exit", "3"}, status: 3, output: "calling os.Exit"},
		{args: []string{"exit", "0"}, status: 0, output: "calling os.Exit"},
		{args: []string{"fatal"}, status: 1, output: "log.Fatal called"},
		{args: []string{"panic"}, status: 2, output: "panic: exits: told to panic", cut: true},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			t.Parallel()
			res, out, logs := record(t, bin, RunOptions{Args: tc.args})
			if res.ExitCode != tc.status {
				t.Errorf("exit status %d, want %d", res.ExitCode, tc.status)
			}
			if !strings.Contains(out, tc.output) {
				t.Errorf("program output %q does not contain %q", out, tc.output)
			}
			tr := oneTrace(t, res)
			if tr.CutShort != tc.cut {
				t.Errorf("CutShort = %v, want %v (log: %s)", tr.CutShort, tc.cut, logs)
			}
			if tc.cut {
				if !strings.Contains(logs.String(), "cut short") || tr.Received < tr.Size {
					t.Errorf("a cut trace must be reported: log %q, trace %+v", logs, tr)
				}
				checkTrace(t, tr.Path)
				return
			}
			if f := checkTrace(t, tr.Path); f.GoCreate < 100 {
				t.Errorf("%d GoCreate events, want at least 100", f.GoCreate)
			}
			if st, err := os.Stat(tr.Path); err != nil || st.Size() != tr.Size {
				t.Errorf("file %v, size %d reported", err, tr.Size)
			}
		})
	}
}

// runReady starts a recording of a program that prints "ready" once it is
// set up, and returns when it has.
func runReady(t *testing.T, bin *Binary, opts RunOptions) (ready string, wait func() (*Result, string, *logTo)) {
	t.Helper()
	if opts.Output == "" {
		opts.Output = filepath.Join(t.TempDir(), "prog.trace")
	}
	pr, pw := io.Pipe()
	logs := &logTo{}
	opts.Stdout, opts.Stderr, opts.Log = pw, io.Discard, logs.log
	type ran struct {
		res *Result
		err error
	}
	done := make(chan ran, 1)
	go func() {
		res, err := bin.Run(opts)
		pw.Close()
		done <- ran{res, err}
	}()
	sc := bufio.NewScanner(pr)
	var rest bytes.Buffer
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ready") {
			ready = sc.Text()
			break
		}
	}
	if ready == "" {
		r := <-done
		t.Fatalf("the program ended before it was ready: %v %+v\nlog:\n%s", r.err, r.res, logs)
	}
	copied := make(chan struct{})
	go func() { io.Copy(&rest, pr); close(copied) }()
	return ready, func() (*Result, string, *logTo) {
		r := <-done
		<-copied
		if r.err != nil {
			t.Fatalf("Run: %v\nlog:\n%s", r.err, logs)
		}
		return r.res, rest.String(), logs
	}
}

// TestInterrupt sends SIGINT and SIGTERM to gotrace: the trace is flushed
// whole, then the program's own handler runs and its status comes back.
// A program without a handler dies of the signal, trace complete all the
// same.
func TestInterrupt(t *testing.T) {
	bin := built(t, "exits", false)
	for _, tc := range []struct {
		sig    syscall.Signal
		args   []string
		status int
		output string
	}{
		{syscall.SIGINT, []string{"wait", "7"}, 7, "got interrupt, shutting down"},
		{syscall.SIGTERM, []string{"wait", "0"}, 0, "got terminated, shutting down"},
		{syscall.SIGINT, []string{"hang"}, 128 + int(syscall.SIGINT), ""},
		{syscall.SIGTERM, []string{"hang"}, 128 + int(syscall.SIGTERM), ""},
	} {
		t.Run(tc.sig.String()+"_"+tc.args[0], func(t *testing.T) {
			t.Parallel()
			sigs := make(chan os.Signal, 1)
			_, wait := runReady(t, bin, RunOptions{Args: tc.args, Signals: sigs})
			sigs <- tc.sig
			res, out, logs := wait()
			if res.ExitCode != tc.status || !res.Interrupted {
				t.Errorf("exit status %d, interrupted %v; want %d, true", res.ExitCode, res.Interrupted, tc.status)
			}
			if !strings.Contains(out, tc.output) {
				t.Errorf("program output %q does not contain %q", out, tc.output)
			}
			tr := oneTrace(t, res)
			if tr.CutShort {
				t.Errorf("trace cut short; the flush must come before the signal (log: %s)", logs)
			}
			if f := checkTrace(t, tr.Path); f.GoCreate < 100 {
				t.Errorf("%d GoCreate events, want at least 100", f.GoCreate)
			}
		})
	}
}

// TestKilled kills the program with SIGKILL once a generation is complete:
// the trace keeps the complete generations and says it was cut short.
func TestKilled(t *testing.T) {
	t.Parallel()
	bin := built(t, "exits", false)
	twoGens := make(chan struct{})
	var once sync.Once
	ready, wait := runReady(t, bin, RunOptions{
		Args:          []string{"hang"},
		ProgressEvery: 20 * time.Millisecond,
		Progress: func(p Progress) {
			if p.Generations >= 2 {
				once.Do(func() { close(twoGens) })
			}
		},
	})
	pid, err := strconv.Atoi(strings.TrimPrefix(ready, "ready "))
	if err != nil {
		t.Fatalf("ready line %q: %v", ready, err)
	}
	select {
	case <-twoGens:
	case <-time.After(30 * time.Second):
		t.Fatal("the second generation did not start within 30s")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	res, _, logs := wait()
	if res.ExitCode != 128+int(syscall.SIGKILL) || res.Signal != syscall.SIGKILL {
		t.Errorf("exit status %d, signal %v; want %d, killed", res.ExitCode, res.Signal, 128+int(syscall.SIGKILL))
	}
	tr := oneTrace(t, res)
	if !tr.CutShort || !strings.Contains(logs.String(), "cut short") {
		t.Errorf("trace %+v, log %q: want it cut short and said so", tr, logs)
	}
	checkTrace(t, tr.Path)
}

func TestCPU(t *testing.T) {
	t.Parallel()
	bin := built(t, "exits", false)
	res, _, _ := record(t, bin, RunOptions{Args: []string{"spin", "300ms"}, CPU: true})
	if f := checkTrace(t, oneTrace(t, res).Path); f.CPUSamples == 0 {
		t.Errorf("no CPU samples with CPU profiling on")
	}
}

func TestAllocFree(t *testing.T) {
	t.Parallel()
	bin := built(t, "exits", false)
	res, _, _ := record(t, bin, RunOptions{Args: []string{"return"}, AllocFree: true})
	if f := checkTrace(t, oneTrace(t, res).Path); f.Types == 0 {
		t.Errorf("no type table with traceallocfree=1")
	}
	res, _, _ = record(t, bin, RunOptions{Args: []string{"return"}})
	if f := checkTrace(t, oneTrace(t, res).Path); f.Types != 0 {
		t.Errorf("%d types without --allocfree", f.Types)
	}
}

// TestDuration traces the first 200ms of a program that runs 1.5s: the
// trace ends early and complete, and the program finishes untraced.
func TestDuration(t *testing.T) {
	t.Parallel()
	bin := built(t, "exits", false)
	res, out, _ := record(t, bin, RunOptions{Args: []string{"tick", "1500ms"}, Duration: 200 * time.Millisecond})
	if res.ExitCode != 0 || !strings.Contains(out, "done") {
		t.Errorf("program status %d, output %q: want it to run to the end", res.ExitCode, out)
	}
	tr := oneTrace(t, res)
	if tr.CutShort {
		t.Error("trace cut short")
	}
	// N.B. Trace time, not wall time: the trace spans well under the
	// program's own 1.5s of sleeping.
	if f := checkTrace(t, tr.Path); f.Duration >= 1500*time.Millisecond {
		t.Errorf("trace spans %v, want less than the program's 1.5s", f.Duration)
	}
}

// TestFlight takes two flight recorder snapshots on SIGUSR1, and a third
// when the program ends on SIGTERM.
func TestFlight(t *testing.T) {
	t.Parallel()
	bin := built(t, "exits", false)
	out := filepath.Join(t.TempDir(), "prog.trace")
	sigs := make(chan os.Signal, 1)
	written := make(chan Trace, 3)
	_, wait := runReady(t, bin, RunOptions{Args: []string{"wait", "0"}, Output: out, Flight: time.Second, Signals: sigs,
		Written: func(tr Trace) { written <- tr }})
	// Each snapshot is told of while the program still runs.
	for n := 1; n <= 2; n++ {
		sigs <- syscall.SIGUSR1
		select {
		case tr := <-written:
			if tr.Path != numbered(out, n) {
				t.Fatalf("snapshot %d written as %s", n, tr.Path)
			}
			if _, err := os.Stat(tr.Path); err != nil {
				t.Fatalf("snapshot %d told of before it is there: %v", n, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("snapshot %d not written within 30s", n)
		}
	}
	sigs <- syscall.SIGTERM
	res, _, logs := wait()
	if res.ExitCode != 0 {
		t.Errorf("exit status %d, want 0 (log: %s)", res.ExitCode, logs)
	}
	if len(res.Traces) != 3 {
		t.Fatalf("got %d snapshots, want 3: %+v", len(res.Traces), res.Traces)
	}
	for i, tr := range res.Traces {
		if want := numbered(out, i+1); tr.Path != want {
			t.Errorf("snapshot %d is %s, want %s", i+1, tr.Path, want)
		}
		checkTrace(t, tr.Path)
	}
}

// TestTest records a package's tests; the package has its own TestMain.
func TestTest(t *testing.T) {
	t.Parallel()
	bin := built(t, "mathlib", true)
	if bin.Name() != "mathlib.test" {
		t.Errorf("name %q, want mathlib.test", bin.Name())
	}
	res, out, _ := record(t, bin, RunOptions{Args: TestBinaryArgs([]string{"-v", "-run", "SumSquares"})})
	if res.ExitCode != 0 || !strings.Contains(out, "--- PASS: TestSumSquares") || !strings.Contains(out, "mathlib TestMain") {
		t.Errorf("status %d, output:\n%s", res.ExitCode, out)
	}
	if f := checkTrace(t, oneTrace(t, res).Path); f.GoCreate < 100 {
		t.Errorf("%d GoCreate events, want at least 100 (SumSquares with 100 workers)", f.GoCreate)
	}
	res, out, _ = record(t, bin, RunOptions{Args: []string{"-test.run", "Fails"}, Env: append(os.Environ(), "MATHLIB_FAIL=1")})
	if res.ExitCode != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("failing test: status %d, output:\n%s", res.ExitCode, out)
	}
	checkTrace(t, oneTrace(t, res).Path)
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	b, err := NewBuilder(BuildOptions{Dir: repoRoot, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()

	_, err = b.Build(ctx, "./testdata/progs/broken")
	var be *BuildError
	if !errors.As(err, &be) || !strings.Contains(stderr.String(), "cannot use") {
		t.Errorf("broken: error %v, compiler output %q: want a BuildError and the compiler's message", err, stderr.String())
	}
	_, err = b.Build(ctx, "./testdata/progs/mathlib")
	var pe *PackageError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "not a main package") {
		t.Errorf("library: error %v, want a PackageError saying it is not a main package", err)
	}
	_, err = b.Build(ctx, "./testdata/progs/nonexistent")
	if !errors.As(err, &pe) || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing: error %q, want a one-line PackageError", err)
	}
	_, err = b.Build(ctx, "./testdata/progs/exits/main.go", "./testdata/progs/exits/nofile.go")
	if err == nil || err.Error() != "./testdata/progs/exits/nofile.go: no such file or directory" {
		t.Errorf("a missing .go file: error %v, want one naming it", err)
	}
	_, err = b.Build(ctx, "./testdata/progs/...")
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "packages") {
		t.Errorf("several: error %v, want a PackageError", err)
	}
}

// TestCapture takes a trace from a server running net/http/pprof, and
// names what came back when it is not a trace.
func TestCapture(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello, not a trace") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	ctx := context.Background()

	out := filepath.Join(dir, "live.trace")
	tr, err := Capture(ctx, CaptureOptions{URL: srv.URL, Duration: 200 * time.Millisecond, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Path != out || tr.CutShort {
		t.Errorf("trace %+v", tr)
	}
	checkTrace(t, out)

	for _, tc := range []struct{ url, want string }{
		{srv.URL + "/nothing", "404 Not Found"},
		{srv.URL + "/hello", `not a Go execution trace (Content-Type "text/plain; charset=utf-8"): body starts with "hello, not a trace"`},
		{closedURL(t), "connection refused"},
		{"ftp://example.com", "not an http:// or https:// URL"},
	} {
		bad := filepath.Join(dir, "bad.trace")
		_, err := Capture(ctx, CaptureOptions{URL: tc.url, Duration: 100 * time.Millisecond, Output: bad})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.url, err, tc.want)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Errorf("%s: a failed capture left %s", tc.url, bad)
		}
	}
}

// closedURL is the address of a port nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestSalvage cuts a recorded multi-generation trace at many places: what
// completePrefix keeps must always read cleanly.
func TestSalvage(t *testing.T) {
	t.Parallel()
	bin := built(t, "exits", false)
	res, _, _ := record(t, bin, RunOptions{Args: []string{"tick", "2500ms"}})
	path := oneTrace(t, res).Path
	f := checkTrace(t, path)
	if f.Generations < 2 {
		t.Skipf("the trace has %d generation; salvage needs several", f.Generations)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 20; i++ {
		cut := data[:len(data)*i/20]
		keep, gens, err := completePrefix(bytes.NewReader(cut))
		if errors.Is(err, errNothingComplete) {
			continue
		}
		if err != nil || keep > int64(len(cut)) || gens < 1 || gens >= f.Generations {
			t.Fatalf("cut at %d: keep %d bytes, %d generations, %v", len(cut), keep, gens, err)
		}
		if err := readAllExp(cut[:keep]); err != nil {
			t.Errorf("cut at %d, kept %d: golang.org/x/exp/trace: %v", len(cut), keep, err)
		}
	}
}

// TestGenCounter checks the progress line's generation count against the
// decoder's.
func TestGenCounter(t *testing.T) {
	t.Parallel()
	bin := built(t, "exits", false)
	res, _, _ := record(t, bin, RunOptions{Args: []string{"tick", "1200ms"}})
	path := oneTrace(t, res).Path
	f := checkTrace(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c genCounter
	for len(data) > 0 { // in odd pieces, as a pipe delivers them
		n := min(len(data), 777)
		c.Write(data[:n])
		data = data[n:]
	}
	c.endFile(true)
	if c.broken() || c.count() != f.Generations {
		t.Errorf("counted %d generations (broken %v), decoder %d", c.count(), c.broken(), f.Generations)
	}
	// As progress follows a file the program writes: batch bodies are
	// skipped, not read.
	data, _ = os.ReadFile(path)
	var s genCounter
	read := 0
	for off := 0; off < len(data); {
		if k := s.skipAhead(uint64(len(data) - off)); k > 0 {
			off += int(k)
			continue
		}
		n := min(len(data)-off, 777)
		s.Write(data[off : off+n])
		read += n
		off += n
	}
	s.endFile(true)
	if s.broken() || s.count() != f.Generations || read > len(data)/2 {
		t.Errorf("following: counted %d generations (broken %v), decoder %d; read %d of %d bytes", s.count(), s.broken(), f.Generations, read, len(data))
	}
}

// TestToolchains records with other Go releases when the go command can
// fetch them: the shim adapts to the toolchain that builds (no flight
// recorder before Go 1.25). The program is testdata/progs/exits copied
// into a module of its own that asks for Go 1.23.
func TestToolchains(t *testing.T) {
	if testing.Short() {
		t.Skip("building the standard library with other toolchains is slow")
	}
	src, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "progs", "exits", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version string
		flight  bool
	}{
		{"go1.23.0", false},
		{"go1.27.3", true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/exits\n\ngo 1.23\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			env := append(os.Environ(), "GOTOOLCHAIN="+tc.version)
			probe := exec.Command("go", "env", "GOVERSION")
			probe.Dir = dir
			probe.Env = env
			if out, err := probe.Output(); err != nil || strings.TrimSpace(string(out)) != tc.version {
				t.Skipf("%s is not available here: %v %s", tc.version, err, out)
			}
			var stderr bytes.Buffer
			bld, err := NewBuilder(BuildOptions{Dir: dir, Env: env, Stderr: &stderr})
			if err != nil {
				t.Fatal(err)
			}
			defer bld.Close()
			bins, err := bld.Build(context.Background(), ".")
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.Bytes())
			}
			bin := bins[0]
			if bin.GoVersion != tc.version || bin.flight != tc.flight {
				t.Fatalf("built with %s, flight recorder %v", bin.GoVersion, bin.flight)
			}
			res, _, _ := record(t, bin, RunOptions{Args: []string{"exit", "3"}})
			if res.ExitCode != 3 {
				t.Errorf("exit status %d, want 3", res.ExitCode)
			}
			if f := checkTrace(t, oneTrace(t, res).Path); f.GoCreate < 100 {
				t.Errorf("%d GoCreate events, want at least 100", f.GoCreate)
			}
			_, err = bin.Run(RunOptions{Args: []string{"return"}, Output: filepath.Join(dir, "f.trace"), Flight: time.Second})
			if tc.flight != (err == nil) {
				t.Errorf("--flight: error %v, flight recorder %v", err, tc.flight)
			}
			if tc.flight {
				return
			}
			// Before Go 1.26 a generation carries no end marker, so a
			// program that panics in its first generation leaves nothing
			// complete: an error, and still the program's own status.
			res, err = bin.Run(RunOptions{Args: []string{"panic"}, Output: filepath.Join(dir, "p.trace"), Stderr: io.Discard})
			if res == nil || res.ExitCode != 2 || err == nil || !strings.Contains(err.Error(), "before any generation was complete") {
				t.Errorf("panic: result %+v, error %v; want status 2 and an error saying nothing was complete", res, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "p.trace")); err == nil {
				t.Error("panic: a trace with nothing complete was written")
			}
		})
	}
}

// TestUnwritableOutput: a trace that cannot be written is an error before
// the program runs, not after.
func TestUnwritableOutput(t *testing.T) {
	t.Parallel()
	bin := built(t, "exits", false)
	var out bytes.Buffer
	_, err := bin.Run(RunOptions{Args: []string{"return"}, Output: filepath.Join(t.TempDir(), "missing", "p.trace"), Stdout: &out})
	if err == nil || !strings.Contains(err.Error(), "cannot write the trace") || out.Len() != 0 {
		t.Errorf("error %v, program output %q: want an error and the program not run", err, out.String())
	}
}

// TestSpecialOutput records into a named pipe, as -o /dev/null or a pipe to
// another program would: it is written in place, never replaced by a
// renamed file, and a cut-short stream is passed on whole.
func TestSpecialOutput(t *testing.T) {
	t.Parallel()
	bin := built(t, "exits", false)
	for _, mode := range []string{"return", "panic"} {
		fifo := filepath.Join(t.TempDir(), "pipe.trace")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip(err)
		}
		got := make(chan []byte, 1)
		go func() {
			b, _ := os.ReadFile(fifo) // waits for the writer, reads to its close
			got <- b
		}()
		res, _, logs := record(t, bin, RunOptions{Args: []string{mode}, Output: fifo})
		data := <-got
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("%s: the named pipe was replaced: %v %v", mode, fi.Mode(), err)
		}
		tr := oneTrace(t, res)
		if tr.Path != fifo || tr.Size != int64(len(data)) || tr.CutShort != (mode == "panic") {
			t.Errorf("%s: trace %+v, %d bytes read from the pipe", mode, tr, len(data))
		}
		if mode == "return" {
			if err := readAllExp(data); err != nil {
				t.Errorf("%s: golang.org/x/exp/trace: %v", mode, err)
			}
		} else if !strings.Contains(logs.String(), "not a regular file") {
			t.Errorf("%s: log %q does not say why the trace was not cut back", mode, logs)
		}
		if _, err := Summarize(fifo); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Summarize of a pipe: %v, want ErrNotRegular", err)
		}
		if mode == "return" {
			_, err := bin.Run(RunOptions{Args: []string{"return"}, Output: fifo, Flight: time.Second})
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("--flight into a pipe: %v, want an error", err)
			}
		}
	}
}

// TestFullDisk records onto a full disk (/dev/full fails every write with
// ENOSPC) each way a trace is written: by the program into the file it is
// handed, by gotrace from the pipe, by a capture. Each is a WriteError,
// leaves nothing at the destination, and the program's status still
// comes back.
func TestFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip(err)
	}
	bin := built(t, "exits", false)
	check := func(t *testing.T, res *Result, err error, dest string) {
		t.Helper()
		var we *WriteError
		if !errors.As(err, &we) || !strings.Contains(err.Error(), "no space left on device") || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %v, want a one-line WriteError saying the disk is full", err)
		}
		if res != nil && (res.ExitCode != 3 || len(res.Traces) != 0) {
			t.Errorf("result %+v, want exit status 3 and no trace", res)
		}
		if dest == "" {
			return
		}
		if _, err := os.Stat(dest); err == nil {
			t.Errorf("%s was written", dest)
		}
		assertNoTemp(t, filepath.Dir(dest))
	}

	t.Run("direct", func(t *testing.T) {
		defer func(h func(*outputFile) *os.File) { handOver = h }(handOver)
		var full *os.File
		handOver = func(*outputFile) *os.File {
			var err error
			if full, err = os.OpenFile("/dev/full", os.O_WRONLY, 0); err != nil {
				t.Fatal(err)
			}
			return full
		}
		dest := filepath.Join(t.TempDir(), "p.trace")
		res, err := bin.Run(RunOptions{Args: []string{"exit", "3"}, Output: dest, Stdout: io.Discard, Stderr: io.Discard})
		if full == nil {
			t.Fatal("the program was not handed the file")
		}
		full.Close()
		check(t, res, err, dest)
		if err != nil && !strings.Contains(err.Error(), "write "+dest+": ") {
			t.Errorf("error %v does not name %s", err, dest)
		}
	})
	t.Run("pipe", func(t *testing.T) {
		res, err := bin.Run(RunOptions{Args: []string{"exit", "3"}, Output: "/dev/full", Stdout: io.Discard, Stderr: io.Discard})
		check(t, res, err, "")
	})
	t.Run("capture", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		_, err := Capture(context.Background(), CaptureOptions{URL: srv.URL, Duration: 100 * time.Millisecond, Output: "/dev/full"})
		check(t, nil, err, "")
	})
}
