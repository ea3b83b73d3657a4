package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// diffTraces returns the committed traces of the regress program of one
// kind (base, lock, alloc, leak, go127), in name order.
func diffTraces(t *testing.T, kind string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "diff", kind+"-*.trace"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s traces: %v", kind, err)
	}
	slices.Sort(files)
	return files
}

// sides is the arguments --base FILES... --new FILES....
func sides(base, new []string) []string {
	return append(append([]string{"--base"}, base...), append([]string{"--new"}, new...)...)
}

// TestDiffGolden pins each output mode of gotrace diff: five traces a side
// with a lock held longer, and one a side.
func TestDiffGolden(t *testing.T) {
	base, lock, leak := diffTraces(t, "base"), diffTraces(t, "lock"), diffTraces(t, "leak")
	for _, tc := range []struct {
		golden string
		tty    bool
		args   []string
	}{
		{"diff-lock.golden", false, append([]string{"diff", "--top", "8"}, sides(base, lock)...)},
		{"diff-lock-styled.golden", true, append([]string{"diff", "--top", "5"}, sides(base, lock)...)},
		{"diff-leak-markdown.golden", false, append([]string{"diff", "--markdown", "--top", "6"}, sides(base, leak)...)},
		{"diff-one-a-side.golden", false, []string{"diff", "--top", "5", base[0], lock[0]}},
		{"diff-one-a-side-json.golden", false, []string{"diff", "--json", base[0], lock[0]}},
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

// TestDiffFailOn: --fail-on regression exits 3 on a significant
// regression, 0 when the two sides are the same traces.
func TestDiffFailOn(t *testing.T) {
	base, alloc := diffTraces(t, "base"), diffTraces(t, "alloc")
	_, errOut, code := statsRun(t, false, append([]string{"diff", "--fail-on", "regression"}, sides(base, alloc)...)...)
	if code != exitAssertion || !strings.HasPrefix(errOut, "gotrace: ") || !strings.HasSuffix(errOut, " metrics worse\n") {
		t.Errorf("exit %d, stderr %q; want 3 and the count of metrics worse", code, errOut)
	}
	out, errOut, code := statsRun(t, false, append([]string{"diff", "--json", "--fail-on", "regression"}, sides(base, base)...)...)
	if code != 0 {
		t.Fatalf("a set against itself: exit %d, %s", code, errOut)
	}
	var d struct {
		Worse, Better int
		Rows          []struct{ Verdict string }
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Rows {
		if r.Verdict != "~" {
			t.Fatalf("a set against itself has a row %q", r.Verdict)
		}
	}
}
