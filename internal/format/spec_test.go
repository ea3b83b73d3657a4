package format

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/gotool"
)

func TestSpecs(t *testing.T) {
	for _, v := range Versions() {
		for ty := range 256 {
			s := v.Spec(EventType(ty))
			if s == nil {
				continue
			}
			if s.Name == "" {
				t.Errorf("%v: event %d has no name", v, ty)
			}
			if ty >= int(numEvents) && !EventType(ty).Experimental() {
				t.Errorf("%v: %s (%d) is neither in the event list nor experimental", v, s.Name, ty)
			}
			if s.IsTimed && (len(s.Args) == 0 || s.Args[0] != "dt") {
				t.Errorf("%v: timed event %s does not start with dt", v, s.Name)
			}
			if s.IsTimed && len(s.Args) > MaxTimedArgs {
				t.Errorf("%v: %s has %d args, more than MaxTimedArgs", v, s.Name, len(s.Args))
			}
			if s.IsTimed && s.HasData {
				t.Errorf("%v: %s is timed and has data", v, s.Name)
			}
			for _, i := range s.StringArgs {
				if ArgKindOf(s.Args[i]) != ArgString {
					t.Errorf("%v: %s: string arg %d is %q", v, s.Name, i, s.Args[i])
				}
			}
			for j, i := range s.StackArgs {
				if ArgKindOf(s.Args[i]) != ArgStack {
					t.Errorf("%v: %s: stack arg %d is %q", v, s.Name, i, s.Args[i])
				}
				if j == 0 && len(s.StackArgs) > 1 && s.Args[i] != "stack" {
					t.Errorf("%v: %s: first stack arg is %q, want the event's own stack", v, s.Name, s.Args[i])
				}
			}
			if s.StartEv != 0 && v.Spec(s.StartEv) == nil {
				t.Errorf("%v: %s ends a range whose start is not in the version", v, s.Name)
			}
			if EventType(ty).Experimental() != (s.Experiment != NoExperiment) {
				t.Errorf("%v: %s: experimental range and Experiment disagree", v, s.Name)
			}
		}
	}
	// Each version's table is a prefix of the next one's.
	vs := Versions()
	for i := 1; i < len(vs); i++ {
		old, cur := vs[i-1], vs[i]
		for ty := range 256 {
			if s := old.Spec(EventType(ty)); s != nil {
				if c := cur.Spec(EventType(ty)); c == nil || c.Name != s.Name {
					t.Errorf("%v has %s, %v does not", old, s.Name, cur)
				}
			}
		}
	}
	if Go122.Spec(EvSpan) != nil {
		t.Errorf("go1.22 must not know experimental events")
	}
}

func TestHeader(t *testing.T) {
	for _, v := range append(Versions(), Go111, Go119, Go121) {
		h := AppendHeader(nil, v)
		if len(h) != HeaderSize {
			t.Fatalf("%v: header is %d bytes", v, len(h))
		}
		got, err := ParseHeader(h)
		if err != nil || got != v {
			t.Errorf("ParseHeader(%q) = %v, %v; want %v", h, got, err, v)
		}
	}
	for _, bad := range []string{"", "go 1.22 trace", "go 1.x trace\x00\x00\x00\x00", "PK\x03\x04 zip file.....", "go 1.22 traze\x00\x00\x00"} {
		if _, err := ParseHeader([]byte(bad)); err == nil {
			t.Errorf("ParseHeader(%q) succeeded", bad)
		}
	}
	if _, err := ParseHeader(AppendHeader(nil, 99)); err == nil || !strings.Contains(err.Error(), "go 1.99") {
		t.Errorf("unknown version: err = %v", err)
	}
}

func TestUvarint(t *testing.T) {
	for _, tc := range []struct {
		v uint64
		n int // bytes
	}{{0, 1}, {1, 1}, {127, 1}, {128, 2}, {300, 2}, {1 << 32, 5}, {1<<64 - 1, 10}} {
		v := tc.v
		b := AppendUvarint(nil, v)
		if len(b) != tc.n {
			t.Errorf("AppendUvarint(%d) wrote %d bytes, want %d", v, len(b), tc.n)
		}
		got, n := Uvarint(b)
		if got != v || n != len(b) {
			t.Errorf("Uvarint(%x) = %d, %d; want %d, %d", b, got, n, v, len(b))
		}
		if _, n := Uvarint(b[:len(b)-1]); n != 0 {
			t.Errorf("truncated %d: n = %d, want 0", v, n)
		}
	}
	if _, n := Uvarint([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}); n >= 0 {
		t.Errorf("overflow not reported: n = %d", n)
	}
}

// GorootTests returns the trace test files that ship with the Go toolchain.
func gorootTests(t *testing.T) []string {
	// N.B. The go command's GOROOT, the Go that go tool trace belongs to.
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(goroot)), "src", "internal", "trace", "testdata", "tests", "*.test"))
	if len(files) == 0 {
		t.Skip("no trace tests in GOROOT")
	}
	return files
}

// TestAssembleMatchesGoTool assembles every trace in the Go tree's trace
// tests and has go tool trace -d=wire print it back: the text must match
// what was assembled, line for line.
func TestAssembleMatchesGoTool(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go tool trace")
	}
	dir := t.TempDir()
	for _, f := range gorootTests(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			text := traceSection(t, f)
			b, err := Assemble(text)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, filepath.Base(f)+".bin")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := gotool.Trace("-d=wire", p).Output()
			if err != nil {
				t.Fatalf("go tool trace -d=wire: %v", err)
			}
			want := normalize(string(text))[1:] // drop the "Trace Go1.NN" line
			got := normalize(string(out))
			if len(got) != len(want) {
				t.Fatalf("go tool printed %d lines, fixture has %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("line %d: go tool %q, fixture %q", i+1, got[i], want[i])
				}
			}
		})
	}
}

func traceSection(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "-- trace --\n")
	if !ok {
		t.Fatalf("%s: no trace section", path)
	}
	return []byte(after)
}

func normalize(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "data=") {
			l, _, _ = strings.Cut(l, "#")
		}
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}
