package view

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/stats"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// Options are what the model is drawn with.
type Options struct {
	// File names the trace in the title line.
	File string
	// Mono draws without colour: states are told apart by glyph alone
	// (NO_COLOR, or a terminal without colour).
	Mono bool
	// Profile is the colours the screens are drawn in: 256 colours, or
	// fewer, converted to the nearest (Unknown means 256); Ascii and
	// NoTTY draw no colours nor attributes, as Mono does.
	Profile colorprofile.Profile
	// Damage says where the trace is damaged, "" when it is not: the
	// status line shows it until the first key.
	Damage string
}

// pane is what the bottom of the screen shows.
type pane uint8

const (
	paneNone pane = iota
	paneDetail
	paneTasks
	paneStats
)

// prompt is what the input line asks for.
type prompt uint8

const (
	promptNone prompt = iota
	promptGoto
	promptSearch
)

// laneKind says what a lane draws.
type laneKind uint8

const (
	laneProc laneKind = iota
	laneGC
	laneHeap
	laneGroup
	laneGoroutine
	laneHint     // says why no goroutines are drawn
	lanePath     // the critical path of the task chosen
	laneSumGroup // a goroutine group, from the summaries
)

type lane struct {
	kind  laneKind
	proc  *Proc // of data read in full, or with only its ID
	pid   trace.ProcID
	group *Group
	g     *Goroutine
	name  string // of a laneSumGroup
}

// Model is the viewer's state: a Bubble Tea model.
type Model struct {
	opts  Options
	tr    *Trace
	data  *Data // what is read in full; see Trace
	width int
	// height is the terminal's; 0 until the first WindowSizeMsg.
	height int

	from, to trace.Time // the window on screen
	cursor   trace.Time

	lanes    []lane
	sel, top int  // the selected lane, the first one on screen
	drawn    bool // the lanes are those of data read in full (see fine)
	// first and last are the generations data holds, of a Trace by
	// generations.
	first, last int
	lo, hi      trace.Time // what data holds
	open        map[*Group]bool

	pane    pane
	help    bool
	prompt  prompt
	input   textinput.Model
	matches []found
	match   int
	// seek is the goroutine a jump went to, to select once the
	// generations around it are read.
	seek   *found
	tasks  []*Task // slowest first
	task   int
	marked *Task // drawn on the ruler
	// why is the critical path of whyTask, its offsets from whyStart.
	// findings are gotrace stats's, for generations findingsFirst to
	// findingsLast (-1: all); findingsErr says why there are none yet
	// (findingsFail: why finding those failed); findingsBusy is set while
	// they are being found.
	findings                    []stats.Finding
	findingsDone, findingsBusy  bool
	findingsFirst, findingsLast int
	findingsErr, findingsFail   string
	// groups are the summaries' group times, by generation, once
	// followed (see groupsCmd).
	groups   []map[string]GroupTime
	why      *drill.Why
	whyTask  *Task
	whyStart trace.Time
	status   string
	loading  bool
	quitting bool

	st *styles
}

// New returns the model for tr.
func New(tr *Trace, opts Options) *Model {
	m := &Model{opts: opts, tr: tr, open: make(map[*Group]bool), width: 80, height: 24}
	m.from, m.to = tr.Start, tr.End
	if m.to <= m.from {
		m.to = m.from + 1
	}
	m.cursor = m.from
	m.input = textinput.New()
	m.input.Prompt = ""
	m.st = newStyles(opts)
	m.setData(tr.Full)
	m.status = opts.Damage
	return m
}

// setData makes d the data drawn.
func (m *Model) setData(d *Data) {
	m.data = d
	m.tasks = nil
	if d != nil {
		m.tasks = slices.Clone(d.Tasks)
		slices.SortStableFunc(m.tasks, func(a, b *Task) int {
			return cmp.Or(cmp.Compare(b.Duration(), a.Duration()), cmp.Compare(a.ID, b.ID))
		})
	}
	m.task = 0
	m.buildLanes()
}

