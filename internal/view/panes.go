package view

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// paneLines draws the pane under the lanes: a rule with its name, then
// its rows.
func (m *Model) paneLines() []string {
	n := m.paneRows()
	var title string
	var body []string
	switch m.pane {
	case paneDetail:
		title, body = "detail", m.detailRows()
	case paneTasks:
		title = "tasks, slowest first (enter shows one and its critical path, y the slowest of its type)"
		why := m.whyRows(n - 1 - min(3, len(m.tasks)))
		body = append(m.taskRows(n-1-len(why)), why...)
	case paneStats:
		title, body = "stats of the window on screen", append(m.statsRows(), m.findingRows()...)
	}
	rule := "── " + title + " "
	rule += strings.Repeat("─", max(m.width-len([]rune(rule)), 0))
	out := []string{m.st.style(cellStyle{fg: colourDim}).Render(cut(rule, m.width))}
	for _, r := range body {
		out = append(out, cut(r, m.width))
	}
	for len(out) < n {
		out = append(out, "")
	}
	return out[:n]
}

// detailRows say what the selected lane holds at the cursor: for a
// goroutine, what gotrace goroutine says of it.
func (m *Model) detailRows() []string {
	if m.sel >= len(m.lanes) {
		return nil
	}
	ln := m.lanes[m.sel]
	g := ln.g
	if !m.drawn {
		// N.B. Data drawn is data read: m.data is not nil past here.
		return []string{m.describeCursor(), "zoom in for the goroutines: they are read a few generations at a time"}
	}
	if ln.kind == laneProc {
		for _, r := range ln.proc.Runs {
			if r.Start <= m.cursor && m.cursor < r.End {
				g = r.G
			}
		}
		if g == nil {
			return []string{fmt.Sprintf("P%d is idle at %s", ln.proc.ID, fmtDur(m.cursor-m.tr.Start))}
		}
	}
	if g == nil {
		return []string{m.describeCursor(), "select a goroutine (enter opens a group) for its detail"}
	}
	var rows []string
	head := fmt.Sprintf("%s  %s", g.Label(), timeline.KindOf(g.Name))
	if g.Existed {
		head += "  existed before the trace"
	} else {
		head += "  created " + fmtDur(g.Created-m.tr.Start)
		if g.Creator != nil {
			head += " by " + g.Creator.Label() + " (c jumps there)"
		}
	}
	if g.Ended != 0 {
		head += "  ended " + fmtDur(g.Ended-m.tr.Start)
	}
	rows = append(rows, head)
	iv := g.At(m.cursor)
	if iv == nil {
		rows = append(rows, "not alive at "+fmtDur(m.cursor-m.tr.Start))
	} else {
		rows = append(rows, "at "+fmtDur(m.cursor-m.tr.Start)+": "+m.intervalText(iv))
		if iv.Unblocker != trace.NoGoroutine {
			who := fmt.Sprintf("G%d", iv.Unblocker)
			if u := m.data.live(iv.Unblocker, iv.End); u != nil {
				who = u.Label()
			}
			rows = append(rows, fmt.Sprintf("unblocked by %s at %s (u jumps there)", who, fmtDur(iv.End-m.tr.Start)))
		}
		rows = append(rows, stackRows(m.data.Stack(iv), 4)...)
	}
	if len(g.Children) > 0 {
		var ids []string
		for _, c := range g.Children {
			ids = append(ids, fmt.Sprintf("G%d", c.ID))
		}
		rows = append(rows, fmt.Sprintf("created %d: %s", len(g.Children), strings.Join(ids, " ")))
	}
	return rows
}

// stackRows are st's first n frames, one a row.
func stackRows(st timeline.StackRef, n int) []string {
	var rows []string
	for f := range st.Frames() {
		if timeline.IsShimFrame(f.Func) {
			continue
		}
		if len(rows) == n {
			rows = append(rows, "  …")
			break
		}
		rows = append(rows, fmt.Sprintf("  %s  %s:%d", f.Func, filepath.Base(f.File), f.Line))
	}
	return rows
}

// taskRows list the tasks slowest first, around the selected one.
func (m *Model) taskRows(n int) []string {
	if len(m.tasks) == 0 {
		return []string{"no tasks in what was read"}
	}
	first := max(min(m.task-n/2, len(m.tasks)-n), 0)
	var rows []string
	for i := first; i < len(m.tasks) && len(rows) < n; i++ {
		t := m.tasks[i]
		mark := "  "
		if i == m.task {
			mark = "> "
		}
		end := ""
		if !t.Ended {
			end = " (not ended)"
		}
		rows = append(rows, fmt.Sprintf("%s%9s  %-20s id %d  at %s  by G%d%s", mark, fmtDur(t.Duration()), cut(t.Type, 20), t.ID, fmtDur(t.Start-m.tr.Start), t.G, end))
	}
	return rows
}

