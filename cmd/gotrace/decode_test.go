package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/gotrace-cli/gotrace/internal/golden"
	"github.com/gotrace-cli/gotrace/internal/gotool"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// smallTrace builds a two-generation Go 1.26 trace with one of everything
// decode prints: clock, strings that need quoting, stacks, a CPU sample,
// the AllocFree type table and heap parameters, and a few events.
func smallTrace(t *testing.T) []byte {
	t.Helper()
	e := format.NewEncoder(format.Go126)
	for gen := uint64(1); gen <= 2; gen++ {
		base := 1000 * gen
		e.Batch(gen, format.NoThread, base, func(b *format.Encoder) {
			b.Event(format.EvSync, nil, nil)
			b.Event(format.EvFrequency, []uint64{15625000}, nil)
			b.Event(format.EvClockSnapshot, []uint64{1, 64000 * gen, 1767225600, 500}, nil)
		})
		e.Batch(gen, format.NoThread, base+1, func(b *format.Encoder) {
			b.Event(format.EvStrings, nil, nil)
			for i, s := range []string{"main.main", "main.go", "chan receive", "job", "main.worker", "say \"hi\"\tnow ☺"} {
				b.Event(format.EvString, []uint64{uint64(i + 1)}, []byte(s))
			}
		})
		e.Batch(gen, format.NoThread, base+2, func(b *format.Encoder) {
			b.Event(format.EvStacks, nil, nil)
			b.Event(format.EvStack, []uint64{1, 1, 0x401000, 1, 2, 10}, nil)
			b.Event(format.EvStack, []uint64{2, 2, 0x402000, 5, 2, 20, 0x401010, 1, 2, 11}, nil)
		})
		e.Batch(gen, format.NoThread, base+3, func(b *format.Encoder) {
			b.Event(format.EvCPUSamples, nil, nil)
			b.Event(format.EvCPUSample, []uint64{base + 40, 3, 0, 1, 2}, nil)
		})
		if gen == 1 {
			types := []byte{format.AllocFreeTypesBatch}
			for _, v := range []uint64{7, 0x4c2a00, 32, 8, 9} {
				types = format.AppendUvarint(types, v)
			}
			types = append(types, "main.node"...)
			e.Event(format.EvExperimentalBatch, []uint64{uint64(format.AllocFree), gen, 3, base + 4}, types)
			info := []byte{format.AllocFreeInfoBatch}
			for _, v := range []uint64{0xc000000000, 8192, 8, 2048} {
				info = format.AppendUvarint(info, v)
			}
			e.Event(format.EvExperimentalBatch, []uint64{uint64(format.AllocFree), gen, 3, base + 5}, info)
		}
		e.Batch(gen, 3, base+10, func(b *format.Encoder) {
			b.Event(format.EvProcStatus, []uint64{1, 0, uint64(format.ProcRunning)}, nil)
			b.Event(format.EvGoStatus, []uint64{1, 1, 3, uint64(format.GoRunning)}, nil)
			b.Event(format.EvUserTaskBegin, []uint64{2, 1, 0, 4, 1}, nil)
			b.Event(format.EvGoCreate, []uint64{5, 2, 2, 1}, nil)
			b.Event(format.EvGoBlock, []uint64{7, 3, 1}, nil)
			b.Event(format.EvGoStart, []uint64{3, 2, 1}, nil)
			b.Event(format.EvUserLog, []uint64{2, 1, 4, 6, 2}, nil)
			b.Event(format.EvHeapAlloc, []uint64{9, 4 << 20}, nil)
			b.Event(format.EvGoDestroy, []uint64{4}, nil)
			b.Event(format.EvProcStop, []uint64{1}, nil)
		})
		e.Event(format.EvEndOfGeneration, nil, nil)
	}
	data, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeRun runs gotrace decode with args on file through fake streams.
func decodeRun(t *testing.T, tty, noColor bool, stdin io.Reader, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	io := &Streams{In: stdin, Out: &out, ErrOut: &errOut, OutTTY: tty, NoColor: noColor, Width: 100, Getenv: func(string) string { return "" }}
	code := run(append([]string{"decode"}, args...), io)
	return out.String(), errOut.String(), code
}

func writeTrace(t *testing.T, data []byte) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	file = filepath.Join(dir, "small.trace")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

// TestDecodeGolden pins the output of each mode for the small trace.
func TestDecodeGolden(t *testing.T) {
	dir, file := writeTrace(t, smallTrace(t))
	for _, tc := range []struct {
		golden string
		tty    bool
		args   []string
	}{
		{"decode.golden", false, nil},
		{"decode-summary.golden", false, []string{"--summary"}},
		{"decode-json.golden", false, []string{"--json"}},
		{"decode-tables-gen2.golden", false, []string{"--tables", "--gen", "2"}},
		{"decode-events-type.golden", false, []string{"--events", "--type", "GoCreate,GoBlock"}},
		{"decode-styled.golden", true, nil},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := decodeRun(t, tc.tty, false, nil, append(tc.args, file)...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			out = strings.ReplaceAll(out, dir+string(filepath.Separator), "")
			checkGolden(t, filepath.Join("testdata", "golden", tc.golden), out)
		})
	}
}

