package view

import (
	"flag"
	"github.com/gotrace-cli/gotrace/internal/golden"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"golang.org/x/exp/trace"
)

var update = flag.Bool("update", false, "rewrite the golden screens")

// newModel is the model of a committed trace at a size, in colour (256
// colours, pinned) or without.
func newModel(t *testing.T, name string, w, h int, mono bool) *Model {
	t.Helper()
	d := loadFile(t, tracePath(name))
	p := colorprofile.ANSI256
	if mono {
		p = colorprofile.Ascii
	}
	m := New(NewTrace(d), Options{File: name, Mono: mono, Profile: p})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// openModel is the monochrome model of a committed trace opened as the
// command opens it, with the file to read again.
func openModel(t *testing.T, name string, w, h int) *Model {
	t.Helper()
	tr, err := OpenFile(openFile(t, tracePath(name)))
	if err != nil {
		t.Fatal(err)
	}
	m := New(tr, Options{File: name, Mono: true, Profile: colorprofile.Ascii})
	m.Send(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// press sends the keys ParseKeys reads from s.
func press(t *testing.T, m *Model, s string) {
	t.Helper()
	ks, err := ParseKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		m.Update(k)
	}
}

func wheel(m *Model, b tea.MouseButton, x, y int) {
	m.Update(tea.MouseWheelMsg{X: x, Y: y, Button: b})
}

// checkScreen compares the model's screen with testdata/screens/NAME.
func checkScreen(t *testing.T, m *Model, name string) {
	t.Helper()
	got := m.Screen() + "\n"
	golden.Check(t, filepath.Join("testdata", "screens", name), got, *update)
}

func TestScreens(t *testing.T) {
	cases := []struct {
		name, trace string
		w, h        int
		mono        bool
		do          func(t *testing.T, m *Model)
	}{
		{"first-mono-80x24", "workers.trace", 80, 24, true, nil},
		{"first-colour-100x30", "workers.trace", 100, 30, false, nil},
		{"zoom-keys", "workers.trace", 80, 24, true, func(t *testing.T, m *Model) { press(t, m, "+ + + right right right h") }},
		{"zoom-wheel-colour", "workers.trace", 100, 30, false, func(t *testing.T, m *Model) {
			for range 4 {
				wheel(m, tea.MouseWheelUp, 60, 5)
			}
			wheel(m, tea.MouseWheelRight, 60, 5)
		}},
		{"zoom-out", "workers.trace", 80, 24, true, func(t *testing.T, m *Model) { press(t, m, "+ + + + - 0 -") }},
		{"select-group", "workers.trace", 80, 24, true, func(t *testing.T, m *Model) { press(t, m, "down down down down down enter down") }},
		{"click", "workers.trace", 80, 24, true, func(t *testing.T, m *Model) {
			m.Update(tea.MouseClickMsg{X: 2, Y: 7, Button: tea.MouseLeft})
			m.Update(tea.MouseClickMsg{X: 40, Y: 8, Button: tea.MouseLeft})
			press(t, m, "enter")
		}},
		{"search-detail", "workers.trace", 80, 24, true, func(t *testing.T, m *Model) { press(t, m, "/ fetchAll enter") }},
		{"search-detail-colour", "workers.trace", 100, 30, false, func(t *testing.T, m *Model) { press(t, m, "/ fetchAll enter") }},
		{"resize", "workers.trace", 80, 24, true, func(t *testing.T, m *Model) {
			press(t, m, "/ fetchAll enter")
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		}},
		{"resize-small", "workers.trace", 120, 40, true, func(t *testing.T, m *Model) {
			m.Update(tea.WindowSizeMsg{Width: 60, Height: 16})
		}},
		{"help", "workers.trace", 80, 36, true, func(t *testing.T, m *Model) { press(t, m, "?") }},
		{"goto", "workers.trace", 80, 24, true, func(t *testing.T, m *Model) { press(t, m, "+ + + + g 300ms enter") }},
		{"goto-prompt", "workers.trace", 80, 24, true, func(t *testing.T, m *Model) { press(t, m, "g 30") }},
		{"tasks", "annotated.trace", 80, 24, true, func(t *testing.T, m *Model) { press(t, m, "t down enter") }},
		{"stats", "workers.trace", 80, 24, true, func(t *testing.T, m *Model) { press(t, m, "+ + s") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newModel(t, c.trace, c.w, c.h, c.mono)
			if c.do != nil {
				c.do(t, m)
			}
			checkScreen(t, m, c.name)
		})
	}
}

// TestUnblocker walks to a goroutine's wait that another goroutine ended
// and checks that u selects that one, at the time it did.
func TestUnblocker(t *testing.T) {
	m := newModel(t, "workers.trace", 80, 24, true)
	press(t, m, "/ fetch.func1 enter")
	var g *Goroutine
	var iv *Span
	for range m.matches {
		g = m.selected()
		if g == nil || !strings.Contains(g.Name, "fetch.func1") {
			t.Fatalf("search selected %v", g)
		}
		for i := range g.Intervals {
			if g.Intervals[i].State == trace.GoWaiting && g.Intervals[i].Unblocker != trace.NoGoroutine {
				iv = &g.Intervals[i]
				break
			}
		}
		if iv != nil {
			break
		}
		press(t, m, "n")
	}
	if iv == nil {
		t.Fatal("no wait ended by a goroutine")
	}
	for m.cursor < iv.Start {
		before := m.cursor
		press(t, m, "]")
		if m.cursor == before {
			t.Fatal("] did not move")
		}
	}
	if at := g.At(m.cursor); at == nil || at.Start != iv.Start {
		t.Fatalf("cursor at %d, not on the wait at %d", m.cursor, iv.Start)
	}
	checkScreen(t, m, "unblocker-before")
	press(t, m, "u")
	u := m.selected()
	if u == nil || u.ID != iv.Unblocker || m.cursor != iv.End {
		t.Fatalf("u selected %v at %d, want G%d at %d", u, m.cursor, iv.Unblocker, iv.End)
	}
	checkScreen(t, m, "unblocker-after")
	press(t, m, "c")
	if m.selected() != u.Creator {
		t.Errorf("c selected %v, want the creator %v", m.selected(), u.Creator)
	}
}

// TestSearchMatches checks that a search finds goroutines by ID and by a
// frame of their stacks, and n goes round them.
func TestSearchMatches(t *testing.T) {
	m := newModel(t, "workers.trace", 80, 24, true)
	press(t, m, "/ G1 enter")
	if g := m.selected(); g == nil || g.ID != 1 {
		t.Fatalf("/G1 selected %v", g)
	}
	press(t, m, "/ slowCall enter")
	n := len(m.matches)
	if n == 0 {
		t.Fatal("no goroutine has slowCall on a stack")
	}
	first := m.selected()
	for range n {
		press(t, m, "n")
	}
	if m.selected() != first {
		t.Errorf("n %d times did not come back round", n)
	}
}

// TestTypedTogether: keys that come in one message are pressed one at a
// time, so the key that opens a prompt gets the rest typed into it; a
// paste goes into an open prompt whole and does nothing without one.
func TestTypedTogether(t *testing.T) {
	m := newModel(t, "workers.trace", 80, 24, true)
	m.Update(tea.PasteMsg{Content: "q"})
	if m.quitting {
		t.Fatal("a paste of q quit")
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyExtended, Text: "/G1"})
	if m.prompt != promptSearch || m.input.Value() != "G1" {
		t.Fatalf("/G1 together: prompt %d, %q typed", m.prompt, m.input.Value())
	}
	m.Update(tea.PasteMsg{Content: "8"})
	press(t, m, "enter")
	if g := m.selected(); g == nil || g.ID != 18 {
		t.Errorf("/G1, 8 pasted: selected %v", g)
	}
}

func TestQuit(t *testing.T) {
	for _, k := range []tea.KeyPressMsg{{Code: 'q', Text: "q"}, {Code: 'c', Mod: tea.ModCtrl}} {
		m := newModel(t, "annotated.trace", 80, 24, true)
		press(t, m, "/ main") // q while typing is text; Ctrl-C still quits
		_, cmd := m.Update(k)
		if k.Text != "" {
			press(t, m, "esc")
			_, cmd = m.Update(k)
		}
		if cmd == nil {
			t.Fatalf("%v: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%v: not a quit", k)
		}
	}
}

// TestTaskPath chooses the slowest task of a request-serving program in
// the tasks pane: its critical path, as gotrace why walks it, is listed
// with its breakdown and drawn on a lane of its own over the task's span.
func TestTaskPath(t *testing.T) {
	m := openModel(t, "requests.trace", 100, 30)
	ks, _ := ParseKeys("t enter")
	for _, k := range ks {
		m.Send(k)
	}
	if m.why == nil {
		t.Fatalf("no critical path: %s", m.status)
	}
	if m.whyTask != m.tasks[0] || trace.Time(m.why.Wall) != m.tasks[0].Duration() {
		t.Errorf("path of task %d, %d ns; the slowest is task %d, %d ns", m.whyTask.ID, m.why.Wall, m.tasks[0].ID, m.tasks[0].Duration())
	}
	var share float64
	for _, p := range m.why.Breakdown {
		share += p.Share
	}
	if share < 0.999 || share > 1.001 {
		t.Errorf("the breakdown's shares add up to %f", share)
	}
	checkScreen(t, m, "task-path")
}

// TestStatsFindings opens the stats pane on the hot-lock program: the
// window's numbers, then gotrace stats's ranked findings, which name the
// lock.
func TestStatsFindings(t *testing.T) {
	m := openModel(t, "hotlock.trace", 120, 30)
	m.Send(tea.KeyPressMsg{Code: 's', Text: "s"})
	if !m.findingsDone || len(m.findings) == 0 {
		t.Fatalf("no findings: %q", m.findingsErr)
	}
	if !strings.Contains(m.findings[0].What, "lock") {
		t.Errorf("the first finding is %q, not the lock", m.findings[0].What)
	}
	checkScreen(t, m, "stats-findings")
}
