package report

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"

	"github.com/gotrace-cli/gotrace/internal/drill"
)

// TestJSONRows: a list written a row at a time is the document writeJSON
// writes whole, byte for byte.
func TestJSONRows(t *testing.T) {
	all := []drill.Goroutine{
		{ID: 1, Name: "main.main", Kind: "user", Creator: -1, Ended: -1, StateAtEnd: "blocked", ReasonAtEnd: "chan receive",
			Blocked: time.Second, BlockedByCat: map[string]time.Duration{"channel": time.Second, "mutex": 0}},
		{ID: 7, Incarnation: 2, Name: "main.<lambda>&co", Kind: "user", Creator: 1, Ended: 5, StateAtEnd: "ended",
			Running: 3, BlockedByCat: map[string]time.Duration{}},
		{ID: 9, Kind: "runtime", Existed: true, Creator: -1, Ended: -1, StateAtEnd: "running", BlockedByCat: map[string]time.Duration{}},
	}
	for n := range len(all) + 1 {
		rows := all[:n]
		var whole, byRow bytes.Buffer
		if err := writeJSON(&whole, GoroutineList{Schema: drill.GoroutinesSchema, File: "f.trace", Total: 10, Goroutines: rows}); err != nil {
			t.Fatal(err)
		}
		err := writeJSONRows(&byRow, GoroutineList{Schema: drill.GoroutinesSchema, File: "f.trace", Total: 10, Goroutines: []drill.Goroutine{}},
			n, func(i int) any { return rows[i] })
		if err != nil {
			t.Fatal(err)
		}
		if byRow.String() != whole.String() {
			t.Errorf("%d rows:\n%s\nwhole:\n%s", n, byRow.String(), whole.String())
		}
	}
}

// TestLongTables: a table whose rows are read as it is drawn is drawn as
// the same table held whole: plain and Markdown byte for byte, styled (in
// chunks of rows, each padded to the whole table's widths) the same text
// once the colours are taken out, with and without a terminal width to fit.
func TestLongTables(t *testing.T) {
	const n = 2*styledChunk + 37
	head := []string{"ID", "Start function", "Kind", "Running"}
	right := []bool{true, false, false, true}
	cells := func(i int) []string {
		name := "main.worker" + strings.Repeat("x", i%53)
		if i == n-1 {
			name = "main.(*server).handle.func" + strings.Repeat("7", 40)
		}
		return []string{strconv.Itoa(i * 7919 % 100003), name, []string{"user", "runtime"}[i%2], time.Duration(i * i).String()}
	}
	held := &tbl{head: head, right: right}
	for i := range n {
		held.row(cells(i)...)
	}
	read := &tbl{head: head, right: right, n: n, at: cells}
	draw := func(tb *tbl, mode Mode, width int) string {
		var b bytes.Buffer
		d := &doc{title: "t", sections: []section{{title: "s", blocks: []block{{table: tb}}}}}
		if err := d.render(&b, mode, width); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, mode := range []Mode{Plain, Markdown} {
		if got, want := draw(read, mode, 0), draw(held, mode, 0); got != want {
			t.Errorf("mode %v: the table read row by row differs from the one held", mode)
		}
	}
	csi := regexp.MustCompile("\x1b\\[[0-9;]*m")
	for _, width := range []int{0, 70} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		styledTableChunked(w, read, NewTheme(Styled), width)
		w.Flush()
		got := csi.ReplaceAllString(b.String(), "")
		want := csi.ReplaceAllString(indent(styledTable(held, NewTheme(Styled), width), "  ")+"\n", "")
		if got != want {
			gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("width %d: line %d:\n%q\nwant\n%q", width, i, gl[i], wl[i])
				}
			}
			t.Fatalf("width %d: %d lines, want %d", width, len(gl), len(wl))
		}
		if width > 0 {
			for i, l := range strings.Split(strings.TrimRight(got, "\n"), "\n") {
				if runewidth.StringWidth(l) > width {
					t.Fatalf("width %d: line %d is %d wide", width, i, runewidth.StringWidth(l))
				}
			}
		}
	}
}
