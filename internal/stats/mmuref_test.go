package stats

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// TestMMUAgreesWithGoToolTrace compares the MMU with the one go tool
// trace's web view computes (every flag but per-P set, as gotrace counts)
// on a trace with two Ps, mark assists, sweeps, a stop-the-world pause and
// a dedicated mark worker that runs once. (With a worker that runs twice
// the two differ on purpose; see README.)
func TestMMUAgreesWithGoToolTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go tool trace -http")
	}
	bin, err := goToolTrace()
	if err != nil {
		t.Skipf("go tool -n trace: %v", err)
	}
	e := format.NewEncoder(format.Go122)
	// One tick is 1µs.
	e.Batch(1, 0, 0, func(b *format.Encoder) {
		b.Event(format.EvProcStatus, []uint64{1, 0, 1}, nil)
		b.Event(format.EvGoStatus, []uint64{0, 1, 0, 2}, nil)
		b.Event(format.EvProcsChange, []uint64{9, 2, 0}, nil)      // t=10µs
		b.Event(format.EvGCMarkAssistBegin, []uint64{990, 0}, nil) // t=1ms
		b.Event(format.EvGCMarkAssistEnd, []uint64{1500}, nil)     // t=2.5ms
		b.Event(format.EvSTWBegin, []uint64{5000, 1, 0}, nil)      // t=7.5ms
		b.Event(format.EvSTWEnd, []uint64{500}, nil)               // t=8ms
		b.Event(format.EvGCSweepBegin, []uint64{4000, 0}, nil)     // t=12ms
		b.Event(format.EvGCSweepEnd, []uint64{700, 0, 0}, nil)     // t=12.7ms
		b.Event(format.EvProcStop, []uint64{7300}, nil)            // t=20ms
	})
	e.Batch(1, 1, 0, func(b *format.Encoder) {
		b.Event(format.EvProcStatus, []uint64{2, 1, 1}, nil)
		b.Event(format.EvGoStatus, []uint64{0, 2, 1, 2}, nil)          // g2 running
		b.Event(format.EvGoStatus, []uint64{0, 3, ^uint64(0), 4}, nil) // g3 waiting
		b.Event(format.EvGCMarkAssistBegin, []uint64{1998, 0}, nil)    // t=2ms
		b.Event(format.EvGCMarkAssistEnd, []uint64{1000}, nil)         // t=3ms
		b.Event(format.EvGCSweepBegin, []uint64{10000, 0}, nil)        // t=13ms
		b.Event(format.EvGCSweepEnd, []uint64{2000, 0, 0}, nil)        // t=15ms
		// The mark worker runs from 16ms to 17.5ms.
		b.Event(format.EvGoUnblock, []uint64{999, 3, 1, 0}, nil) // t=15.999ms
		b.Event(format.EvGoBlock, []uint64{1, 2, 0}, nil)        // t=16ms
		b.Event(format.EvGoStart, []uint64{0, 3, 2}, nil)
		b.Event(format.EvGoLabel, []uint64{0, 3}, nil)
		b.Event(format.EvGoUnblock, []uint64{1499, 2, 1, 0}, nil) // t=17.499ms
		b.Event(format.EvGoBlock, []uint64{1, 2, 0}, nil)         // t=17.5ms
		b.Event(format.EvGoStart, []uint64{0, 2, 2}, nil)
		b.Event(format.EvProcStop, []uint64{2500}, nil) // t=20ms
	})
	data := finishTrace(t, e, 1e6, "GC mark termination", "chan receive", "GC (dedicated)")
	m, err := computeBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mmu.trace")
	if err := os.WriteFile(path, data, 0o666); err != nil {
		t.Fatal(err)
	}
	got := []float64{m.GC.MMU.W1ms, m.GC.MMU.W10ms}
	want := goToolTraceMMU(t, bin, path, MMUWindows[:2])
	for i, w := range MMUWindows[:2] {
		// golang.org/x/exp/trace may move an event by a nanosecond or
		// two to keep each thread's events in order.
		if math.Abs(got[i]-want[i]) > 1e-5 {
			t.Errorf("MMU %v = %v, go tool trace says %v", time.Duration(w), got[i], want[i])
		}
	}
	t.Logf("gotrace %v, go tool trace %v", got, want)
	if got[0] == got[1] || got[0] == 1 {
		t.Errorf("MMU %v: the trace does not exercise the windows", got)
	}
}

// goToolTraceMMU starts go tool trace's web view on path and asks it for
// the worst window of each size.
func goToolTraceMMU(t *testing.T, bin, path string, windows []int64) []float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-http=127.0.0.1:0", path)
	cmd.Env = append(os.Environ(), "BROWSER=true")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	addr := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)
	var base string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if u := addr.FindString(sc.Text()); u != "" {
			base = u
			break
		}
	}
	if base == "" {
		t.Fatalf("go tool trace did not say where it listens")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	var out []float64
	for _, w := range windows {
		url := fmt.Sprintf("%s/mmu?mode=details&window=%d&flags=stw|background|assist|sweep", base, w)
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		var worst []struct{ MutatorUtil float64 }
		err = json.NewDecoder(resp.Body).Decode(&worst)
		resp.Body.Close()
		if err != nil || len(worst) == 0 {
			t.Fatalf("%s: %d windows, %v", url, len(worst), err)
		}
		u := 1.0
		for _, x := range worst {
			u = min(u, x.MutatorUtil)
		}
		out = append(out, u)
	}
	return out
}
