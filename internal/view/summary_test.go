package view

import (
	"cmp"
	"errors"
	"github.com/gotrace-cli/gotrace/internal/decode"
	"os"
	"path/filepath"
	"slices"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
	"golang.org/x/exp/trace"
)

// TestSummaries holds what the wire pass says of each trace to the data
// read in full, which the tests above hold to go tool trace and
// golang.org/x/exp/trace: the same GC cycles, stopped worlds and heap
// samples, and each P busy for the same time within 3%.
func TestSummaries(t *testing.T) {
	for _, name := range []string{"annotated.trace", "workers.trace", "hotlock.trace", "overlap.trace", "flight.trace"} {
		t.Run(name, func(t *testing.T) {
			path := timelinetest.Restamped(t, tracePath(name))
			gens, err := Summarize(openFile(t, path))
			if err != nil {
				t.Fatal(err)
			}
			d := loadFile(t, path)
			var heap []Sample
			busy := map[trace.ProcID]trace.Time{}
			gcN, stwN := 0, 0
			for i, g := range gens {
				// A cycle or a stopped world across a generation
				// boundary is in both.
				gcN += continued(g.GC, g.Start, i > 0 && endsOpen(gens[i-1].GC, gens[i-1].Last))
				stwN += continued(g.STW, g.Start, i > 0 && endsOpen(gens[i-1].STW, gens[i-1].Last))
				heap = append(heap, g.Heap...)
				for p, bs := range g.Busy {
					for _, b := range bs {
						busy[p] += b
					}
				}
			}
			if want := len(d.GC); gcN != want {
				t.Errorf("%d GC cycles, read in full: %d", gcN, want)
			}
			if want := len(d.STW); stwN != want {
				t.Errorf("%d stopped worlds, read in full: %d", stwN, want)
			}
			// N.B. Samples written about the same time by two threads
			// come in either order: the same values, as a set.
			byTime := func(a, b Sample) int { return cmp.Compare(a.Value, b.Value) }
			want := slices.Clone(d.Heap)
			slices.SortFunc(heap, byTime)
			slices.SortFunc(want, byTime)
			if len(heap) != len(want) {
				t.Fatalf("%d heap samples, read in full: %d", len(heap), len(d.Heap))
			}
			for i := range heap {
				if heap[i].Value != want[i].Value {
					t.Errorf("heap sample %d: %d bytes, read in full: %d", i, heap[i].Value, want[i].Value)
				}
			}
			for _, p := range d.Procs {
				var want trace.Time
				for _, r := range p.Runs {
					want += r.End - r.Start
				}
				// N.B. The wire's threads do not say which P runs a
				// goroutine as golang.org/x/exp/trace's ordering does:
				// a few percent of the running escapes them.
				if got := busy[p.ID]; float64(absDiff(got, want)) > 0.03*float64(want) {
					t.Errorf("P%d busy %d ns by the wire, %d read in full", p.ID, got, want)
				}
			}
		})
	}
}

func absDiff(a, b trace.Time) trace.Time {
	if a > b {
		return a - b
	}
	return b - a
}

// continued counts the ranges of a generation beginning at start, less
// the first when the generation before ended in one.
func continued(rs []Range, start trace.Time, open bool) int {
	if open && len(rs) > 0 && rs[0].Start == start {
		return len(rs) - 1
	}
	return len(rs)
}

// endsOpen reports whether the last of rs lasts to the generation's end.
func endsOpen(rs []Range, last trace.Time) bool {
	return len(rs) > 0 && rs[len(rs)-1].End == last
}

// TestSummaryScreens opens a trace of two generations as a large one is
// opened, with a bound that keeps the whole of it from being read: the
// first screen is drawn from the summaries, the goroutine groups once
// followed over the wire, and zooming in reads the generation in view,
// then the goroutines show one by one.
func TestSummaryScreens(t *testing.T) {
	m := summarizedModel(t)
	if m.drawn || m.data != nil {
		t.Fatal("the whole trace was read")
	}
	checkScreen(t, m, "summary-first")
	for range 4 {
		m.Send(tea.KeyPressMsg{Code: '+', Text: "+"})
	}
	if !m.drawn {
		t.Fatal("zoomed in, nothing was read")
	}
	if m.data.Start > m.from || m.data.End < m.to {
		t.Errorf("read %d–%d for the window %d–%d", m.data.Start, m.data.End, m.from, m.to)
	}
	checkScreen(t, m, "summary-zoomed")
	press(t, m, "0")
	if m.drawn {
		t.Error("zoomed out, still drawn from what was read")
	}
}

// summarizedModel opens overlap.trace, of two generations, as a large
// trace is opened, with a bound that keeps the whole of it from being
// read, at 80x20 with its groups followed.
func summarizedModel(t *testing.T) *Model {
	t.Helper()
	f := openFile(t, tracePath("overlap.trace"))
	tr, err := openSummarized(f)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	tr.src = &source{r: f, size: fi.Size()}
	tr.maxBytes = 200 << 10
	m := New(tr, Options{File: "overlap.trace", Mono: true, Profile: colorprofile.Ascii})
	m.Send(tea.WindowSizeMsg{Width: 80, Height: 20})
	m.Settle()
	return m
}

