package decode

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestPeerWire decodes every trace test of the Go tree and compares the
// event stream with go tool trace -d=wire, line for line. Their
// expectations are about semantics (goroutine states), not framing, so
// every one must decode completely.
func TestPeerWire(t *testing.T) {
	for _, file := range peerTests(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, _ := assembleTest(t, file)
			err := compareWire(t, name, data)
			// One test ends in the header of a batch whose bytes are
			// missing; go tool trace prints up to that header.
			if err != nil && !(name == "go122-fail-first-gen-first.test" && IsTruncated(err)) {
				t.Fatalf("%s: %v", name, err)
			}
		})
	}
}

var _ = bytes.NewReader

// TestRealWire compares the committed real traces with go tool trace
// -d=wire. Traces damaged on purpose may sit beside them: those must still
// agree up to the damage.
func TestRealWire(t *testing.T) {
	files, err := filepath.Glob("../../testdata/traces/*.trace")
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed traces: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			err = compareWire(t, name, data)
			if err != nil && (name == "demo.trace" || name == "allocfree.trace") {
				t.Fatal(err)
			}
		})
	}
}

// TestFreshWire records a trace with the machine's own Go and compares it
// with go tool trace -d=wire, so the decoder keeps up as Go moves.
func TestFreshWire(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	for _, prog := range []struct{ name, godebug string }{
		{"demo", ""},
		{"allocfree", "traceallocfree=1"},
	} {
		t.Run(prog.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), prog.name+".trace")
			cmd := exec.Command(filepath.Join(gorootDir(t), "bin", "go"), "run", "../../testdata/progs/"+prog.name, file)
			cmd.Env = append(os.Environ(), "GODEBUG="+prog.godebug)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go run %s: %v\n%s", prog.name, err, out)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := compareWire(t, prog.name, data); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDetails reads each committed trace with every Detail: Counts with
// BatchEvents gives the events Full gives, and Frames the same framing and
// tables without the count.
func TestDetails(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/traces/*.trace")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		want, _, err := decodeAll(t, bytes.NewReader(data))
		if err != nil {
			continue // damaged on purpose: TestRealWire covers it
		}
		for _, d := range []Detail{Full, Counts, Frames} {
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			r.SetDetail(d)
			var got, each []byte
			for {
				g, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if (d == Frames) != (g.Events < 0) {
					t.Fatalf("%s: detail %d: Events = %d", file, d, g.Events)
				}
				// Render each batch with the events BatchEvents
				// returns, before the next call reuses them.
				for i := range g.Batches {
					evs, err := r.BatchEvents(g, i)
					if err != nil {
						t.Fatal(err)
					}
					b := g.Batches[i]
					b.Events = evs
					got = appendWire(got, &Generation{Version: g.Version, Num: g.Num, Batches: []Batch{b}})
					// EachEvent lends each event for the call only:
					// keep copies.
					var kept []Event
					err = r.EachEvent(g, i, func(ev *Event) error {
						c := *ev
						c.Args = append([]uint64(nil), ev.Args...)
						if ev.Data != nil {
							c.Data = append([]byte{}, ev.Data...)
						}
						kept = append(kept, c)
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					b.Events = kept
					each = appendWire(each, &Generation{Version: g.Version, Num: g.Num, Batches: []Batch{b}})
				}
			}
			if string(got) != want {
				t.Fatalf("%s: detail %d with BatchEvents decodes differently from Full", file, d)
			}
			if string(each) != want {
				t.Fatalf("%s: detail %d with EachEvent decodes differently from Full", file, d)
			}
		}
	}
}

// TestClone keeps generations past the next call to Next with Clone: they
// render as they did when they were current.
func TestClone(t *testing.T) {
	for _, name := range []string{"demo.trace", "allocfree.trace"} {
		data := fixture(t, name)
		want, _, err := decodeAll(t, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var kept []*Generation
		for {
			g, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			kept = append(kept, g.Clone())
		}
		var got []byte
		for _, g := range kept {
			got = appendWire(got, g)
			if len(g.Stacks) == 0 || len(g.Strings) == 0 || g.Frequency == 0 {
				t.Fatalf("%s: clone of generation %d lost its tables", name, g.Num)
			}
		}
		if string(got) != want {
			t.Fatalf("%s: cloned generations render differently", name)
		}
	}
}

// TestFixtures runs the fixtures in testdata: each is a trace in text form
// and what decoding it must give, SUCCESS or FAILURE "regexp" matched
// against the error. Generations before a failure must be delivered as go
// tool trace -d=wire prints them.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, expect := assembleTest(t, file)
			_, err := readAll(t, data)
			switch {
			case expect == "SUCCESS":
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				if err := compareWire(t, name, data); err != nil {
					t.Fatal(err)
				}
			case strings.HasPrefix(expect, "FAILURE "):
				pat, perr := strconv.Unquote(strings.TrimPrefix(expect, "FAILURE "))
				if perr != nil {
					t.Fatalf("bad expectation %q: %v", expect, perr)
				}
				if err == nil || !regexp.MustCompile(pat).MatchString(err.Error()) {
					t.Fatalf("got error %v, want one matching %q", err, pat)
				}
			default:
				t.Fatalf("bad expectation %q", expect)
			}
		})
	}
}
