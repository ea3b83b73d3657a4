package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
)

const mutexWaitTrace = "../../testdata/drill/mutexwait.trace"

// TestGoroutineAtGolden pins each output of gotrace goroutine and gotrace
// at for the mutexwait program: a worker's life, and the world midway
// through a hold of the lock, in the first generation and in the second
// (where what began in the first is looked back for).
func TestGoroutineAtGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		tty    bool
		args   []string
	}{
		{"goroutine.golden", false, []string{"goroutine", mutexWaitTrace, "23"}},
		{"goroutine-styled.golden", true, []string{"goroutine", mutexWaitTrace, "23"}},
		{"goroutine-markdown.golden", false, []string{"goroutine", "--markdown", mutexWaitTrace, "23"}},
		{"goroutine-json.golden", false, []string{"goroutine", "--json", mutexWaitTrace, "23"}},
		{"goroutine-ndjson.golden", false, []string{"goroutine", "--ndjson", mutexWaitTrace, "23"}},
		{"goroutine-main-full-stacks.golden", false, []string{"goroutine", "--full-stacks", mutexWaitTrace, "1"}},
		{"at.golden", false, []string{"at", mutexWaitTrace, "300ms"}},
		{"at-styled.golden", true, []string{"at", mutexWaitTrace, "300ms"}},
		{"at-markdown.golden", false, []string{"at", "--markdown", "--top", "4", mutexWaitTrace, "300ms"}},
		{"at-json.golden", false, []string{"at", "--json", mutexWaitTrace, "1.2s"}},
		{"at-gen2.golden", false, []string{"at", "--top", "0", mutexWaitTrace, "1.2s"}},
		{"at-gen2-lookback-0.golden", false, []string{"at", "--top", "0", "--lookback", "0", mutexWaitTrace, "1.2s"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := statsRun(t, tc.tty, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			checkGolden(t, filepath.Join("testdata", "golden", tc.golden), out)
		})
	}
}

// TestAtWithoutClock: a trace from before Go 1.25 has no clock snapshot,
// so a wall-clock instant is an error that says so; a duration works.
func TestAtWithoutClock(t *testing.T) {
	data, err := reftest.LifeTrace()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "life.trace")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := statsRun(t, false, "at", path, "05:00:00"); code != exitError || !strings.Contains(errOut, "the trace has no clock snapshot") {
		t.Errorf("wall clock: exit %d, %q", code, errOut)
	}
	out, errOut, code := statsRun(t, false, "at", path, "59ns")
	if code != 0 || !strings.Contains(out, "chan receive") {
		t.Errorf("59ns: exit %d, %q %q", code, out, errOut)
	}
	if out, errOut, code := statsRun(t, false, "goroutine", path, "2"); code != 0 || !strings.Contains(out, "Created         +9ns by 1") {
		t.Errorf("goroutine 2: exit %d, %q %q", code, out, errOut)
	}
}

// TestGoroutineMatchesGoroutinesJSON: for every goroutine of the
// mutexwait trace, gotrace goroutine --json has the row gotrace goroutines
// --json gives it, field for field.
func TestGoroutineMatchesGoroutinesJSON(t *testing.T) {
	out, errOut, code := statsRun(t, false, "goroutines", "--json", "--top", "0", mutexWaitTrace)
	if code != 0 {
		t.Fatalf("goroutines: exit %d: %s", code, errOut)
	}
	var list struct {
		Goroutines []map[string]any `json:"goroutines"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Goroutines) == 0 {
		t.Fatal("no goroutines")
	}
	for _, row := range list.Goroutines {
		label := fmt.Sprintf("%v.%v", row["id"], row["incarnation"])
		out, errOut, code := statsRun(t, false, "goroutine", "--json", mutexWaitTrace, label)
		if code != 0 {
			t.Fatalf("goroutine %s: exit %d: %s", label, code, errOut)
		}
		var lives struct {
			Goroutines []map[string]any `json:"goroutines"`
		}
		if err := json.Unmarshal([]byte(out), &lives); err != nil {
			t.Fatal(err)
		}
		if len(lives.Goroutines) != 1 {
			t.Fatalf("goroutine %s: %d goroutines", label, len(lives.Goroutines))
		}
		for k, v := range row {
			if got := lives.Goroutines[0][k]; !reflect.DeepEqual(got, v) {
				t.Errorf("goroutine %s: %s %v, gotrace goroutines %v", label, k, got, v)
			}
		}
	}
}