// checkGolden compares got with the golden file, or rewrites it with
// -update. On a mismatch it writes got beside it as a .got file.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	golden.Check(t, path, got, *updateGolden)
}

// TestRunDecodeStreams runs decode directly with terminal and
// non-terminal streams: colour only on a terminal without NO_COLOR.
func TestRunDecodeStreams(t *testing.T) {
	_, file := writeTrace(t, smallTrace(t))
	for _, tc := range []struct {
		name         string
		tty, noColor bool
		styled       bool
	}{
		{"pipe", false, false, false},
		{"terminal", true, false, true},
		{"terminal NO_COLOR", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			opts := &decodeOptions{IO: &Streams{Out: &out, ErrOut: &errOut, OutTTY: tc.tty, NoColor: tc.noColor}, File: file}
			if err := runDecode(opts); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tc.styled {
				t.Fatalf("escape codes: %v, want %v", got, tc.styled)
			}
			if !strings.Contains(out.String(), "generation 2") || !strings.Contains(out.String(), "main.node") {
				t.Fatalf("output lacks the second generation or the type table:\n%s", out.String())
			}
		})
	}
}

// TestRunDecodeDamaged: a damaged trace prints what it can and returns an
// error that becomes exit status 1 and one stderr line.
func TestRunDecodeDamaged(t *testing.T) {
	data := smallTrace(t)
	_, file := writeTrace(t, data[:len(data)-10])
	var out bytes.Buffer
	err := runDecode(&decodeOptions{IO: &Streams{Out: &out, ErrOut: io.Discard}, File: file, Summary: true})
	var de *decode.Error
	if !errors.As(err, &de) || !decode.IsTruncated(err) {
		t.Fatalf("error %v, want a truncation *decode.Error", err)
	}
	if exitCode(err) != exitError {
		t.Fatalf("exit code %d, want %d", exitCode(err), exitError)
	}
	if line := errorLine(err); !strings.HasPrefix(line, "gotrace: "+file+": byte 0x") || !strings.Contains(line, "% of the file)") {
		t.Fatalf("error line %q", line)
	}
	if !strings.Contains(out.String(), "total: 1 generation,") {
		t.Fatalf("first generation not printed:\n%s", out.String())
	}
	// Through stdin the size is learnt by reading to the end.
	o, e, code := decodeRun(t, false, false, bytes.NewReader(data[:len(data)-10]), "--summary", "-")
	if code != exitError || !strings.Contains(e, "lost ") || !strings.Contains(o, "total: 1 generation,") {
		t.Fatalf("stdin: exit %d, stderr %q, stdout %q", code, e, o)
	}
}

