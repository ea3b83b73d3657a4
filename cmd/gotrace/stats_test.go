package main

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

const (
	leakyTrace   = "../../testdata/traces/leaky.trace"
	hotlockTrace = "../../testdata/traces/hotlock.trace"
	workersTrace = "../../testdata/traces/workers.trace"
)

// statsRun runs gotrace with args through fake streams with a terminal
// width of 100.
func statsRun(t *testing.T, tty bool, args ...string) (string, string, int) {
	t.Helper()
	io, out, errOut := fakeStreams(tty)
	io.Width = 100
	code := run(args, io)
	return out.String(), errOut.String(), code
}

// TestStatsGolden pins each output mode of gotrace stats and check for the
// committed leaky trace.
func TestStatsGolden(t *testing.T) {
	checkGoldens(t, []goldenCase{
		{"stats.golden", false, []string{"stats", leakyTrace}, 0},
		{"stats-styled.golden", true, []string{"stats", leakyTrace}, 0},
		{"stats-markdown.golden", false, []string{"stats", "--markdown", leakyTrace}, 0},
		{"stats-json.golden", false, []string{"stats", "--json", leakyTrace}, 0},
		{"stats-section-gc-top-3.golden", false, []string{"stats", "--section", "gc,findings", "--top", "3", leakyTrace}, 0},
		{"check.golden", false, []string{"check", leakyTrace, "--assert", "gc.stw.max < 5ms", "--assert", "goroutines.leaked == 0", "--assert", "heap.max < 512MiB"}, exitAssertion},
		{"check-json.golden", false, []string{"check", "--json", leakyTrace, "--assert", "gc.mmu.10ms >= 10%", "--assert", "sched.latency.p99 <= 200us"}, 0},
		{"check-list.golden", false, []string{"check", "--list"}, 0},
		// Two programs with a problem each: the findings lead to them.
		{"findings-hotlock.golden", false, []string{"stats", "--section", "findings,blocking", hotlockTrace}, 0},
		{"findings-hotlock-styled.golden", true, []string{"stats", "--section", "findings", hotlockTrace}, 0},
		{"findings-hotlock-markdown.golden", false, []string{"stats", "--markdown", "--section", "findings", hotlockTrace}, 0},
		{"findings-workers.golden", false, []string{"stats", "--section", "findings,cpu", workersTrace}, 0},
		{"findings-workers-styled.golden", true, []string{"stats", "--section", "findings", workersTrace}, 0},
		{"findings-workers-markdown.golden", false, []string{"stats", "--markdown", "--section", "findings", workersTrace}, 0},
	})
}

// TestRunStatsStreams calls runStats directly: colour and box drawing on a
// terminal, neither when piped or with NO_COLOR, the same content.
func TestRunStatsStreams(t *testing.T) {
	for _, tc := range []struct {
		name         string
		tty, noColor bool
		styled       bool
	}{
		{"terminal", true, false, true},
		{"terminal NO_COLOR", true, true, false},
		{"pipe", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, out, errOut := fakeStreams(tc.tty)
			io.NoColor = tc.noColor
			io.ErrTTY = false // progress has its own test
			opts := &statsOptions{IO: io, File: leakyTrace, Top: 5, Sections: []string{"goroutines", "findings"}}
			if err := runStats(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			if got := strings.Contains(s, "\x1b["); got != tc.styled {
				t.Errorf("ANSI escapes: %v, want %v", got, tc.styled)
			}
			if got := strings.Contains(s, "╭"); got != tc.styled {
				t.Errorf("box drawing: %v, want %v", got, tc.styled)
			}
			for _, want := range []string{"Goroutines", "Leak suspect: 3 goroutines blocked on chan receive", "main.work.func1"} {
				if !strings.Contains(s, want) && !strings.Contains(strings.ToLower(s), strings.ToLower(want)) {
					t.Errorf("output lacks %q", want)
				}
			}
			if strings.Contains(strings.ToLower(s), "blocking") {
				t.Error("--section goroutines,findings shows the blocking section")
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr: %q", errOut)
			}
		})
	}
}