// buildLanes lists the lanes: the Ps, GC, heap, then each goroutine
// group with, when open, its goroutines.
func (m *Model) buildLanes() {
	var keep lane
	if m.sel < len(m.lanes) {
		keep = m.lanes[m.sel]
	}
	// N.B. Cleared, not only cut: lanes past the new ones would keep
	// data let go alive.
	clear(m.lanes)
	m.lanes = m.lanes[:0]
	m.drawn = m.fine()
	d := m.data
	if !m.drawn {
		d = nil
		for _, id := range m.tr.procs() {
			m.lanes = append(m.lanes, lane{kind: laneProc, pid: id, proc: &Proc{ID: id}})
		}
	}
	if d != nil {
		for _, p := range d.Procs {
			m.lanes = append(m.lanes, lane{kind: laneProc, proc: p, pid: p.ID})
		}
	}
	m.lanes = append(m.lanes, lane{kind: laneGC}, lane{kind: laneHeap})
	if m.why != nil {
		m.lanes = append(m.lanes, lane{kind: lanePath})
	}
	if d != nil {
		for _, gr := range d.Groups {
			m.lanes = append(m.lanes, lane{kind: laneGroup, group: gr})
			if m.open[gr] {
				for _, g := range gr.Goroutines {
					m.lanes = append(m.lanes, lane{kind: laneGoroutine, group: gr, g: g})
				}
			}
		}
	} else {
		for _, sg := range m.sumGroups() {
			m.lanes = append(m.lanes, lane{kind: laneSumGroup, name: sg.name})
		}
		m.lanes = append(m.lanes, lane{kind: laneHint})
	}
	m.sel = 0
	for i, l := range m.lanes {
		if l == keep {
			m.sel = i
		}
	}
	m.scroll()
}

// Init starts following the goroutines of a trace opened by summaries.
func (m *Model) Init() tea.Cmd { return m.groupsCmd() }

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 20), max(msg.Height, 8)
		m.scroll()
		return m, nil
	case loadedMsg:
		return m, m.loaded(msg)
	case findingsMsg:
		return m, m.gotFindings(msg)
	case groupsMsg:
		if msg.err != nil {
			m.status = msg.err.Error()
		}
		m.groups = msg.groups
		m.buildLanes()
		return m, nil
	case whyMsg:
		m.gotWhy(msg)
		m.buildLanes()
		return m, nil
	case tea.MouseWheelMsg:
		return m, m.mouse(tea.Mouse(msg))
	case tea.MouseClickMsg:
		return m, m.mouse(tea.Mouse(msg))
	case tea.PasteMsg:
		if m.prompt == promptNone {
			return m, nil
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	case tea.KeyPressMsg:
		if rs := []rune(msg.Text); len(rs) > 1 {
			// Keys typed faster than they are read come together: one
			// at a time, so that a key that opens a prompt gets the rest
			// typed into it.
			var cmds []tea.Cmd
			for _, r := range rs {
				k := typed(r)
				k.Mod |= msg.Mod
				_, cmd := m.Update(k)
				cmds = append(cmds, cmd)
			}
			return m, tea.Batch(cmds...)
		}
		if msg.Keystroke() == "ctrl+c" {
			m.quitting = true
			return m, tea.Quit
		}
		if m.prompt != promptNone {
			return m, m.promptKey(msg)
		}
		return m, m.key(msg)
	}
	return m, nil
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	m.status = ""
	if m.help {
		if key.Matches(msg, keys.Quit) {
			m.quitting = true
			return tea.Quit
		}
		m.help = false
		return nil
	}
	span := m.to - m.from
	switch {
	case key.Matches(msg, keys.Quit):
		m.quitting = true
		return tea.Quit
	case key.Matches(msg, keys.Help):
		m.help = true
	case key.Matches(msg, keys.Close):
		m.pane, m.marked = paneNone, nil
	case m.pane == paneTasks && key.Matches(msg, keys.Up):
		m.task = max(m.task-1, 0)
	case m.pane == paneTasks && key.Matches(msg, keys.Down):
		m.task = min(m.task+1, max(len(m.tasks)-1, 0))
	case m.pane == paneTasks && key.Matches(msg, keys.Toggle):
		return m.showTask()
	case m.pane == paneTasks && key.Matches(msg, keys.SlowestOfType):
		if m.task < len(m.tasks) {
			typ := m.tasks[m.task].Type
			m.task = slices.IndexFunc(m.tasks, func(t *Task) bool { return t.Type == typ })
			return m.showTask()
		}
	case key.Matches(msg, keys.Left):
		return m.moveCursor(-1)
	case key.Matches(msg, keys.Right):
		return m.moveCursor(1)
	case key.Matches(msg, keys.Up):
		m.selectLane(m.sel - 1)
	case key.Matches(msg, keys.Down):
		m.selectLane(m.sel + 1)
	case key.Matches(msg, keys.PageUp):
		m.selectLane(m.sel - m.laneRows())
	case key.Matches(msg, keys.PageDown):
		m.selectLane(m.sel + m.laneRows())
	case key.Matches(msg, keys.PanLeft):
		return m.setWindow(m.from-span/4, m.to-span/4)
	case key.Matches(msg, keys.PanRight):
		return m.setWindow(m.from+span/4, m.to+span/4)
	case key.Matches(msg, keys.ZoomIn):
		return m.zoom(m.cursor, 0.5)
	case key.Matches(msg, keys.ZoomOut):
		return m.zoom(m.cursor, 2)
	case key.Matches(msg, keys.ZoomAll):
		return m.setWindow(m.tr.Start, m.tr.End)
	case key.Matches(msg, keys.Toggle):
		m.toggle()
	case key.Matches(msg, keys.Detail):
		m.pane = togglePane(m.pane, paneDetail)
	case key.Matches(msg, keys.Tasks):
		m.pane = togglePane(m.pane, paneTasks)
	case key.Matches(msg, keys.Stats):
		m.pane = togglePane(m.pane, paneStats)
		if m.pane == paneStats {
			return m.findingsCmd()
		}
	case key.Matches(msg, keys.NextEvent):
		return m.nextChange(1)
	case key.Matches(msg, keys.PrevEvent):
		return m.nextChange(-1)
	case key.Matches(msg, keys.Unblocker):
		return m.jumpUnblocker()
	case key.Matches(msg, keys.Creator):
		return m.jumpCreator()
	case key.Matches(msg, keys.Goto):
		m.startPrompt(promptGoto)
	case key.Matches(msg, keys.Search):
		m.startPrompt(promptSearch)
	case key.Matches(msg, keys.NextMatch):
		return m.showMatch(m.match + 1)
	case key.Matches(msg, keys.PrevMatch):
		return m.showMatch(m.match - 1)
	}
	return nil
}

