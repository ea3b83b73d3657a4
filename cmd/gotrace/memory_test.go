package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// peakRSSArgs, in the environment, makes TestPeakRSSManyBatches run the
// gotrace command line it holds (JSON) and report how it went; see
// measurePeak.
const peakRSSArgs = "GOTRACE_TEST_PEAK_RSS_ARGS"

// measured is how one gotrace process went.
type measured struct {
	Code   int
	Stderr string
	Peak   int64 // bytes
}

// measurePeak runs gotrace with args and returns its exit status, stderr
// and peak resident set. N.B. Linux counts in a process's peak the memory
// of the process that started it, up to the exec: from this test process,
// which may have grown large in other tests, the peak would be that. So a
// fresh copy of the test binary starts gotrace and reports on it.
func measurePeak(t *testing.T, args ...string) measured {
	t.Helper()
	js, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSSManyBatches$", "-test.count=1")
	// N.B. Measured as a user runs it, not as make test runs the tests:
	// collecting less often (GOGC).
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOGC=") })
	cmd.Env = append(env, peakRSSArgs+"="+string(js))
	out, err := cmd.Output()
	for line := range strings.Lines(string(out)) {
		if r, ok := strings.CutPrefix(line, "measured: "); ok {
			var m measured
			if err := json.Unmarshal([]byte(r), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no measure from %v: %v\n%s", args, err, out)
	return measured{}
}

// reportPeak is the other side of measurePeak.
func reportPeak(args string) {
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		panic(err)
	}
	bin, err := exec.LookPath("gotrace") // this test binary, as gotrace: see TestMain
	if err != nil {
		panic(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, argv...)
	cmd.Stderr = &stderr
	cmd.Run()
	m := measured{Code: cmd.ProcessState.ExitCode(), Stderr: stderr.String(), Peak: cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10}
	js, _ := json.Marshal(m)
	fmt.Printf("measured: %s\n", js)
}

// TestPeakRSSManyBatches runs gotrace, as a process of its own, over a
// 7 MB trace of a million empty batches in one generation, and reads the
// process's peak resident set: what gotrace keeps per batch must not grow
// with their number. The trace is damage (a generation holds at most
// decode.MaxBatches batches), reported in one line naming the file, the
// generation and the byte.
func TestPeakRSSManyBatches(t *testing.T) {
	if args := os.Getenv(peakRSSArgs); args != "" {
		reportPeak(args)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads the peak resident set as Linux reports it, in KiB")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory is not gotrace's")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "batches.trace")
	e := format.NewEncoder(format.Go126)
	for m := range uint64(1e6) {
		e.Event(format.EvEventBatch, []uint64{1, m, 0, 0}, nil)
	}
	data, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const limit = 64 << 20
	for _, args := range [][]string{
		{"decode", "--summary", path},
		{"split", path, "-o", filepath.Join(dir, "part")},
		// The commands that read with golang.org/x/exp/trace too: it
		// is handed the complete generations only (none here), never
		// the million batches.
		{"stats", "--json", path},
		{"check", "--assert", "goroutines.leaked == 0", path},
		{"pprof", "--type", "cpu", path},
		{"pprof", "--type", "sched", path},
		{"export", path},
	} {
		name := args[0]
		if args[0] == "pprof" {
			name += "-" + args[2]
		}
		t.Run(name, func(t *testing.T) {
			m := measurePeak(t, args...)
			if m.Code != exitError {
				t.Errorf("exit status %d, want %d", m.Code, exitError)
			}
			msg := strings.TrimSuffix(m.Stderr, "\n")
			if strings.Contains(msg, "\n") || !strings.Contains(msg, path+": ") || !strings.Contains(msg, "byte 0x") || !strings.Contains(msg, "(gen 1, batch 16384)") {
				t.Errorf("stderr %q, want one line naming the file, the generation and the byte", msg)
			}
			t.Logf("gotrace %s: peak RSS %.1f MB", name, float64(m.Peak)/(1<<20))
			if m.Peak > limit {
				t.Errorf("peak RSS %d MB, want under %d MB", m.Peak>>20, limit>>20)
			}
		})
	}
}
