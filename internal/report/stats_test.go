package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/stats"
)

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtInt(-1234), "-1,234"},
		{fmtInt(999), "999"},
		{fmtPct(1, 3), "33.3%"},
		{fmtPct(1, 0), "–"},
		{mdEscape("a|b *c* <d>"), `a\|b \*c\* &lt;d&gt;`},
		{shortStack(nil, 0), "(no stack)"},
		{shortStack([]stats.Frame{{Func: "a"}, {Func: "b"}, {Func: "c"}, {Func: "d"}}, 0), "a < b (+2)"},
		{shortStack([]stats.Frame{{Func: "a"}, {Func: "b"}, {Func: "c"}, {Func: "d"}}, 3), "a < b < c (+1)"},
		{shortStack([]stats.Frame{{Func: "a"}, {Func: "b"}, {Func: "c"}, {Func: "d"}}, -1), "a < b < c < d"},
		{shortStack([]stats.Frame{{Func: "runtime.gopark"}, {Func: "runtime.chanrecv"}, {Func: "runtime.chanrecv1"}, {Func: "net/http.x"}, {Func: "main.worker"}, {Func: "runtime.goexit"}}, 0),
			"runtime.gopark < runtime.chanrecv < …2… < main.worker (+1)"},
		{shortStack([]stats.Frame{{Func: "runtime.gopark"}, {Func: "main.f"}, {Func: "main.g"}}, 0), "runtime.gopark < main.f (+1)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestStatsJSONSections keeps only the chosen sections' objects and never
// writes null for a list.
func TestStatsJSONSections(t *testing.T) {
	m := &stats.Model{File: "x.trace"}
	var b bytes.Buffer
	if err := Stats(&b, m, StatsOptions{Options: Options{Mode: JSON}, Sections: []string{"gc"}}); err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "file", "sections", "damage", "gc", "heap"} {
		if _, ok := got[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	for _, k := range []string{"overview", "goroutines", "sched", "findings"} {
		if _, ok := got[k]; ok {
			t.Errorf("key %q present with --section gc", k)
		}
	}
	if strings.Contains(b.String(), "null") {
		t.Errorf("null in JSON:\n%s", b.String())
	}
}

// TestPlainHasNoBoxDrawing: plain text is aligned columns only.
func TestPlainHasNoBoxDrawing(t *testing.T) {
	d := &doc{title: "t"}
	s := section{title: "S"}
	tb := &tbl{head: []string{"Name", "N"}, right: []bool{false, true}}
	tb.row("alpha", "1")
	tb.row("b", "1,000")
	s.add(tb)
	d.sections = append(d.sections, s)
	var b bytes.Buffer
	if err := d.render(&b, Plain, 80); err != nil {
		t.Fatal(err)
	}
	want := "t\n\nS\n  Name       N\n  alpha      1\n  b      1,000\n"
	if b.String() != want {
		t.Errorf("plain =\n%q\nwant\n%q", b.String(), want)
	}
}

// TestWallStartUnknown says why a trace has no wall-clock start: its
// version writes no clock snapshot, or no generation with one survived.
func TestWallStartUnknown(t *testing.T) {
	for _, c := range []struct{ version, want string }{
		{"go1.21", "Started      unknown (no clock snapshot before Go 1.25)"},
		{"go1.23", "Started      unknown (no clock snapshot before Go 1.25)"},
		{"go1.26", "Started      unknown (no complete generation with a clock snapshot)"},
	} {
		if got := overviewOf(t, c.version); !strings.Contains(got, c.want) {
			t.Errorf("%s: no line %q in\n%s", c.version, c.want, got)
		}
	}
}

// TestNoGenerations: a v2 trace that ends after its header is not taken
// for the old format.
func TestNoGenerations(t *testing.T) {
	for _, c := range []struct{ version, want string }{
		{"go1.21", "No wire tables: footprint and generations need the Go 1.22+ format."},
		{"go1.22", "No generations: the trace ends after its header."},
		{"go1.26", "No generations: the trace ends after its header."},
	} {
		if got := overviewOf(t, c.version); !strings.Contains(got, c.want) {
			t.Errorf("%s: no line %q in\n%s", c.version, c.want, got)
		}
	}
}

// overviewOf is the plain overview of an empty model of the given version.
func overviewOf(t *testing.T, version string) string {
	t.Helper()
	m := &stats.Model{File: "x.trace"}
	m.Overview.Version = version
	var b bytes.Buffer
	if err := Stats(&b, m, StatsOptions{Options: Options{Mode: Plain}, Sections: []string{"overview"}}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDistinctStacks: two different network waits whose innermost frames
// are the same do not print the same.
func TestDistinctStacks(t *testing.T) {
	read := []stats.Frame{{Func: "internal/poll.(*FD).Read"}, {Func: "net.(*netFD).Read"}, {Func: "net.(*conn).Read"}, {Func: "bufio.(*Reader).fill"}}
	client := append(slices.Clone(read), stats.Frame{Func: "net/http.(*persistConn).readLoop"})
	server := append(slices.Clone(read), stats.Frame{Func: "net/http.(*conn).serve"})
	lines := distinctStacks([][]stats.Frame{client, server}, 0)
	if lines[0] == lines[1] {
		t.Fatalf("both print %q", lines[0])
	}
	for i, want := range []string{"net/http.(*persistConn).readLoop", "net/http.(*conn).serve"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q lacks %s", i, lines[i], want)
		}
	}
}
