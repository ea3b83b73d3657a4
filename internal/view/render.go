package view

import (
	"fmt"
	"image/color"
	"math"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// headerRows are the title and the ruler, above the lanes.
const headerRows = 2

// styles holds the colours of a model's classes and groups.
type styles struct {
	mono  bool
	plain bool                 // no escapes at all: every style renders its text as it is
	conv  colorprofile.Profile // the colours to convert to, when fewer than 256
	class [numClasses]string   // colour of each class, ANSI 256
	cache map[cellStyle]lipgloss.Style
}

// cellStyle is one cell's look.
type cellStyle struct {
	fg, bg        string
	bold, reverse bool
}

// glyphs tell the classes apart without colour.
var glyphs = [numClasses]rune{
	clNone: ' ', clRunning: '█', clRunnable: '▒', clSyscall: '▓',
}

func init() {
	for c := clBlocked; c < numClasses; c++ {
		glyphs[c] = '─'
	}
}

// groupColours colour the goroutine groups on the P lanes, in turn.
var groupColours = []string{"39", "208", "170", "76", "220", "45", "203", "141", "113", "215", "75", "177"}

// Colours of the collector's phases and the heap.
const (
	colourMark = "214"
	colourSTW  = "196"
	colourHeap = "75"
	colourDim  = "244"
)

func newStyles(o Options) *styles {
	s := &styles{mono: o.Mono, cache: make(map[cellStyle]lipgloss.Style)}
	switch o.Profile {
	case colorprofile.NoTTY, colorprofile.Ascii:
		s.plain = true
	case colorprofile.ANSI:
		s.conv = colorprofile.ANSI
	}
	s.class[clRunning] = "35"
	s.class[clRunnable] = "220"
	s.class[clSyscall] = "135"
	blocked := map[timeline.Category]string{
		timeline.Channel: "25", timeline.Select: "31", timeline.Mutex: "160",
		timeline.WaitGroup: "130", timeline.Cond: "94", timeline.Network: "37",
		timeline.Sleep: "240", timeline.GC: "172", timeline.Runtime: "238", timeline.Other: "242",
	}
	for cat, col := range blocked {
		s.class[clBlocked+class(cat)] = col
	}
	return s
}

// colour is the colour of an ANSI 256 number, converted to the profile's
// when it has fewer.
func (s *styles) colour(n string) color.Color {
	c := lipgloss.Color(n)
	if s.conv != colorprofile.Unknown {
		c = s.conv.Convert(c)
	}
	return c
}

func (s *styles) style(cs cellStyle) lipgloss.Style {
	st, ok := s.cache[cs]
	if !ok {
		st = lipgloss.NewStyle()
		if s.plain {
			s.cache[cs] = st
			return st
		}
		if cs.fg != "" {
			st = st.Foreground(s.colour(cs.fg))
		}
		if cs.bg != "" {
			st = st.Background(s.colour(cs.bg))
		}
		st = st.Bold(cs.bold).Reverse(cs.reverse)
		s.cache[cs] = st
	}
	return st
}

// cell is one terminal cell.
type cell struct {
	r rune
	cellStyle
}

// line is a row of cells being drawn.
type line []cell

func newLine(w int) line {
	l := make(line, w)
	for i := range l {
		l[i].r = ' '
	}
	return l
}

// put writes s from column x on, cut at the line's end.
func (l line) put(x int, s string, cs cellStyle) int {
	for _, r := range s {
		if x >= len(l) {
			break
		}
		if x >= 0 {
			l[x] = cell{r, cs}
		}
		x++
	}
	return x
}

// render draws the line, one style change at a time.
func (l line) render(s *styles) string {
	var b strings.Builder
	for i := 0; i < len(l); {
		j := i
		var run strings.Builder
		for j < len(l) && l[j].cellStyle == l[i].cellStyle {
			run.WriteRune(l[j].r)
			j++
		}
		if l[i].cellStyle == (cellStyle{}) || s.mono && !l[i].bold && !l[i].reverse {
			b.WriteString(run.String())
		} else {
			b.WriteString(s.style(l[i].cellStyle).Render(run.String()))
		}
		i = j
	}
	return strings.TrimRight(b.String(), " ")
}

// samplesPerCell is how many samples a lane cell shows: two with colour
// (a half block, its foreground one and its background the other), one
// without.
func (s *styles) samplesPerCell() int {
	if s.mono {
		return 1
	}
	return 2
}

// cells draws samples of colours cols (the same glyph for all when
// mono) into l from x on.
func (s *styles) cells(l line, x int, samples []class) {
	if s.mono {
		for i, c := range samples {
			l[x+i] = cell{r: glyphs[c]}
		}
		return
	}
	for i := 0; i+1 < len(samples); i += 2 {
		l[x+i/2] = s.halves(s.class[samples[i]], s.class[samples[i+1]])
	}
}

// halves is a cell showing colour a on its left half and b on its right.
func (s *styles) halves(a, b string) cell {
	switch {
	case a == "" && b == "":
		return cell{r: ' '}
	case a == b:
		return cell{r: '█', cellStyle: cellStyle{fg: a}}
	case a == "":
		return cell{r: '▐', cellStyle: cellStyle{fg: b}}
	case b == "":
		return cell{r: '▌', cellStyle: cellStyle{fg: a}}
	}
	return cell{r: '▌', cellStyle: cellStyle{fg: a, bg: b}}
}

func (m *Model) labelWidth() int { return max(min(m.width/4, 28), 12) }

func (m *Model) laneWidth() int { return max(m.width-m.labelWidth()-1, 8) }

func (m *Model) paneRows() int {
	if m.pane == paneNone {
		return 0
	}
	return max(min(10, (m.height-3)/2), 3)
}

// laneRows is how many lanes fit.
func (m *Model) laneRows() int {
	return max(m.height-headerRows-1-m.paneRows(), 1)
}

// View is the screen for Bubble Tea: on the alternate screen, with the
// mouse's clicks and wheel reported.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Screen())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	return v
}