// TestRunStatsStdin reads the trace from standard input.
func TestRunStatsStdin(t *testing.T) {
	f, err := os.Open(leakyTrace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	io, out, _ := fakeStreams(false)
	io.In = f
	if err := runStats(context.Background(), &statsOptions{IO: io, File: "-", Top: 3, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Schema string `json:"schema"`
		File   string `json:"file"`
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m.Schema != "gotrace.stats/v1" || m.File != "-" {
		t.Errorf("schema %q, file %q, error %v", m.Schema, m.File, err)
	}
}

// TestRunStatsDamaged: the sections of the complete generation, a warning
// of what was lost, the error on stderr, exit 1.
func TestRunStatsDamaged(t *testing.T) {
	out, errOut, code := statsRun(t, false, "stats", "--section", "overview", "../../testdata/damaged/demo-cut.trace")
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(out, "warning: trace damaged:") || !regexp.MustCompile(`Generations +1\n`).MatchString(out) {
		t.Errorf("stdout lacks the warning or the complete generation:\n%s", out)
	}
	if !strings.HasPrefix(errOut, "gotrace: trace damaged: ../../testdata/damaged/demo-cut.trace: byte 0x") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr = %q, want one line naming the file and offset", errOut)
	}
}

// TestCheckExitCodes covers each exit status of gotrace check.
func TestCheckExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"check", leakyTrace, "--assert", "goroutines.leaked == 3"}, exitOK, ""},
		{[]string{"check", leakyTrace, "--assert", "goroutines.leaked == 0"}, exitAssertion, "gotrace: the assertion failed"},
		{[]string{"check", "nosuch.trace", "--assert", "goroutines.leaked == 0"}, exitError, "gotrace: nosuch.trace: no such file or directory"},
		{[]string{"check", "../../testdata/damaged/demo-cut.trace", "--assert", "gc.cycles >= 0"}, exitError, "gotrace: trace damaged"},
		{[]string{"check", leakyTrace, "--assert", "gc.stw.mx < 5ms"}, exitUsage, "did you mean gc.stw.max"},
		{[]string{"check", leakyTrace, "--assert", "gc.stw.max"}, exitUsage, "want PATH OP VALUE"},
		{[]string{"check", leakyTrace}, exitUsage, "no assertions"},
		{[]string{"check", "--list", leakyTrace}, exitUsage, "unknown command"},
		{[]string{"stats", "--section", "bogus", leakyTrace}, exitUsage, `--section "bogus": no such section`},
		{[]string{"stats", "--json", "--markdown", leakyTrace}, exitUsage, "choose one"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errOut, code := statsRun(t, false, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if !strings.Contains(errOut, tc.stderr) || strings.Count(errOut, "\n") > 1 {
				t.Errorf("stderr = %q, want one line containing %q", errOut, tc.stderr)
			}
		})
	}
}

// TestStatsProgress: progress goes to stderr on a terminal, and is cleared;
// never when stderr is not one.
func TestStatsProgress(t *testing.T) {
	for _, tty := range []bool{false, true} {
		io, _, errOut := fakeStreams(false)
		io.ErrTTY = tty
		if code := run([]string{"stats", "--json", leakyTrace}, io); code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		s := errOut.String()
		if got := strings.Contains(s, "gotrace: reading "); got != tty {
			t.Errorf("stderr terminal %v: progress shown %v: %q", tty, got, s)
		}
		if tty && !strings.HasSuffix(s, "\r\x1b[K") {
			t.Errorf("progress line not cleared: %q", s)
		}
	}
}

// TestRunStatsInterrupted: a cancelled analysis ends with the interrupt
// status and no report.
func TestRunStatsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	io, out, _ := fakeStreams(false)
	err := runStats(ctx, &statsOptions{IO: io, File: leakyTrace, Top: 3})
	if code := exitCode(err); code != exitInterrupt {
		t.Errorf("exit %d (%v), want %d", code, err, exitInterrupt)
	}
	if out.Len() != 0 {
		t.Errorf("a report after an interrupt: %q", out.String())
	}
}
