package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// TestSplitHeaderOnly: a trace without generations splits into no parts,
// with one line on stderr saying why, and exit status 0; asked for
// generations it does not have, split fails.
func TestSplitHeaderOnly(t *testing.T) {
	dir, file := writeTrace(t, format.AppendHeader(nil, format.Go126))
	prefix := filepath.Join(dir, "part")
	io, out, errOut := fakeStreams(false)
	if code := run([]string{"split", file, "-o", prefix}, io); code != exitOK {
		t.Fatalf("exit %d, stderr %q; want %d", code, errOut, exitOK)
	}
	want := "gotrace: " + file + ": no parts written: the trace has only its header, no generation"
	if e := errOut.String(); !strings.HasPrefix(e, want) || strings.Count(e, "\n") != 1 || out.Len() != 0 {
		t.Fatalf("stdout %q, stderr %q; want nothing, and one line beginning %q", out, e, want)
	}
	if names, _ := filepath.Glob(prefix + "*"); len(names) != 0 {
		t.Fatalf("wrote %v, want nothing", names)
	}
	io, _, errOut = fakeStreams(false)
	if code := run([]string{"split", file, "--gen", "1", "-o", prefix}, io); code != exitError || !strings.Contains(errOut.String(), "no generation matches") {
		t.Fatalf("--gen 1: exit %d, stderr %q; want %d and no generation matches", code, errOut, exitError)
	}
}

// TestGenerationFlipAgrees flips one bit of the generation number of a
// batch inside the second generation of a real trace: decode, split and
// stats report the same damage, at that batch's byte, and only the first
// generation as complete.
func TestGenerationFlipAgrees(t *testing.T) {
	data, err := os.ReadFile(annotatedTrace)
	if err != nil {
		t.Fatal(err)
	}
	r, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r.SetDetail(decode.Frames)
	var off int64
	for off == 0 {
		g, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if g.Num == 2 {
			off = g.Batches[2].Offset
		}
	}
	data[off+1] ^= 4 // generation 2 becomes 6
	dir, file := writeTrace(t, data)
	where := regexp.MustCompile(`byte 0x[0-9a-f]+ \(gen \d+, batch \d+\)`)
	want := fmt.Sprintf("byte %#x (gen 2, batch 2)", off)

	for _, args := range [][]string{
		{"decode", "--summary", file},
		{"split", file, "-o", filepath.Join(dir, "part")},
		{"stats", "--json", file},
	} {
		io, out, errOut := fakeStreams(false)
		code := run(args, io)
		if code != exitError || strings.Count(errOut.String(), "\n") != 1 || where.FindString(errOut.String()) != want {
			t.Errorf("%s: exit %d, stderr %q; want %d and one line naming %s", args[0], code, errOut, exitError, want)
		}
		switch args[0] {
		case "decode":
			if !strings.Contains(out.String(), "total: 1 generation,") {
				t.Errorf("decode: want one generation, have\n%s", out)
			}
		case "split":
			if names, _ := filepath.Glob(filepath.Join(dir, "part*")); len(names) != 1 {
				t.Errorf("split: wrote %v, want the first generation's part alone", names)
			}
		case "stats":
			var m struct {
				Overview struct{ Generations int } `json:"overview"`
			}
			if err := json.NewDecoder(out).Decode(&m); err != nil {
				t.Fatalf("stats: %v", err)
			}
			if m.Overview.Generations != 1 {
				t.Errorf("stats: %d complete generations, want 1", m.Overview.Generations)
			}
		}
	}
}