// Screen draws the screen as text, "" once quitting.
func (m *Model) Screen() string {
	if m.quitting {
		return ""
	}
	var rows []string
	rows = append(rows, m.title(), m.ruler())
	if m.help {
		rows = append(rows, m.helpRows(m.height-headerRows-1)...)
	} else {
		rows = append(rows, m.laneLines()...)
		if m.pane != paneNone {
			rows = append(rows, m.paneLines()...)
		}
	}
	for len(rows) < m.height-1 {
		rows = append(rows, "")
	}
	rows = append(rows[:m.height-1], m.statusLine())
	return strings.Join(rows, "\n")
}

func (m *Model) title() string {
	l := newLine(m.width)
	all := m.tr.End - m.tr.Start
	t := fmt.Sprintf("%s  %s–%s of %s", filepath.Base(m.opts.File), fmtDur(m.from-m.tr.Start), fmtDur(m.to-m.tr.Start), fmtDur(all))
	switch {
	case m.tr.Full != nil:
		t += fmt.Sprintf("  %d Ps  %d goroutines", len(m.data.Procs), len(m.data.Goroutines))
	case m.drawn:
		t += fmt.Sprintf("  generations %d–%d of %d  %d goroutines", m.tr.Gens[m.first].Num, m.tr.Gens[m.last].Num, len(m.tr.Gens), len(m.data.Goroutines))
	default:
		t += fmt.Sprintf("  %d generations", len(m.tr.Gens))
	}
	if m.loading {
		t += "  reading…"
	}
	l.put(0, t, cellStyle{bold: true})
	help := "? help"
	l.put(m.width-len(help), help, cellStyle{fg: colourDim})
	return l.render(m.st)
}

// ruler draws times from the trace's start at round steps, and the
// cursor.
func (m *Model) ruler() string {
	l := newLine(m.width)
	lw, w := m.labelWidth()+1, m.laneWidth()
	l.put(0, "time", cellStyle{fg: colourDim})
	span := float64(m.to - m.from)
	step := niceStep(span / float64(w) * 14)
	first := math.Ceil(float64(m.from-m.tr.Start)/step) * step
	for v := first; v < float64(m.to-m.tr.Start); v += step {
		x := int((v - float64(m.from-m.tr.Start)) * float64(w) / span)
		label := "│" + fmtDur(trace.Time(v))
		if x+utf8.RuneCountInString(label) > w {
			break
		}
		l.put(lw+x, label, cellStyle{fg: colourDim})
	}
	if t := m.marked; t != nil {
		a, b := max(m.column(t.Start), 0), min(m.column(t.End), w-1)
		for x := a; x <= b && x >= 0; x++ {
			l[lw+x] = cell{r: '═', cellStyle: cellStyle{fg: colourMark, bold: true}}
		}
	}
	if c := m.column(m.cursor); c >= 0 && c < w {
		l[lw+c] = cell{r: '▼', cellStyle: cellStyle{bold: true}}
	}
	return l.render(m.st)
}