// TestDecodeExitCodes: 0 for a complete trace, 1 for bad input, 2 for a
// wrong command line, each failure with one line on stderr.
func TestDecodeExitCodes(t *testing.T) {
	data := smallTrace(t)
	dir, file := writeTrace(t, data)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{file}, exitOK},
		{[]string{"--json", "--gen", "2", file}, exitOK},
		{[]string{"--summary", "-"}, exitError}, // stdin is empty
		{[]string{filepath.Join(dir, "nosuch.trace")}, exitError},
		{[]string{dir}, exitError},
		{[]string{"--gen", "9", file}, exitError},
		{[]string{"--summary", "--tables", file}, exitUsage},
		{[]string{"--summary", "--type", "GoCreate", file}, exitUsage},
		{[]string{"--type", "NoSuchEvent", file}, exitUsage},
		{[]string{"--gen", "3-1", file}, exitUsage},
		{[]string{file, file}, exitUsage},
	} {
		_, errOut, code := decodeRun(t, false, false, nil, tc.args...)
		if code != tc.code {
			t.Errorf("decode %q: exit %d, want %d (stderr %q)", tc.args, code, tc.code, errOut)
		}
		if lines := strings.Count(errOut, "\n"); (code == exitOK) != (lines == 0) || lines > 1 {
			t.Errorf("decode %q: exit %d with stderr %q, want one line on failure only", tc.args, code, errOut)
		}
	}
}

// TestDecodeSummaryFindsEventDamage: damage inside a batch's events, which
// framing alone does not see, ends --summary where it ends the other modes,
// with the same line, from a file and from a pipe.
func TestDecodeSummaryFindsEventDamage(t *testing.T) {
	data := smallTrace(t)
	dr, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var at int64 = -1
	for {
		g, err := dr.Next()
		if err != nil {
			break
		}
		for _, b := range g.Batches {
			for _, ev := range b.Events {
				if g.Num == 2 && ev.Type == format.EvGoBlock {
					at = ev.Offset
				}
			}
		}
	}
	if at < 0 {
		t.Fatal("no GoBlock in generation 2")
	}
	bad := bytes.Clone(data)
	bad[at] = 0 // no event type is 0
	_, file := writeTrace(t, bad)
	want := func(e string) string { return strings.SplitN(e, "; lost", 2)[0] }
	_, full, code := decodeRun(t, false, false, nil, file)
	if code != exitError || !strings.Contains(full, "unknown event type 0") {
		t.Fatalf("decode: exit %d, stderr %q", code, full)
	}
	for _, args := range [][]string{{"--summary", file}, {"--summary", "--json", file}} {
		o, e, code := decodeRun(t, false, false, nil, args...)
		if code != exitError || e != full {
			t.Errorf("decode %v: exit %d, stderr %q, want %q", args, code, e, full)
		}
		if !strings.Contains(o, "1 generation") && !strings.Contains(o, `"generations":1,`) {
			t.Errorf("decode %v: want the first generation alone:\n%s", args, o)
		}
	}
	o, e, code := decodeRun(t, false, false, bytes.NewReader(bad), "--summary", "-")
	if code != exitError || want(e) != want(strings.Replace(full, file, "-", 1)) || !strings.Contains(o, "total: 1 generation,") {
		t.Errorf("stdin: exit %d, stderr %q, stdout %q", code, e, o)
	}
}

// TestSummaryEventsMatchWire: the events --summary counts in each
// generation are the lines go tool trace -d=wire lists for it, batch
// headers aside (a stack's frames and a string's data are not lines of
// their own there: their first word has an =).
func TestSummaryEventsMatchWire(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "traces", "*.trace"))
	if len(files) == 0 {
		t.Fatal("no committed traces")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, err := gotool.Trace("-d=wire", file).Output()
			if err != nil {
				t.Skipf("go tool trace -d=wire: %v", err)
			}
			want := map[int]int{}
			gen := 0
			for line := range strings.Lines(string(out)) {
				if line == "" || line[0] == ' ' || line[0] == '\t' {
					continue
				}
				fields := strings.Fields(line)
				switch {
				case fields[0] == "EventBatch" || fields[0] == "ExperimentalBatch":
					for _, f := range fields[1:] {
						if v, ok := strings.CutPrefix(f, "gen="); ok {
							gen, _ = strconv.Atoi(v)
						}
					}
				case !strings.Contains(fields[0], "="):
					want[gen]++
				}
			}
			o, e, code := decodeRun(t, false, false, nil, "--summary", "--json", file)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, e)
			}
			got := map[int]int{}
			for line := range strings.Lines(o) {
				var g struct {
					Kind   string
					Gen    int
					Events int
				}
				if err := json.Unmarshal([]byte(line), &g); err != nil {
					t.Fatal(err)
				}
				if g.Kind == "generation" {
					got[g.Gen] = g.Events
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("events by generation: --summary %v, go tool trace -d=wire %v", got, want)
			}
		})
	}
}
