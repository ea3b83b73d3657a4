package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/diff"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

// DiffOptions say how to render a diff.
type DiffOptions struct {
	Options
	// Top is how many rows each list of changes shows; 0 shows all.
	Top int
	// All lists the metrics that did not change too.
	All bool
}

// Diff renders d.
func Diff(w io.Writer, d *diff.Diff, o DiffOptions) error {
	if o.Mode == JSON {
		stats.FillNil(d)
		return writeJSON(w, d)
	}
	doc := &doc{title: "gotrace diff " + sideName(d.Base) + " " + sideName(d.New)}
	doc.subtitle = fmt.Sprintf("base %s, new %s", sideLine(d.Base), sideLine(d.New))
	for _, dmg := range append(d.Base.Damaged, d.New.Damaged...) {
		doc.warnings = append(doc.warnings, dmg+"; its complete generations are compared")
	}
	switch {
	case !d.Judged:
		doc.warnings = append(doc.warnings, "one trace on a side: no significance can be judged, so every change past the threshold is shown; record five a side to tell a change from noise")
	case d.MinP > d.Alpha:
		doc.warnings = append(doc.warnings, fmt.Sprintf("with %d and %d traces no change can be significant (the U test's smallest p-value is %.2f, over alpha %.2f); record five a side",
			len(d.Base.Files), len(d.New.Files), d.MinP, d.Alpha))
	}
	// The values per second of wall time go beside the absolute ones,
	// unless that makes the tables wider than the terminal: the change is
	// of them all the same, and --json has them.
	rates := o.Mode != Styled || o.Width == 0 || diffWidth(d.Rows, o.Top) <= o.Width-4
	if !rates {
		doc.warnings = append(doc.warnings, "the values per second of wall time are left out to fit the terminal; totals and counts are compared by them")
	}
	groups := []struct {
		verdict, title string
	}{{diff.Worse, "Regressions"}, {diff.Better, "Improvements"}, {diff.Changed, "Other changes"}}
	same := 0
	for _, r := range d.Rows {
		if r.Verdict == diff.Same {
			same++
		}
	}
	for _, g := range groups {
		t := diffTable()
		n := 0
		for _, r := range d.Rows {
			if r.Verdict != g.verdict {
				continue
			}
			n++
			if o.Top > 0 && n > o.Top {
				continue
			}
			diffRow(t, r, rates)
		}
		if n == 0 {
			continue
		}
		s := section{title: g.title}
		s.add(t)
		if o.Top > 0 && n > o.Top {
			s.text(fmt.Sprintf("%d more; --top 0 shows all.", n-o.Top))
		}
		doc.sections = append(doc.sections, s)
	}
	s := section{title: "Summary"}
	s.text(diffSummary(d, same, o.All))
	if o.All && same > 0 {
		t := diffTable()
		for _, r := range d.Rows {
			if r.Verdict == diff.Same {
				diffRow(t, r, rates)
			}
		}
		s.add(t)
	}
	doc.sections = append(doc.sections, s)
	return doc.render(w, o.Mode, o.Width)
}

func diffTable() *tbl {
	return &tbl{head: []string{"Metric", "Base", "New", "Change", "p", "Verdict", "Where"},
		right: []bool{false, true, true, true, false, false, false}, statusCol: 5}
}

// diffWidth is the width of the widest table of changes, the values per
// second shown.
func diffWidth(rows []diff.Row, top int) int {
	t := diffTable()
	n := map[string]int{}
	for _, r := range rows {
		if r.Verdict == diff.Same {
			continue
		}
		if n[r.Verdict]++; top == 0 || n[r.Verdict] <= top {
			diffRow(t, r, true)
		}
	}
	w := 1
	for _, c := range t.widths() {
		w += c + 3
	}
	return w
}