func togglePane(cur, p pane) pane {
	if cur == p {
		return paneNone
	}
	return p
}

func (m *Model) startPrompt(p prompt) {
	m.prompt = p
	m.input.SetValue("")
	m.input.Focus()
}

func (m *Model) promptKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.Keystroke() {
	case "esc":
		m.prompt = promptNone
		m.input.Blur()
		return nil
	case "enter":
		p, text := m.prompt, strings.TrimSpace(m.input.Value())
		m.prompt = promptNone
		m.input.Blur()
		if p == promptGoto {
			return m.gotoTime(text)
		}
		return m.search(text)
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// gotoTime centres the window on the time text names, from the trace's
// start.
func (m *Model) gotoTime(text string) tea.Cmd {
	d, err := parseTime(text)
	if err != nil {
		m.status = err.Error()
		return nil
	}
	t := m.tr.Start + trace.Time(d)
	if t > m.tr.End {
		m.status = fmt.Sprintf("%s is past the trace's end (%s)", text, fmtDur(m.tr.End-m.tr.Start))
		return nil
	}
	m.cursor = t
	return m.centre(t)
}

// parseTime reads a duration, bare numbers as seconds.
func parseTime(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(strings.ReplaceAll(s, "µ", "u"))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("go to %q: want a time from the trace's start, such as 1.5ms", s)
	}
	return d, nil
}

