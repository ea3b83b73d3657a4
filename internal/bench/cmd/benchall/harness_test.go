package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/bench"
)

// The test binary doubles as the subprocess the harness runs: with
// BENCHALL_HELPER set it does what the variable says instead of testing.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "-run-loop" || os.Args[1] == "-run-shape") {
		// The harness runs its loops as os.Executable() -run-loop (and
		// reads shapes with -run-shape), which in these tests is the test
		// binary.
		os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	switch os.Getenv("BENCHALL_HELPER") {
	case "":
		os.Exit(m.Run())
	case "sleep":
		time.Sleep(time.Minute)
	case "alloc":
		// Touch every page so the memory is resident, then wait.
		b := make([]byte, 256<<20)
		for i := range b {
			if i%4096 == 0 {
				b[i] = 1
			}
		}
		time.Sleep(time.Minute)
		runtime.KeepAlive(b)
	case "ready":
		os.Stderr.WriteString("starting\nlistening now\n")
		time.Sleep(time.Minute)
	case "fail":
		os.Stderr.WriteString("helper: something broke\n")
		os.Exit(3)
	}
	os.Exit(0)
}

func helper(t *testing.T, what string) proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return proc{args: []string{exe}, env: []string{"BENCHALL_HELPER=" + what}}
}

const smallTrace = "../../testdata/small.trace"

func TestRunLoop(t *testing.T) {
	f, err := os.Open(smallTrace)
	if err != nil {
		t.Fatal(err)
	}
	want, err := bench.Walk(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bench.Loops {
		var out, errOut strings.Builder
		if code := runMain([]string{"-run-loop", l.Name, smallTrace}, &out, &errOut); code != 0 {
			t.Fatalf("%s: exit %d: %s", l.Name, code, errOut.String())
		}
		var lr loopResult
		if err := json.Unmarshal([]byte(out.String()), &lr); err != nil {
			t.Fatalf("%s: output %q: %v", l.Name, out.String(), err)
		}
		if lr.Events <= 0 || lr.Events > 2*want.Events {
			t.Errorf("%s: %d events, the walk counts %d", l.Name, lr.Events, want.Events)
		}
	}
}

func TestParseLoopOutput(t *testing.T) {
	lr, err := parseLoopOutput("{\"events\":10,\"ns\":5}\n{\"events\":10,\"ns\":4}\n")
	if err != nil || lr.Events != 10 {
		t.Errorf("two runs: %+v, %v", lr, err)
	}
	if _, err := parseLoopOutput(""); err == nil {
		t.Error("empty output accepted")
	}
}

func TestRunLoopErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-run-loop", "nosuch", smallTrace},
		{"-run-loop", "walk", "testdata/does-not-exist.trace"},
		{"-run-loop", "walk"},
		{"-count", "0"},
	} {
		var out, errOut strings.Builder
		code := runMain(args, &out, &errOut)
		if code == 0 || !strings.HasPrefix(errOut.String(), "benchall: ") || strings.Count(strings.TrimSpace(errOut.String()), "\n") != 0 {
			t.Errorf("%q: exit %d, stderr %q; want a one-line benchall error and a non-zero exit", args, code, errOut.String())
		}
	}
}

func TestRunTimeout(t *testing.T) {
	h := &harness{timeout: 200 * time.Millisecond}
	o := h.run(helper(t, "sleep"))
	if o.err == nil || !strings.Contains(o.err.Error(), "timed out") {
		t.Errorf("err = %v, want a timeout", o.err)
	}
}

func TestRunFailure(t *testing.T) {
	h := &harness{timeout: time.Minute}
	o := h.run(helper(t, "fail"))
	if o.err == nil || !strings.Contains(o.err.Error(), "helper: something broke") {
		t.Errorf("err = %v, want the exit status and the last stderr line", o.err)
	}
}

func TestRunMemoryLimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the memory limit reads /proc")
	}
	h := &harness{timeout: time.Minute, maxRSS: 64e6}
	o := h.run(helper(t, "alloc"))
	if !errors.Is(o.err, errMemory) {
		t.Errorf("err = %v, want the memory limit", o.err)
	}
	if o.rss < 64e6 {
		t.Errorf("peak RSS %d, want it past the limit", o.rss)
	}
}