// diffRow adds r to t: its values (with rates, their values per second),
// their change, the p-value, and where.
func diffRow(t *tbl, r diff.Row, rates bool) {
	base, new := FormatValue(r.Base, r.Unit), FormatValue(r.New, r.Unit)
	if r.Unit == "" {
		base, new = strconv.FormatFloat(r.Base, 'f', 2, 64), strconv.FormatFloat(r.New, 'f', 2, 64)
	}
	if r.PerSecond && rates {
		base += " (" + rateValue(r.BaseRate, r.Unit) + ")"
		new += " (" + rateValue(r.NewRate, r.Unit) + ")"
	}
	p := "–"
	if r.P != nil {
		p = "p=" + strconv.FormatFloat(*r.P, 'f', 3, 64)
	}
	verdict := r.Verdict
	if r.Presence != diff.Both {
		verdict += " (" + r.Presence + ")"
	}
	where := r.Where
	if where == "" {
		where = "–"
	}
	t.row(label(r), base, new, change(r), p, verdict, where)
	switch r.Verdict {
	case diff.Worse:
		t.status = append(t.status, 2)
	case diff.Better:
		t.status = append(t.status, 1)
	default:
		t.status = append(t.status, 0)
	}
}

// label names a row: the metric's path, a list row by its name.
func label(r diff.Row) string {
	if r.Name == "" {
		return r.Metric
	}
	list := r.Metric[:strings.IndexByte(r.Metric, '[')]
	field := r.Metric[strings.LastIndexByte(r.Metric, '.')+1:]
	name := r.Name
	// A stack is named by its frames: the innermost says where.
	head, frames, ok := strings.Cut(name, " at ")
	if !ok {
		head, frames = "", name
	}
	if f := strings.Split(frames, " < "); len(f) > 1 {
		name = fmt.Sprintf("%s (+%d)", f[0], len(f)-1)
		if ok {
			name = head + " at " + name
		}
	}
	return list + "[" + strconv.Quote(name) + "]." + field
}

// rateValue formats a value per second of wall time: a share of it for
// durations.
func rateValue(v float64, unit string) string {
	switch unit {
	case stats.UnitNs:
		return fmtRatio(v) + " of wall"
	case stats.UnitBytes:
		return stats.ByteCount(math.Round(v)).String() + "/s"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
}

// change is a row's change as compared: per second when the metric adds
// up over time. The ratio goes with it, or "new" from nothing.
func change(r diff.Row) string {
	b, n := r.Base, r.New
	if r.PerSecond {
		b, n = r.BaseRate, r.NewRate
	}
	switch {
	case b == n:
		return "0"
	case b == 0:
		return "from 0"
	}
	pct := 100 * (n/b - 1)
	if math.Abs(pct) >= 1000 {
		return fmt.Sprintf("×%.1f", n/b)
	}
	return fmt.Sprintf("%+.1f%%", pct)
}

// diffSummary says in a line how many metrics changed, and how they were
// judged.
func diffSummary(d *diff.Diff, same int, all bool) string {
	what := "no significant change"
	if !d.Judged {
		what = "no change past the threshold"
	}
	line := fmt.Sprintf("%d %s worse, %d better; %d show %s (~)", d.Worse, plural(d.Worse, "metric", "metrics"), d.Better, same, what)
	if !all && same > 0 {
		line += ", --all lists them"
	}
	line += fmt.Sprintf(". Changes under %.0f%% are ~.", 100*d.Threshold)
	if d.Judged {
		line += fmt.Sprintf(" Significance: Mann-Whitney U test, alpha %.2f.", d.Alpha)
	}
	return line
}

// sideName is a side as the title names it: its file, or its first file
// and how many more.
func sideName(s diff.Side) string {
	switch len(s.Files) {
	case 0:
		return "(none)"
	case 1:
		return s.Files[0]
	}
	return fmt.Sprintf("%s (+%d)", s.Files[0], len(s.Files)-1)
}

func sideLine(s diff.Side) string {
	return fmt.Sprintf("%d %s, median %s", len(s.Files), plural(len(s.Files), "trace", "traces"), s.Duration)
}