// statsRows are the window's numbers: where the goroutines' time went,
// how busy the Ps were, the collector's share.
func (m *Model) statsRows() []string {
	d := m.data
	span := m.to - m.from
	if !m.drawn {
		gc, stw := m.gcRanges()
		gcT, gcN := overlap(gc, m.from, m.to)
		stwT, stwN := overlap(stw, m.from, m.to)
		rows := []string{fmt.Sprintf("window %s–%s (%s), from the generations' summaries; zoom in for the goroutines",
			fmtDur(m.from-m.tr.Start), fmtDur(m.to-m.tr.Start), fmtDur(span))}
		var busy float64
		ps := m.tr.procs()
		for _, p := range ps {
			for _, f := range m.busySamples(p, grid{from: m.from, to: m.to, n: 1}) {
				busy += f
			}
		}
		if len(ps) > 0 {
			rows = append(rows, fmt.Sprintf("Ps busy: %.1f%% of %d Ps", 100*busy/float64(len(ps)), len(ps)))
		}
		return append(rows, fmt.Sprintf("GC: %d cycles, %s (%.1f%% of the window)  stop-the-world: %d, %s",
			gcN, fmtDur(gcT), 100*float64(gcT)/float64(max(span, 1)), stwN, fmtDur(stwT)))
	}
	var byKind [timeline.NumKinds][numClasses]trace.Time
	gr := grid{from: m.from, to: m.to, n: 1}
	for _, g := range d.Goroutines {
		acc := make([][numClasses]trace.Time, 1)
		gr.goroutineTime(g, acc)
		k := timeline.KindOf(g.Name)
		for c := range acc[0] {
			byKind[k][c] += acc[0][c]
		}
	}
	user := byKind[timeline.User]
	var blocked trace.Time
	type catTime struct {
		c class
		t trace.Time
	}
	var cats []catTime
	for c := clBlocked; c < numClasses; c++ {
		blocked += user[c]
		if user[c] > 0 {
			cats = append(cats, catTime{c, user[c]})
		}
	}
	slices.SortFunc(cats, func(a, b catTime) int { return cmp.Or(cmp.Compare(b.t, a.t), cmp.Compare(a.c, b.c)) })
	rows := []string{
		fmt.Sprintf("window %s–%s (%s)", fmtDur(m.from-m.tr.Start), fmtDur(m.to-m.tr.Start), fmtDur(span)),
		fmt.Sprintf("user goroutines: running %s  runnable %s  syscall %s  blocked %s",
			fmtDur(user[clRunning]), fmtDur(user[clRunnable]), fmtDur(user[clSyscall]), fmtDur(blocked)),
	}
	if len(cats) > 0 {
		var parts []string
		for _, c := range cats[:min(len(cats), 4)] {
			parts = append(parts, fmt.Sprintf("%s %s", strings.TrimPrefix(className(c.c), "blocked: "), fmtDur(c.t)))
		}
		rows = append(rows, "blocked by: "+strings.Join(parts, "  "))
	}
	if user[clRunning] > 0 && user[clRunnable] > user[clRunning]/2 {
		rows = append(rows, fmt.Sprintf("runnable time is %.0f%% of running time: goroutines wait for a P", 100*float64(user[clRunnable])/float64(user[clRunning])))
	}
	var busy trace.Time
	for _, p := range d.Procs {
		for _, r := range p.Runs {
			busy += max(min(r.End, m.to)-max(r.Start, m.from), 0)
		}
	}
	if len(d.Procs) > 0 && span > 0 {
		rows = append(rows, fmt.Sprintf("Ps busy: %.1f%% of %d Ps", 100*float64(busy)/float64(span)/float64(len(d.Procs)), len(d.Procs)))
	}
	gc, gcN := overlap(d.GC, m.from, m.to)
	stw, stwN := overlap(d.STW, m.from, m.to)
	rows = append(rows, fmt.Sprintf("GC mark: %d phases, %s (%.1f%% of the window)  stop-the-world: %d, %s",
		gcN, fmtDur(gc), 100*float64(gc)/float64(max(span, 1)), stwN, fmtDur(stw)))
	return rows
}

// overlap is the time ranges rs spend in [from, to), and how many do.
func overlap(rs []Range, from, to trace.Time) (trace.Time, int) {
	var t trace.Time
	n := 0
	for _, r := range rs {
		if o := min(r.End, to) - max(r.Start, from); r.End > from && r.Start < to {
			t += max(o, 0)
			n++
		}
	}
	return t, n
}