// search lists the goroutines whose label, ID or any stack frame of
// theirs contains text, and shows the first.
func (m *Model) search(text string) tea.Cmd {
	m.matches, m.match = nil, 0
	if text == "" {
		return nil
	}
	if !m.drawn {
		m.status = "zoom in to search: the goroutines are read a few generations at a time"
		return nil
	}
	// Goroutines named by the text first, then those with it on a stack.
	needle := strings.ToLower(text)
	var onStack []found
	for _, g := range m.data.Goroutines {
		switch goroutineMatches(m.data, g, needle) {
		case byName:
			m.matches = append(m.matches, m.found(g))
		case byStack:
			onStack = append(onStack, m.found(g))
		}
	}
	m.matches = append(m.matches, onStack...)
	if len(m.matches) == 0 {
		m.status = fmt.Sprintf("no goroutine matches %q", text)
		return nil
	}
	return m.showMatch(0)
}

// How a goroutine matches a search.
const (
	noMatch = iota
	byName  // its ID or start function
	byStack // a frame of a stack of its
)

func goroutineMatches(d *Data, g *Goroutine, needle string) int {
	id := strings.TrimPrefix(needle, "g")
	if _, err := strconv.ParseUint(id, 10, 64); err == nil {
		if strconv.FormatInt(int64(g.ID), 10) == id {
			return byName
		}
	} else if strings.Contains(strings.ToLower(g.Name), needle) {
		return byName
	}
	stacks := []timeline.StackRef{g.CreatorStack}
	for i := range g.Intervals {
		stacks = append(stacks, d.Stack(&g.Intervals[i]))
		if len(stacks) > 64 {
			break // the stacks it blocks at repeat
		}
	}
	for _, st := range stacks {
		for f := range st.Frames() {
			if strings.Contains(strings.ToLower(f.Func), needle) {
				return byStack
			}
		}
	}
	return noMatch
}

func (m *Model) showMatch(i int) tea.Cmd {
	if len(m.matches) == 0 {
		m.status = "no search: / searches goroutines"
		return nil
	}
	m.match = (i%len(m.matches) + len(m.matches)) % len(m.matches)
	f := m.matches[m.match]
	m.status = fmt.Sprintf("match %d of %d: %s", m.match+1, len(m.matches), f.label)
	if g := f.in(m.data); g != nil {
		return m.focus(g, f.at)
	}
	// The data it was found in was let go: to it, and to its lane once
	// read again.
	m.cursor, m.seek = f.at, &f
	return m.centre(f.at)
}

// found is a goroutine a search found, by what finds it again in other
// data read: its ID, alive at the time it is shown at.
type found struct {
	id    trace.GoID
	at    trace.Time // its first span's start, or its creation
	label string
}

// found is the match for g.
func (m *Model) found(g *Goroutine) found {
	t := max(g.Created, m.data.Start)
	if len(g.Intervals) > 0 {
		t = g.Intervals[0].Start
	}
	return found{id: g.ID, at: t, label: g.Label()}
}

// in is the goroutine f names in d, nil if none or d is nil.
func (f *found) in(d *Data) *Goroutine {
	if d == nil {
		return nil
	}
	return d.live(f.id, f.at)
}

// sought selects the goroutine a jump went to, now that data is read.
func (m *Model) sought() {
	f := m.seek
	m.seek = nil
	if g := f.in(m.data); g != nil && m.drawn {
		m.open[g.Group] = true
		m.buildLanes()
		for i, l := range m.lanes {
			if l.g == g {
				m.selectLane(i)
			}
		}
	}
}

// focus selects g's lane, opening its group, and puts the cursor at t,
// in the window.
func (m *Model) focus(g *Goroutine, t trace.Time) tea.Cmd {
	m.open[g.Group] = true
	m.buildLanes()
	for i, l := range m.lanes {
		if l.g == g {
			m.selectLane(i)
		}
	}
	m.cursor = t
	if m.pane == paneNone {
		m.pane = paneDetail
	}
	if t < m.from || t >= m.to {
		f := m.found(g)
		f.at = t
		cmd := m.centre(t)
		if m.data == nil {
			// Its lane goes with the data let go: selected again once
			// read.
			m.seek = &f
		}
		return cmd
	}
	return nil
}

func (m *Model) centre(t trace.Time) tea.Cmd {
	half := (m.to - m.from) / 2
	return m.setWindow(t-min(half, t), t+half)
}