func TestRunReady(t *testing.T) {
	h := &harness{timeout: time.Minute}
	p := helper(t, "ready")
	var seen []string
	p.ready = func(ctx context.Context, lines <-chan string) error {
		for l := range lines {
			seen = append(seen, l)
			if strings.HasPrefix(l, "listening") {
				return nil
			}
		}
		return errors.New("no listening line")
	}
	o := h.run(p)
	if o.err != nil {
		t.Fatal(o.err)
	}
	if len(seen) != 2 {
		t.Errorf("ready saw %q", seen)
	}
}

func TestTargets(t *testing.T) {
	full := &input{c: bench.Counts{Bytes: 200e6, LargestGen: 20e6, Events: 1e6}}
	half := &input{c: bench.Counts{Bytes: 100e6, LargestGen: 20e6, Events: 5e5}}
	h := &harness{results: map[string]*result{}}
	for _, r := range []*result{
		{key: "fast", in: full, dur: time.Second, rss: 50e6},
		{key: "slow", in: full, dur: 20 * time.Second, rss: 50e6},
		{key: "killed", in: full, dur: 30 * time.Second, lowerBound: true},
		{key: "shortkill", in: full, dur: 500 * time.Millisecond, lowerBound: true},
		{key: "gone", status: "not available: no such command"},
		{key: "grows", in: full, dur: time.Second, rss: 400e6},
		{key: "grows-half", in: half, dur: time.Second, rss: 200e6},
		{key: "flat", in: full, dur: time.Second, rss: 60e6},
		{key: "flat-half", in: half, dur: time.Second, rss: 58e6},
	} {
		h.results[r.key] = r
	}
	for _, tt := range []struct {
		row  targetRow
		want string
	}{
		{h.speedup("", "fast", "slow", 15), "PASS"},
		{h.speedup("", "fast", "slow", 50), "MISS"},
		{h.speedup("", "fast", "killed", 15), "PASS"},
		{h.speedup("", "fast", "shortkill", 15), "n/a (shortkill did not finish)"},
		{h.speedup("", "gone", "slow", 1), "n/a (gone not available)"},
		{h.speedup("", "fast", "missing", 1), "n/a (missing not measured)"},
		{h.timeRatio("", "fast", "slow", 0.7), "PASS"},
		{h.timeRatio("", "slow", "fast", 1), "MISS"},
		{h.timeRatio("", "killed", "fast", 1), "MISS"},
		{h.timeRatio("", "shortkill", "fast", 1), "n/a (shortkill did not finish)"},
		{h.timeRatio("", "gone", "slow", 1), "n/a (gone not available)"},
		{h.timeRatio("", "fast", "killed", 1), "n/a (killed did not finish)"},
		{h.rssBelow("", "fast", 100e6), "PASS"},
		{h.rssBelow("", "grows", 100e6), "MISS"},
	} {
		if tt.row.verdict != tt.want {
			t.Errorf("%+v: want %s", tt.row, tt.want)
		}
	}
	if g := h.growth("grows", "grows-half"); !strings.HasSuffix(g, "MISS") {
		t.Errorf("memory doubling with the file: %q, want MISS", g)
	}
	if g := h.growth("flat", "flat-half"); !strings.HasSuffix(g, "PASS") {
		t.Errorf("memory flat with the file: %q, want PASS", g)
	}
}

