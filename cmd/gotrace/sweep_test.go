package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// damaged is an input of the sweep: a name and its bytes.
type damaged struct {
	name string
	data []byte
}

// damagedInputs makes damaged copies of the trace in data: cut at every
// generation boundary and inside a batch of every generation, a batch size
// and a generation number rewritten, a bad header, trailing garbage, and
// lengths past anything the input holds.
func damagedInputs(t *testing.T, name string, data []byte) []damaged {
	t.Helper()
	dr, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dr.SetDetail(decode.Frames)
	var gens []decode.Generation
	for {
		g, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		gens = append(gens, *g.Clone())
	}
	var out []damaged
	add := func(what string, b []byte) { out = append(out, damaged{name + "/" + what, b}) }
	// rewrite returns data with field k (0 gen, 1 m, 2 time, 3 size) of
	// the header of batch b replaced by v in the same number of bytes.
	rewrite := func(b decode.Batch, k int, v uint64) []byte {
		c := bytes.Clone(data)
		i := int(b.Offset) + 1
		for range k {
			_, n := format.Uvarint(c[i:])
			i += n
		}
		_, n := format.Uvarint(c[i:])
		copy(c[i:i+n], format.AppendUvarintN(nil, v, n))
		return c
	}
	for i, g := range gens {
		add("cut-after-gen"+itoa(i+1), data[:g.End])
		var big decode.Batch
		for _, b := range g.Batches {
			if b.Size > big.Size {
				big = b
			}
		}
		add("cut-in-gen"+itoa(i+1), data[:big.Offset+int64(big.Size)/2+4])
		// An event type no version has, inside the batch: framing
		// alone does not see it.
		if ev := firstEvent(t, data, g.Num, big.Offset); ev > 0 {
			c := bytes.Clone(data)
			c[ev] = 0
			add("event-type-in-gen"+itoa(i+1), c)
		}
		add("size-in-gen"+itoa(i+1), rewrite(big, 3, 1<<40))
		if i > 0 {
			add("gen-number-in-gen"+itoa(i+1), rewrite(big, 0, g.Num+1))
		}
	}
	add("cut-header", data[:10])
	add("bad-header", append([]byte("go 1.99 trace\x00\x00\x00"), data[16:]...))
	add("not-a-trace", []byte("hello, world\n"))
	add("trailing-garbage", append(bytes.Clone(data), bytes.Repeat([]byte{0xff}, 64)...))
	return out
}

// firstEvent is the offset of the first event of the batch at off in
// generation gen of data, or 0 if it has none.
func firstEvent(t *testing.T, data []byte, gen uint64, off int64) int64 {
	t.Helper()
	dr, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dr.SetDetail(decode.Full)
	for {
		g, err := dr.Next()
		if err != nil {
			return 0
		}
		if g.Num != gen {
			continue
		}
		for _, b := range g.Batches {
			if b.Offset == off && len(b.Events) > 0 {
				return b.Events[0].Offset
			}
		}
		return 0
	}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

// completeGenerations is how many generations of data the decoder reads
// whole, events included: the number every command must report or keep.
func completeGenerations(data []byte) int {
	dr, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		return 0
	}
	dr.SetDetail(decode.Counts)
	n := 0
	for {
		if _, err := dr.Next(); err != nil {
			return n
		}
		n++
	}
}