// toggle opens or closes the selected group, or shows the selected
// goroutine's detail.
func (m *Model) toggle() {
	if m.sel >= len(m.lanes) {
		return
	}
	l := m.lanes[m.sel]
	switch l.kind {
	case laneGroup:
		m.open[l.group] = !m.open[l.group]
		m.buildLanes()
	case laneGoroutine:
		m.pane = paneDetail
	case laneSumGroup:
		m.status = "zoom in to open the group: its goroutines are read a few generations at a time"
	}
}

func (m *Model) selectLane(i int) {
	m.sel = max(min(i, len(m.lanes)-1), 0)
	m.scroll()
}

// scroll keeps the selected lane on screen.
func (m *Model) scroll() {
	rows := m.laneRows()
	if m.sel < m.top {
		m.top = m.sel
	}
	if m.sel >= m.top+rows {
		m.top = m.sel - rows + 1
	}
	m.top = max(min(m.top, len(m.lanes)-rows), 0)
}

// moveCursor moves the cursor by n columns, panning at the edges.
func (m *Model) moveCursor(n int) tea.Cmd {
	w := m.laneWidth()
	col := m.column(m.cursor) + n
	step := float64(m.to-m.from) / float64(w)
	m.cursor = m.from + trace.Time((float64(col)+0.5)*step)
	m.cursor = max(min(m.cursor, m.tr.End), m.tr.Start)
	if col < 0 || col >= w {
		return m.centre(m.cursor)
	}
	return nil
}

// column is the lane column holding t.
func (m *Model) column(t trace.Time) int {
	w := m.laneWidth()
	if t < m.from {
		return -1
	}
	return int(float64(t-m.from) * float64(w) / float64(m.to-m.from))
}

// zoom scales the window by f around t.
func (m *Model) zoom(t trace.Time, f float64) tea.Cmd {
	t = max(min(t, m.to), m.from)
	from := float64(t) - float64(t-m.from)*f
	to := float64(t) + float64(m.to-t)*f
	return m.setWindow(trace.Time(max(from, 0)), trace.Time(to))
}

// setWindow shows [from, to), kept inside the trace and at least a
// nanosecond a column wide.
func (m *Model) setWindow(from, to trace.Time) tea.Cmd {
	span := max(to-from, trace.Time(m.laneWidth()))
	if all := m.tr.End - m.tr.Start; span > all {
		span = all
	}
	if from < m.tr.Start || from > m.tr.End {
		from = m.tr.Start
	}
	if from+span > m.tr.End {
		from = m.tr.End - span
	}
	m.from, m.to = from, from+span
	if m.cursor < m.from || m.cursor >= m.to {
		m.cursor = m.from + span/2
	}
	if m.fine() != m.drawn {
		m.buildLanes()
	}
	if m.pane == paneStats {
		return tea.Batch(m.need(), m.findingsCmd())
	}
	return m.need()
}

// selected is the goroutine of the selected lane, nil on other lanes.
func (m *Model) selected() *Goroutine {
	if m.sel < len(m.lanes) {
		return m.lanes[m.sel].g
	}
	return nil
}

// nextChange moves the cursor to where the selected lane next (dir 1)
// or last (dir -1) changes: a goroutine's next interval, a P's next
// goroutine, the collector's next phase.
func (m *Model) nextChange(dir int) tea.Cmd {
	if m.sel >= len(m.lanes) {
		return nil
	}
	var edges []trace.Time
	l := m.lanes[m.sel]
	switch l.kind {
	case laneGoroutine:
		for _, iv := range l.g.Intervals {
			edges = append(edges, iv.Start)
		}
	case laneGroup:
		for _, g := range l.group.Goroutines {
			for _, iv := range g.Intervals {
				edges = append(edges, iv.Start)
			}
		}
	case laneProc:
		for _, r := range l.proc.Runs {
			edges = append(edges, r.Start, r.End)
		}
	case laneGC:
		gc, stw := m.gcRanges()
		for _, r := range append(slices.Clone(gc), stw...) {
			edges = append(edges, r.Start, r.End)
		}
	case laneHeap:
		for _, s := range m.heap() {
			edges = append(edges, s.T)
		}
	}
	slices.Sort(edges)
	var t trace.Time
	found := false
	if dir > 0 {
		i, _ := slices.BinarySearch(edges, m.cursor+1)
		if i < len(edges) {
			t, found = edges[i], true
		}
	} else {
		i, _ := slices.BinarySearch(edges, m.cursor)
		if i > 0 {
			t, found = edges[i-1], true
		}
	}
	if !found {
		m.status = "no change further on this lane"
		return nil
	}
	m.cursor = t
	if t < m.from || t >= m.to {
		return m.centre(t)
	}
	return nil
}

