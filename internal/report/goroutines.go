package report

import (
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

// Goroutines renders the goroutines of file, of which total passed the
// filters (rows may be fewer, with --top).
func Goroutines(w io.Writer, file string, rows []drill.Goroutine, total int, o Options) error {
	if o.Mode == JSON {
		return writeJSON(w, GoroutineList{Schema: drill.GoroutinesSchema, File: file, Total: total, Goroutines: rows})
	}
	d := &doc{title: "gotrace goroutines " + file}
	d.subtitle = fmt.Sprintf("%s %s", fmtInt(int64(total)), plural(total, "goroutine", "goroutines"))
	if len(rows) < total {
		d.subtitle += fmt.Sprintf(", the first %d shown", len(rows))
	}
	s := section{title: "Goroutines"}
	t := &tbl{head: []string{"ID", "Start function", "Kind", "Created", "Ended", "Running", "Runnable", "Blocked", "Syscall"},
		right: []bool{true, false, false, true, false, true, true, true, true}}
	for _, g := range rows {
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
		t.row(g.Label(), name, g.Kind, created, ended, stats.Duration(g.Running).String(), stats.Duration(g.Runnable).String(),
			stats.Duration(g.Blocked).String(), stats.Duration(g.Syscall).String())
	}
	s.add(t)
	d.sections = append(d.sections, s)
	return d.render(w, o.Mode, o.Width)
}