// TestSweepDamagedInputs runs every command form over every damaged input
// and checks what the README promises: no panic; exit 0, or 1 with one line
// on stderr naming the file and a byte; an output file only where the
// command keeps what the complete generations hold (and then a valid one);
// and the same number of complete generations from decode, stats and split.
func TestSweepDamagedInputs(t *testing.T) {
	oneLine := regexp.MustCompile(`^gotrace: [^\n]*byte 0x[0-9a-f]+[^\n]*\n$`)
	for _, src := range []string{"demo.trace", "annotated.trace"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "traces", src))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range damagedInputs(t, strings.TrimSuffix(src, ".trace"), data) {
			t.Run(in.name, func(t *testing.T) {
				dir, file := writeTrace(t, in.data)
				want := completeGenerations(in.data)
				out := func(n string) string { return filepath.Join(dir, n) }
				for _, c := range []struct {
					args   []string
					output string // the file the command writes, if any
				}{
					{args: []string{"decode", file}},
					{args: []string{"decode", "--summary", file}},
					{args: []string{"decode", "--json", file}},
					{args: []string{"stats", file}},
					{args: []string{"stats", "--json", file}},
					{args: []string{"check", file, "--assert", "goroutines.leaked >= 0"}},
					{args: []string{"pprof", "--type", "cpu", file, "-o", out("cpu.pb.gz")}, output: out("cpu.pb.gz")},
					{args: []string{"pprof", "--type", "sched", file, "-o", out("sched.pb.gz")}, output: out("sched.pb.gz")},
					{args: []string{"pprof", "--type", "region", file, "-o", out("region.pb.gz")}, output: out("region.pb.gz")},
					{args: []string{"export", "--format", "chrome", file, "-o", out("trace.json")}, output: out("trace.json")},
					{args: []string{"export", "--format", "perfetto", file, "-o", out("trace.pftrace")}, output: out("trace.pftrace")},
					{args: []string{"split", file, "-o", out("part")}},
					{args: []string{"goroutines", "--json", file}},
					{args: []string{"goroutine", file, "1"}},
					{args: []string{"at", file, "1ms"}},
					{args: []string{"tasks", file}},
					{args: []string{"why", "--task", "1", file}},
				} {
					io, stdout, errOut := fakeStreams(false)
					code := run(c.args, io)
					switch {
					case code == exitOK:
					case code == exitError || code == exitAssertion && c.args[0] == "check":
						if code == exitError && !oneLine.MatchString(errOut.String()) {
							t.Errorf("%v: stderr %q, want one line naming a byte", c.args, errOut)
						}
					default:
						t.Errorf("%v: exit %d, stderr %q", c.args, code, errOut)
					}
					if c.output != "" {
						checkSweepOutput(t, c.args, c.output, code, want)
					}
					switch c.args[0] {
					case "stats":
						if c.args[1] == "--json" {
							var m struct {
								Overview struct{ Generations int } `json:"overview"`
							}
							if err := json.Unmarshal(stdout.Bytes(), &m); err == nil && m.Overview.Generations != want {
								t.Errorf("stats: %d complete generations, the decoder reads %d", m.Overview.Generations, want)
							}
						}
					case "split":
						parts, _ := filepath.Glob(out("part.*.trace"))
						if len(parts) != want {
							t.Errorf("split: %d parts, the decoder reads %d complete generations", len(parts), want)
						}
						for _, p := range parts {
							b, _ := os.ReadFile(p)
							if completeGenerations(b) != 1 {
								t.Errorf("split: part %s is not one whole generation", filepath.Base(p))
							}
							os.Remove(p)
						}
					}
				}
			})
		}
	}
}

// checkSweepOutput checks the file a command wrote, if any: after a failure
// only a command that keeps the complete generations leaves one, and it is
// whole.
func checkSweepOutput(t *testing.T, args []string, path string, code, complete int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		if code == exitOK || complete > 0 {
			t.Errorf("%v: exit %d and no %s, where %d generations are complete", args, code, filepath.Base(path), complete)
		}
		return
	}
	defer os.Remove(path)
	if code != exitOK && complete == 0 && args[0] == "export" {
		return // a timeline of nothing, still well-formed below
	}
	switch {
	case strings.HasSuffix(path, ".pb.gz"):
		if _, err := profile.ParseData(b); err != nil {
			t.Errorf("%v: %s is not a profile: %v", args, filepath.Base(path), err)
		}
	case strings.HasSuffix(path, ".json"):
		if !json.Valid(b) {
			t.Errorf("%v: %s is not valid JSON", args, filepath.Base(path))
		}
	default:
		if len(b) == 0 {
			t.Errorf("%v: %s is empty", args, filepath.Base(path))
		}
	}
}