// niceStep is the round duration (1, 2 or 5 times a power of ten) at
// least d.
func niceStep(d float64) float64 {
	if d < 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(d)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= d {
			return f * p
		}
	}
	return 10 * p
}

// laneLines draws the lanes on screen.
func (m *Model) laneLines() []string {
	rows := m.laneRows()
	lw, w := m.labelWidth(), m.laneWidth()
	spc := m.st.samplesPerCell()
	gr := grid{from: m.from, to: m.to, n: w * spc}
	var out []string
	cur := m.column(m.cursor)
	for i := m.top; i < len(m.lanes) && i < m.top+rows; i++ {
		ln := m.lanes[i]
		l := newLine(m.width)
		label, ls := m.laneLabel(ln)
		if i == m.sel {
			ls.reverse = true
			label = ">" + label
		} else {
			label = " " + label
		}
		l.put(0, cut(label, lw), ls)
		m.drawLane(l[lw+1:], ln, gr)
		if i == m.sel && cur >= 0 && cur < w {
			c := &l[lw+1+cur]
			c.reverse = !c.reverse
			if m.st.mono && c.r == ' ' {
				c.r = '┃'
			}
		}
		out = append(out, l.render(m.st))
	}
	return out
}

func (m *Model) laneLabel(ln lane) (string, cellStyle) {
	switch ln.kind {
	case laneProc:
		return fmt.Sprintf("P%d", ln.pid), cellStyle{}
	case laneHint:
		return "goroutines", cellStyle{fg: colourDim}
	case lanePath:
		return fmt.Sprintf("path of task %d", m.whyTask.ID), cellStyle{fg: colourMark, bold: true}
	case laneSumGroup:
		name := ln.name
		if name == "" {
			name = "(not named)"
		}
		return "▸ " + short(name), cellStyle{bold: true}
	case laneGC:
		return "GC/STW", cellStyle{}
	case laneHeap:
		hs := grid{from: m.from, to: m.to, n: 1}.heapSamples(m.heap())
		return "heap " + fmtBytes(hs[0]), cellStyle{}
	case laneGroup:
		arrow := "▸"
		if m.open[ln.group] {
			arrow = "▾"
		}
		name := ln.group.Name
		if name == "" {
			name = "(no stack)"
		}
		return fmt.Sprintf("%s %d× %s", arrow, len(ln.group.Goroutines), short(name)), cellStyle{fg: m.groupColour(ln.group), bold: true}
	}
	return "  " + ln.g.Label(), cellStyle{}
}

func (m *Model) groupColour(g *Group) string {
	if m.st.mono || g == nil {
		return ""
	}
	return groupColours[g.Index%len(groupColours)]
}

// drawLane draws ln's samples on the grid into l.
func (m *Model) drawLane(l line, ln lane, gr grid) {
	st := m.st
	switch ln.kind {
	case laneGoroutine:
		st.cells(l, 0, gr.goroutineSamples([]*Goroutine{ln.g}))
	case laneGroup:
		st.cells(l, 0, gr.goroutineSamples(ln.group.Goroutines))
	case lanePath:
		st.cells(l, 0, m.whySamples(gr))
	case laneSumGroup:
		st.cells(l, 0, m.sumGroupSamples(ln.name, gr))
	case laneHint:
		first, last := m.tr.gensIn(m.from, m.to)
		text := fmt.Sprintf("zoom in to read them one by one (%d of %d generations in view)", last-first+1, len(m.tr.Gens))
		if m.groups == nil && m.tr.src != nil {
			text = "following the goroutines over the wire…"
		}
		if m.loading {
			text = "reading…"
		}
		l.put(0, text, cellStyle{fg: colourDim})
	case laneGC:
		samples := gr.gcSamples(m.gcRanges())
		if st.mono {
			for i, c := range samples {
				l[i].r = map[class]rune{clNone: ' ', clRunnable: '▒', clRunning: '█'}[c]
			}
			return
		}
		col := map[class]string{clRunnable: colourMark, clRunning: colourSTW}
		for i := 0; i+1 < len(samples); i += 2 {
			l[i/2] = st.halves(col[samples[i]], col[samples[i+1]])
		}
	case laneHeap:
		hs := grid{from: gr.from, to: gr.to, n: len(l)}.heapSamples(m.heap())
		var top uint64
		for _, v := range hs {
			top = max(top, v)
		}
		bars := []rune(" ▁▂▃▄▅▆▇█")
		for i, v := range hs {
			if top == 0 || v == 0 {
				continue
			}
			k := max(int(float64(v)/float64(top)*8+0.5), 1)
			l[i] = cell{r: bars[k], cellStyle: cellStyle{fg: colourHeap}}
			if st.mono {
				l[i].fg = ""
			}
		}
	case laneProc:
		if m.drawn {
			m.drawProc(l, ln.proc, gr)
		} else {
			m.drawBusy(l, ln.pid, gr)
		}
	}
}

