package report

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

// WorldAt is what gotrace at writes as JSON.
type WorldAt struct {
	Schema string `json:"schema"`
	File   string `json:"file"`
	*drill.World
}

// At renders the world of file at one instant. The text shows at most top
// goroutines of each state (all for 0); JSON has them all.
func At(w io.Writer, file, arg string, world *drill.World, top int, o Options, so StackOptions) error {
	if o.Mode == JSON {
		return writeJSON(w, WorldAt{Schema: drill.AtSchema, File: file, World: world})
	}
	d := &doc{title: fmt.Sprintf("gotrace at %s %s", file, arg)}
	d.subtitle = "+" + stats.Duration(world.At).String()
	if world.Wall != "" {
		d.subtitle += " (" + world.Wall + ")"
	}
	d.subtitle += fmt.Sprintf(", in generation %d (+%s to +%s): a state held since it began is shown as ≤ its start",
		world.Generation, stats.Duration(world.GenFrom), stats.Duration(world.GenTo))

	s := section{title: "World"}
	rng := func(r *drill.RangeAt) string {
		if r == nil {
			return "off"
		}
		return fmt.Sprintf("on: %s, since %s (%s)", r.Name, since(r.Since, r.SinceAtLeast), forText(r.For, r.SinceAtLeast))
	}
	s.kv(pair("GC", rng(world.GC)), pair("Stop-the-world", rng(world.STW)),
		pair("Goroutines", fmt.Sprintf("%d running, %d runnable, %d blocked, %d in system calls",
			len(world.Running), len(world.Runnable), len(world.Blocked), len(world.Syscall))))
	d.sections = append(d.sections, s)

	ps := section{title: "Ps"}
	pt := &tbl{head: []string{"P", "State", "Goroutine", "Start function"}, right: []bool{true, false, true, false}}
	for _, p := range world.Procs {
		g := ""
		if p.Goroutine >= 0 {
			g = strconv.FormatInt(p.Goroutine, 10)
		}
		pt.row(strconv.FormatInt(p.ID, 10), p.State, g, p.Name)
	}
	ps.add(pt)
	d.sections = append(d.sections, ps)

	for _, st := range []struct {
		title string
		gs    []drill.GoAt
	}{{"Running", world.Running}, {"Runnable", world.Runnable}, {"Blocked", world.Blocked}, {"In system calls", world.Syscall}} {
		if len(st.gs) == 0 {
			continue
		}
		sec := section{title: st.title}
		blocked := st.title == "Blocked"
		t := &tbl{head: []string{"ID", "Start function", "Kind", "Since", "For", "Stack"}, right: []bool{true, false, false, true, true, false}}
		if blocked {
			t.head = []string{"ID", "Start function", "Kind", "Reason", "Since", "For", "Stack"}
			t.right = []bool{true, false, false, false, true, true, false}
		}
		gs := st.gs
		if top > 0 && len(gs) > top {
			gs = gs[:top]
		}
		for _, g := range gs {
			name := g.Name
			if name == "" {
				name = "(unknown)"
			}
			if g.P >= 0 {
				name += " on P" + strconv.FormatInt(g.P, 10)
			}
			stack := ""
			if len(g.Stack) > 0 {
				stack = so.show(g.Stack)
			}
			cells := []string{strconv.FormatInt(g.ID, 10), name, g.Kind, since(g.Since, g.SinceAtLeast), forText(g.For, g.SinceAtLeast), stack}
			if blocked {
				reason := g.Category
				if g.Reason != "" && g.Reason != g.Category {
					reason += " (" + g.Reason + ")"
				}
				cells = append(cells[:3], append([]string{reason}, cells[3:]...)...)
			}
			t.row(cells...)
		}
		sec.add(t)
		if len(gs) < len(st.gs) {
			sec.text(fmt.Sprintf("… and %d more (--top 0 shows all)", len(st.gs)-len(gs)))
		}
		d.sections = append(d.sections, sec)
	}
	return d.render(w, o.Mode, o.Width)
}

func since(d time.Duration, atLeast bool) string {
	s := "+" + stats.Duration(d).String()
	if atLeast {
		return "≤" + s
	}
	return s
}

func forText(d time.Duration, atLeast bool) string {
	s := stats.Duration(d).String()
	if atLeast {
		return "≥" + s
	}
	return s
}
