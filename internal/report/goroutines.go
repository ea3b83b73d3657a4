package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

// GoroutineList is what gotrace goroutines writes as JSON.
type GoroutineList struct {
	Schema     string            `json:"schema"`
	File       string            `json:"file"`
	Total      int               `json:"total"`
	Goroutines []drill.Goroutine `json:"goroutines"`
}

// Goroutines renders the goroutines of file in l, of which l.Total passed
// the filters (l may hold fewer, with --top). JSON is written a row at a
// time, as a list may hold hundreds of thousands.
func Goroutines(w io.Writer, file string, l *drill.GoroutineList, o Options) error {
	total := l.Total
	if o.Mode == JSON {
		if err := writeJSONRows(w, GoroutineList{Schema: drill.GoroutinesSchema, File: file, Total: total, Goroutines: []drill.Goroutine{}},
			l.Len(), func(i int) any { return l.Row(i) }); err != nil {
			return err
		}
		return l.Err()
	}
	n := l.Len()
	d := &doc{title: "gotrace goroutines " + file}
	d.subtitle = fmt.Sprintf("%s %s", fmtInt(int64(total)), plural(total, "goroutine", "goroutines"))
	if n < total {
		d.subtitle += fmt.Sprintf(", the first %d shown", n)
	}
	s := section{title: "Goroutines"}
	// N.B. The rows are read as the table is drawn, not held: a list may
	// hold hundreds of thousands.
	t := &tbl{head: []string{"ID", "Start function", "Kind", "Created", "Ended", "Running", "Runnable", "Blocked", "Syscall"},
		right: []bool{true, false, false, true, false, true, true, true, true},
		n:     n, at: func(i int) []string { return goroutineCells(l.Row(i)) }}
	s.add(t)
	d.sections = append(d.sections, s)
	if err := d.render(w, o.Mode, o.Width); err != nil {
		return err
	}
	return l.Err()
}

// goroutineCells is g's row in the table of gotrace goroutines.
func goroutineCells(g drill.Goroutine) []string {
	created := "+" + stats.Duration(g.Created).String()
	if g.Existed {
		created = "before"
	}
	if g.Creator >= 0 {
		created += " by " + strconv.FormatInt(g.Creator, 10)
	}
	ended := "+" + stats.Duration(g.Ended).String()
	if g.Ended < 0 {
		ended = "alive, " + g.StateAtEnd
		if g.ReasonAtEnd != "" {
			ended += " (" + g.ReasonAtEnd + ")"
		}
	}
	name := g.Name
	if name == "" {
		name = "(unknown)"
	}
	return []string{g.Label(), name, g.Kind, created, ended, stats.Duration(g.Running).String(), stats.Duration(g.Runnable).String(),
		stats.Duration(g.Blocked).String(), stats.Duration(g.Syscall).String()}
}

// writeJSONRows writes v as writeJSON does, its one list, empty in v and
// the last of its fields, holding the n rows row gives instead: encoded a
// row at a time, not the whole document at once.
func writeJSONRows(w io.Writer, v any, n int, row func(i int) any) error {
	var head bytes.Buffer
	if err := writeJSON(&head, v); err != nil {
		return err
	}
	const empty = "[]\n}\n"
	b := head.Bytes()
	if n == 0 || !bytes.HasSuffix(b, []byte(empty)) {
		_, err := w.Write(b)
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(b[:len(b)-len(empty)])
	bw.WriteString("[\n")
	var one bytes.Buffer
	enc := json.NewEncoder(&one)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	for i := range n {
		if i > 0 {
			bw.WriteString(",\n")
		}
		one.Reset()
		if err := enc.Encode(row(i)); err != nil {
			return err
		}
		// N.B. Encode ends the row with a newline, which the separator
		// or the closing bracket takes the place of.
		bw.WriteString("    ")
		bw.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n")))
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}