// drawProc draws which goroutine ran on p, coloured by group, with
// their labels where a run is wide enough to hold one.
func (m *Model) drawProc(l line, p *Proc, gr grid) {
	st := m.st
	gs := gr.procSamples(p)
	spc := st.samplesPerCell()
	for x := 0; x < len(l); x++ {
		if st.mono {
			if gs[x] != nil {
				l[x] = cell{r: '█'}
			}
			continue
		}
		var a, b string
		if g := gs[x*spc]; g != nil {
			a = m.groupColour(g.Group)
		}
		if g := gs[x*spc+1]; g != nil {
			b = m.groupColour(g.Group)
		}
		l[x] = st.halves(a, b)
	}
	// Labels: over each stretch of columns where one goroutine ran.
	for x := 0; x < len(l); {
		g := gs[x*spc]
		end := x + 1
		for end < len(l) && gs[end*spc] == g && gs[end*spc+spc-1] == g {
			end++
		}
		if g != nil && end-x >= 4 {
			text := cut(fmt.Sprintf("G%d %s", g.ID, short(g.Name)), end-x)
			cs := cellStyle{fg: "16", bg: m.groupColour(g.Group)}
			if st.mono {
				cs = cellStyle{}
			}
			l.put(x, text, cs)
		}
		x = end
	}
}

// busyColours shade a P lane by how busy the P was, from idle to always.
var (
	busyColours = []string{"", "22", "28", "34", "40"}
	busyGlyphs  = []rune(" ░▒▓█")
)

// drawBusy draws how busy P p was, from the summaries.
func (m *Model) drawBusy(l line, p trace.ProcID, gr grid) {
	st := m.st
	level := func(f float64) int {
		if f <= 0 {
			return 0
		}
		return min(1+int(f*4), 4)
	}
	bs := m.busySamples(p, gr)
	spc := st.samplesPerCell()
	for x := 0; x < len(l); x++ {
		if st.mono {
			l[x] = cell{r: busyGlyphs[level(bs[x])]}
			continue
		}
		l[x] = st.halves(busyColours[level(bs[x*spc])], busyColours[level(bs[x*spc+1])])
	}
}

// short is a function name without its package path.
func short(fn string) string {
	return path.Base(fn)
}

// cut shortens s to n columns, with an ellipsis when it had to.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:max(n, 0)])
	}
	return string([]rune(s)[:n-1]) + "…"
}

func (m *Model) statusLine() string {
	l := newLine(m.width)
	switch m.prompt {
	case promptGoto:
		return cut("go to (from the start, e.g. 1.5ms): "+m.input.Value()+"▏", m.width)
	case promptSearch:
		return cut("search goroutines (name, ID, stack frame): "+m.input.Value()+"▏", m.width)
	}
	text := m.status
	if text == "" {
		text = m.describeCursor()
	}
	l.put(0, text, cellStyle{fg: colourDim})
	return l.render(m.st)
}