// TestLetGo zooms in on one generation, opens a group and searches, then
// moves to the other generation: as its read starts, nothing of the data
// read before is held (it is not drawn meanwhile), and once read the
// other generation's goroutines are drawn. The search's matches are kept
// by ID: going to one reads its generation again and selects it.
func TestLetGo(t *testing.T) {
	m := summarizedModel(t)
	mid := func(i int) trace.Time { g := &m.tr.Gens[i]; return g.Start + (g.Last-g.Start)/2 }
	for range 6 {
		m.Send(tea.KeyPressMsg{Code: '+', Text: "+"})
	}
	m.settle(m.centre(mid(0)))
	if !m.drawn || m.first != 0 || m.last != 0 {
		t.Fatalf("zoomed in on the first generation, read %v: %d–%d", m.drawn, m.first, m.last)
	}
	m.open[m.data.Groups[0]] = true
	m.buildLanes()
	ks, _ := ParseKeys("/ runtime enter")
	for _, k := range ks {
		m.Send(k)
	}
	if len(m.matches) == 0 {
		t.Fatalf("no goroutine matches runtime: %q, %d goroutines", m.status, len(m.data.Goroutines))
	}
	cmd := m.centre(mid(1))
	if cmd == nil || !m.loading {
		t.Fatal("no read of the second generation")
	}
	if m.data != nil || m.tasks != nil || len(m.open) != 0 {
		t.Errorf("reading the next window, the model holds the last: data %v, %d tasks, %d groups open", m.data != nil, len(m.tasks), len(m.open))
	}
	for _, l := range m.lanes[:cap(m.lanes)] {
		if l.g != nil || l.group != nil || (l.proc != nil && l.proc.Runs != nil) {
			t.Fatalf("a lane holds the data let go: %+v", l)
		}
	}
	m.settle(cmd)
	if !m.drawn || m.first != 1 {
		t.Errorf("drawn %v from generation %d, want the second", m.drawn, m.first)
	}
	// The search still goes round what it found, read again.
	want := m.matches[0]
	m.settle(m.showMatch(0))
	if g := m.selected(); g == nil || g.ID != want.id || m.first != 0 {
		t.Errorf("the first match, %s, not selected in generation %d: %v", want.label, m.first, g)
	}
}

// TestFindingsOneAtATime zooms in with the stats pane open faster than
// the findings are found: one analysis runs at a time, and when it is
// done the generations then in view are asked for.
func TestFindingsOneAtATime(t *testing.T) {
	m := summarizedModel(t)
	// The commands run at once, their messages held back.
	var found []findingsMsg
	var run func(tea.Cmd)
	run = func(cmd tea.Cmd) {
		if cmd == nil {
			return
		}
		switch msg := cmd().(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				run(c)
			}
		case findingsMsg:
			found = append(found, msg)
		}
	}
	_, cmd := m.Update(tea.KeyPressMsg{Code: 's', Text: "s"})
	run(cmd)
	for range 4 {
		_, cmd := m.Update(tea.KeyPressMsg{Code: '+', Text: "+"})
		run(cmd)
	}
	if len(found) != 1 {
		t.Fatalf("%d analyses started, want 1", len(found))
	}
	m.Send(found[0])
	first, last := m.tr.gensIn(m.from, m.to)
	if !m.findingsDone || m.findingsFirst != first || m.findingsLast != last {
		t.Errorf("findings for generations %d–%d, window on %d–%d", m.findingsFirst, m.findingsLast, first, last)
	}
}

// TestSummaryDamage cuts a trace of two generations in its second: the
// summaries hold the first, and the damage says where the second is.
func TestSummaryDamage(t *testing.T) {
	data, err := os.ReadFile(tracePath("overlap.trace"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.trace")
	if err := os.WriteFile(path, data[:len(data)*9/10], 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := openSummarized(openFile(t, path))
	var de *decode.Error
	if !errors.As(err, &de) || tr == nil {
		t.Fatalf("got %v, %v; want the first generation and a *decode.Error", tr, err)
	}
	if len(tr.Gens) != 1 || de.Offset < tr.Gens[0].End {
		t.Errorf("%d generations, damage at byte %d (the first ends at %d)", len(tr.Gens), de.Offset, tr.Gens[0].End)
	}
}

// TestGroupSummaries holds the time each goroutine group spent running,
// runnable, in system calls and blocked, as the wire pass adds it up, to
// the data read in full: within 3% of the group's time, and 100µs.
func TestGroupSummaries(t *testing.T) {
	for _, name := range []string{"annotated.trace", "workers.trace", "hotlock.trace", "overlap.trace", "flight.trace"} {
		t.Run(name, func(t *testing.T) {
			path := timelinetest.Restamped(t, tracePath(name))
			f := openFile(t, path)
			tr, err := openSummarized(f)
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := f.Stat()
			tr.src = &source{r: f, size: fi.Size()}
			m := New(tr, Options{})
			m.Settle()
			if m.groups == nil {
				t.Fatalf("no groups: %s", m.status)
			}
			got := map[string]*[numSum]trace.Time{}
			for _, gt := range m.groups {
				for g, buckets := range gt {
					if got[g] == nil {
						got[g] = new([numSum]trace.Time)
					}
					for _, b := range buckets {
						for c := range numSum {
							got[g][c] += b[c]
						}
					}
				}
			}
			d := loadFile(t, path)
			checked := 0
			for _, gr := range d.Groups {
				var want [numSum]trace.Time
				for _, g := range gr.Goroutines {
					for _, iv := range g.Intervals {
						c := classOf(&iv)
						for k := range numSum {
							if sumClass[k] == c || k == sumBlocked && c >= clBlocked {
								want[k] += iv.End - iv.Start
							}
						}
					}
				}
				var total trace.Time
				for _, v := range want {
					total += v
				}
				g := got[gr.Name]
				if g == nil {
					t.Errorf("group %q (%d goroutines): not in the summaries", gr.Name, len(gr.Goroutines))
					continue
				}
				for c := range numSum {
					if absDiff(g[c], want[c]) > total*3/100+100_000 {
						t.Errorf("group %q, %s: %d ns by the wire, %d read in full (of %d)", gr.Name, className(sumClass[c]), g[c], want[c], total)
					}
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("no group compared")
			}
		})
	}
}