// jumpUnblocker moves to the goroutine that ended the wait under the
// cursor, at the time it did.
func (m *Model) jumpUnblocker() tea.Cmd {
	g := m.selected()
	if g == nil {
		m.status = "select a goroutine first (enter opens a group)"
		return nil
	}
	iv := g.At(m.cursor)
	if iv == nil || iv.State != trace.GoWaiting {
		m.status = "the cursor is not on a wait"
		return nil
	}
	if iv.Unblocker == trace.NoGoroutine {
		m.status = "no goroutine ended this wait"
		return nil
	}
	u := m.data.live(iv.Unblocker, iv.End)
	if u == nil {
		m.status = fmt.Sprintf("G%d ended this wait; it is not in what was read", iv.Unblocker)
		return nil
	}
	cmd := m.focus(u, iv.End)
	m.status = fmt.Sprintf("%s ended the wait of %s", u.Label(), g.Label())
	return cmd
}

// jumpCreator moves to the selected goroutine's creator, where it
// created it.
func (m *Model) jumpCreator() tea.Cmd {
	g := m.selected()
	if g == nil {
		m.status = "select a goroutine first (enter opens a group)"
		return nil
	}
	if g.Creator == nil {
		m.status = g.Label() + " has no creator in the trace"
		return nil
	}
	cmd := m.focus(g.Creator, g.Created)
	m.status = fmt.Sprintf("%s created %s", g.Creator.Label(), g.Label())
	return cmd
}

// live is the goroutine with the ID alive at t.
func (d *Data) live(id trace.GoID, t trace.Time) *Goroutine {
	for _, g := range d.Goroutines {
		if g.ID == id && (g.Existed || g.Created <= t) && (g.Ended == 0 || g.Ended >= t) {
			return g
		}
	}
	return nil
}

// showTask fits the window to the selected task and marks it.
func (m *Model) showTask() tea.Cmd {
	if m.task < 0 || m.task >= len(m.tasks) {
		return nil
	}
	t := m.tasks[m.task]
	m.marked = t
	pad := max((t.End-t.Start)/8, 1)
	m.cursor = t.Start
	cmd := m.setWindow(t.Start-min(pad, t.Start), t.End+pad)
	if m.whyTask != t {
		return tea.Batch(cmd, m.whyCmd(t))
	}
	return cmd
}

// mouse handles a wheel turn or a click.
func (m *Model) mouse(msg tea.Mouse) tea.Cmd {
	x := msg.X - m.labelWidth() - 1
	w := m.laneWidth()
	t := m.cursor
	if x >= 0 && x < w {
		t = m.from + trace.Time((float64(x)+0.5)*float64(m.to-m.from)/float64(w))
	}
	switch msg.Button {
	case tea.MouseWheelUp:
		return m.zoom(t, 0.5)
	case tea.MouseWheelDown:
		return m.zoom(t, 2)
	case tea.MouseWheelLeft:
		span := m.to - m.from
		return m.setWindow(m.from-span/8, m.to-span/8)
	case tea.MouseWheelRight:
		span := m.to - m.from
		return m.setWindow(m.from+span/8, m.to+span/8)
	case tea.MouseLeft:
		row := msg.Y - headerRows
		if row >= 0 && row < m.laneRows() && m.top+row < len(m.lanes) {
			m.selectLane(m.top + row)
			if x >= 0 && x < w {
				m.cursor = t
			}
			if m.lanes[m.sel].kind == laneGroup && x < 0 {
				m.toggle()
			}
		}
	}
	return nil
}