// describeCursor says what is under the cursor on the selected lane.
func (m *Model) describeCursor() string {
	at := "at " + fmtDur(m.cursor-m.tr.Start)
	if m.sel >= len(m.lanes) {
		return at
	}
	ln := m.lanes[m.sel]
	switch ln.kind {
	case laneGoroutine:
		if iv := ln.g.At(m.cursor); iv != nil {
			return fmt.Sprintf("%s  %s: %s", at, ln.g.Label(), m.intervalText(iv))
		}
		return fmt.Sprintf("%s  %s: not alive", at, ln.g.Label())
	case laneProc:
		if !m.drawn {
			bs := m.busySamples(ln.pid, grid{from: m.from, to: m.to, n: m.laneWidth()})
			if c := m.column(m.cursor); c >= 0 && c < len(bs) {
				return fmt.Sprintf("%s  P%d ran goroutines %.0f%% of this column", at, ln.pid, 100*bs[c])
			}
			return at
		}
		for _, r := range ln.proc.Runs {
			if r.Start <= m.cursor && m.cursor < r.End {
				return fmt.Sprintf("%s  P%d ran %s for %s", at, ln.proc.ID, r.G.Label(), fmtDur(r.End-r.Start))
			}
		}
		return fmt.Sprintf("%s  P%d idle", at, ln.proc.ID)
	case laneGroup:
		var n [numClasses]int
		for _, g := range ln.group.Goroutines {
			if iv := g.At(m.cursor); iv != nil {
				n[classOf(iv)]++
			}
		}
		var parts []string
		for c := clRunning; c < numClasses; c++ {
			if n[c] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n[c], className(c)))
			}
		}
		if len(parts) == 0 {
			parts = []string{"none alive"}
		}
		return fmt.Sprintf("%s  %s: %s", at, short(ln.group.Name), strings.Join(parts, ", "))
	case laneGC:
		gc, stw := m.gcRanges()
		for _, r := range stw {
			if r.Start <= m.cursor && m.cursor < r.End {
				return fmt.Sprintf("%s  %s for %s", at, r.Name, fmtDur(r.End-r.Start))
			}
		}
		for _, r := range gc {
			if r.Start <= m.cursor && m.cursor < r.End {
				return fmt.Sprintf("%s  GC mark phase for %s", at, fmtDur(r.End-r.Start))
			}
		}
		return at + "  no GC"
	case laneSumGroup:
		w := m.laneWidth()
		if c := m.column(m.cursor); c >= 0 && c < w {
			cl := m.sumGroupSamples(ln.name, grid{from: m.from, to: m.to, n: w})[c]
			state := className(cl)
			if cl >= clBlocked {
				state = "blocked" // the summaries keep no wait's kind
			}
			return fmt.Sprintf("%s  %s: mostly %s here", at, short(ln.name), state)
		}
		return at
	case lanePath:
		for _, sg := range m.why.Path {
			start := m.whyStart + trace.Time(sg.Start)
			if start <= m.cursor && m.cursor < start+trace.Time(sg.Duration) {
				return fmt.Sprintf("%s  path: %s %s %s %s for %s", at, sg.Goroutine.Label(), sg.State, sg.Category, sg.Frame, fmtDur(trace.Time(sg.Duration)))
			}
		}
		return at + "  off the path"
	case laneHeap:
		hs := grid{from: m.cursor, to: m.cursor + 1, n: 1}.heapSamples(m.heap())
		return fmt.Sprintf("%s  heap in use %s", at, fmtBytes(hs[0]))
	}
	return at
}

// intervalText is an interval's state, reason and span.
func (m *Model) intervalText(iv *Span) string {
	s := className(classOf(iv))
	if r := m.data.Reason(iv); r != "" {
		s += " (" + r + ")"
	}
	end := fmtDur(iv.End - m.tr.Start)
	if iv.Open {
		end = "end"
	}
	return fmt.Sprintf("%s %s–%s (%s)", s, fmtDur(iv.Start-m.tr.Start), end, fmtDur(iv.End-iv.Start))
}

func (m *Model) helpRows(n int) []string {
	var out []string
	out = append(out, m.st.style(cellStyle{bold: true}).Render("keys")+"  (any key closes this)")
	for _, b := range keys.all() {
		h := b.Help()
		out = append(out, fmt.Sprintf("  %-12s %s", h.Key, cut(h.Desc, m.width-15)))
	}
	var legend []string
	for _, c := range []class{clRunning, clRunnable, clSyscall, clBlocked} {
		name := className(c)
		if c == clBlocked {
			name = "blocked"
		}
		legend = append(legend, m.swatch(c)+" "+name)
	}
	out = append(out, "", "  "+strings.Join(legend, "  "))
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// swatch is a cell of class c's colour, or its glyph.
func (m *Model) swatch(c class) string {
	l := line{m.st.halves(m.st.class[c], m.st.class[c])}
	if m.st.mono {
		l = line{{r: glyphs[c]}}
	}
	return l.render(m.st)
}

// fmtDur formats a duration in trace nanoseconds compactly: 1.5ms.
func fmtDur(t trace.Time) string {
	d := float64(t)
	switch {
	case d == 0:
		return "0"
	case d < 1e3:
		return fmt.Sprintf("%.0fns", d)
	case d < 1e6:
		return trimZeros(fmt.Sprintf("%.3g", d/1e3)) + "µs"
	case d < 1e9:
		return trimZeros(fmt.Sprintf("%.3g", d/1e6)) + "ms"
	}
	return trimZeros(fmt.Sprintf("%.4g", d/1e9)) + "s"
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") && !strings.Contains(s, "e") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func fmtBytes(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1fGB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1fMB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0fKB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%dB", b)
}