func TestReportLayout(t *testing.T) {
	full := &input{path: "full.trace", c: bench.Counts{Bytes: 200e6, Generations: 10, LargestGen: 20e6, Events: 1e6}}
	half := &input{path: "half.trace", c: bench.Counts{Bytes: 100e6, Generations: 5, LargestGen: 20e6, Events: 5e5}}
	var out strings.Builder
	h := &harness{out: &out, log: io.Discard, results: map[string]*result{}, full: full, half: half, gen1: half}
	h.add(&result{key: "walk", label: "bare walk", in: full, dur: time.Second, cpu: time.Second, rss: 10e6})
	h.add(&result{key: "xexp", label: "x/exp/trace", in: full, dur: 20 * time.Second, rss: 100e6})
	h.add(&result{key: "decode", label: "decode", in: full, dur: time.Second, rss: 50e6})
	h.add(&result{key: "decode-half", label: "decode half", in: half, dur: time.Second / 2, rss: 49e6})
	h.add(&result{key: "stats-json", label: "stats", status: "not available: no gotrace stats command"})
	h.report()
	text := out.String()
	for _, want := range []string{
		"200.0 MB, 10 generations",
		"not available: no gotrace stats command",
		"full decode, Next vs x/exp/trace loop",
		"20.0x faster",
		"n/a (stats-json not available)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	// The walk read 200 MB and 1M events in a second, 10 MB resident.
	if !regexp.MustCompile(`(?m)^walk\s+bare walk\s+1\.00s\s+1\.00s\s+200\.0\s+1\.00\s+10\.0 MB$`).MatchString(text) {
		t.Errorf("walk row wrong:\n%s", text)
	}
	for i, l := range strings.Split(text, "\n") {
		if strings.TrimRight(l, " ") != l {
			t.Errorf("line %d ends in spaces: %q", i+1, l)
		}
	}
}

// TestRunAllSmall runs the harness end to end on the small committed
// trace, with gotrace absent and the slow go tool trace view left out.
func TestRunAllSmall(t *testing.T) {
	data, err := os.ReadFile(smallTrace)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tracePath, servicePath := dir+"/small.trace", dir+"/service.trace"
	for _, p := range []string{tracePath, servicePath} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, log strings.Builder
	h := &harness{
		out: &out, log: &log, results: map[string]*result{},
		tracePath: tracePath, servicePath: servicePath, gotrace: dir + "/no-such-gotrace",
		timeout: time.Minute, count: 1, runs: 1,
		skip: map[string]bool{"gotool-http": true, "gotool-http-gen1": true},
	}
	if err := h.runAll(); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	text := out.String()
	for _, want := range []string{
		"3 generations",
		"half:    " + tracePath[:len(tracePath)-len(".trace")] + "-half.trace",
		"decode-each-half",
		"record overhead: not available: -gotrace ",
		"service: " + servicePath + ": ",
		// The small trace's statuses overlap the next generation twice.
		"shape of " + servicePath + ": 2 of 3 generations end with no-thread batches at or after the next one's first time (4 of 15 such batches)",
		"goroutines: 3436 created, 10 from before, at most 116 alive at once",
		"service: stats --json vs x/exp/trace loop",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{
		`(?m)^decode-text\s+gotrace decode FILE >/dev/null\s+not available: -gotrace `,
		`(?m)^gotool-http\s+go tool trace parse\+split \(until HTTP answers\)\s+skipped \(-skip\)$`,
		`(?m)^pprof-sched-service\s+gotrace pprof --type sched FILE -o OUT\s+not available: -gotrace `,
		`(?m)^  service: export perfetto peak RSS\s+target < 150\.0 MB\s+n/a \(export-perfetto-service not available\)$`,
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("output does not match %s:\n%s", want, text)
		}
	}
	for _, k := range []string{"walk", "xexp", "decode", "decode-half", "decode-batches", "decode-each", "decode-parallel", "decode-parallel-half", "wire", "xexp-service"} {
		if r := h.results[k]; !r.ok() || r.lowerBound || r.dur <= 0 {
			t.Errorf("%s: %+v, want a measurement", k, r)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{3, 1, 2}, 2},
		{[]time.Duration{4, 1, 3, 2}, 2},
		{[]time.Duration{7}, 7},
	} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSizeFits(t *testing.T) {
	h := &harness{size: 295e6, minSize: minTraceSize}
	for n, want := range map[int64]bool{295.3e6: true, 285e6: true, 200.3e6: false, 310e6: false} {
		if got := h.sizeFits(n); got != want {
			t.Errorf("sizeFits(%d) with -size %d = %v, want %v", n, h.size, got, want)
		}
	}
	h.size = 0 // the tests' harness: any size from minSize
	if !h.sizeFits(200e6) {
		t.Error("with no -size, a trace in range does not fit")
	}
}
