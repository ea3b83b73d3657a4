package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

// GoroutineLives is what gotrace goroutine writes as JSON: every goroutine
// that had the ID asked for, or the one incarnation asked for.
type GoroutineLives struct {
	Schema     string       `json:"schema"`
	File       string       `json:"file"`
	ID         int64        `json:"id"`
	Goroutines []drill.Life `json:"goroutines"`
}

// StackOptions say how much of each stack the text shows: Frames innermost
// frames (2 for 0), then the first frame of the program's own code; all of
// them with Full.
type StackOptions struct {
	Frames int
	Full   bool
}

func (s StackOptions) show(fr []drill.Frame) string {
	n := s.Frames
	if s.Full {
		n = -1
	}
	out := make([]stats.Frame, len(fr))
	for i, f := range fr {
		out[i] = stats.Frame{Func: f.Func, File: f.File, Line: f.Line}
	}
	return shortStack(out, n)
}

// Lives renders the lives of the goroutines with ID id in file.
func Lives(w io.Writer, file string, id int64, lives []drill.Life, o Options, so StackOptions) error {
	if o.Mode == JSON {
		return writeJSON(w, GoroutineLives{Schema: drill.GoroutineSchema, File: file, ID: id, Goroutines: lives})
	}
	d := &doc{title: fmt.Sprintf("gotrace goroutine %s %d", file, id)}
	if len(lives) > 1 {
		labels := make([]string, len(lives))
		for i, l := range lives {
			labels[i] = l.Label()
		}
		d.subtitle = fmt.Sprintf("goroutine ID %d named %d goroutines in turn: %s", id, len(lives), strings.Join(labels, ", "))
	}
	for _, l := range lives {
		d.sections = append(d.sections, lifeSections(l, so)...)
	}
	return d.render(w, o.Mode, o.Width)
}

// LivesNDJSON writes the intervals of lives, one JSON object a line, each
// naming its goroutine: the first line says the schema.
func LivesNDJSON(w io.Writer, file string, id int64, lives []drill.Life) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Kind   string `json:"kind"`
		Schema string `json:"schema"`
		File   string `json:"file"`
		ID     int64  `json:"id"`
	}{"header", drill.GoroutineSchema, file, id}); err != nil {
		return err
	}
	for _, l := range lives {
		for _, sp := range l.Intervals {
			if err := enc.Encode(struct {
				Kind        string `json:"kind"`
				Goroutine   string `json:"goroutine"`
				Incarnation int    `json:"incarnation"`
				drill.Span
			}{"interval", l.Label(), l.Incarnation, sp}); err != nil {
				return err
			}
		}
	}
	return nil
}

func lifeSections(l drill.Life, so StackOptions) []section {
	name := l.Name
	if name == "" {
		name = "(unknown)"
	}
	head := section{title: "Goroutine " + l.Label()}
	created := "before the trace"
	if !l.Existed {
		created = "+" + stats.Duration(l.Created).String()
	}
	if l.Creator >= 0 {
		created += " by " + strconv.FormatInt(l.Creator, 10)
		if len(l.CreatorStack) > 0 {
			created += " at " + so.show(l.CreatorStack)
		}
	}
	ended := "+" + stats.Duration(l.Ended).String()
	if l.Ended < 0 {
		ended = "alive at the end, " + l.StateAtEnd
		if l.ReasonAtEnd != "" {
			ended += " (" + l.ReasonAtEnd + ")"
		}
	}
	var cats []string
	for _, c := range slices.Sorted(maps.Keys(l.BlockedByCat)) {
		cats = append(cats, c+" "+stats.Duration(l.BlockedByCat[c]).String())
	}
	blocked := stats.Duration(l.Blocked).String()
	if len(cats) > 0 {
		blocked += " (" + strings.Join(cats, ", ") + ")"
	}
	head.kv(pair("Start function", name), pair("Kind", l.Kind), pair("Created", created), pair("Ended", ended),
		pair("Running", stats.Duration(l.Running).String()), pair("Runnable", stats.Duration(l.Runnable).String()),
		pair("Blocked", blocked), pair("Syscall", stats.Duration(l.Syscall).String()))
	out := []section{head}

	ivs := section{title: "Intervals"}
	wall := len(l.Intervals) > 0 && l.Intervals[0].Wall != ""
	t := &tbl{head: []string{"Start", "Duration", "State", "Reason", "Stack", "Made runnable by"}, right: []bool{true, true, false, false, false, false}}
	if wall {
		t.head = slices.Insert(t.head, 1, "Wall clock")
		t.right = slices.Insert(t.right, 1, false)
	}
	for _, sp := range l.Intervals {
		dur := stats.Duration(sp.Duration).String()
		if sp.Open {
			dur += "+"
		}
		reason := sp.Reason
		if sp.Category != "" && sp.Category != reason {
			reason = strings.TrimSpace(sp.Category + " " + paren(reason))
		}
		by := ""
		if sp.Unblocker >= 0 {
			by = strconv.FormatInt(sp.Unblocker, 10) + " at " + so.show(sp.UnblockStack)
		}
		stack := ""
		if len(sp.Stack) > 0 {
			stack = so.show(sp.Stack)
		}
		cells := []string{"+" + stats.Duration(sp.Start).String(), dur, sp.State, reason, stack, by}
		if wall {
			cells = slices.Insert(cells, 1, clockOf(sp.Wall))
		}
		t.row(cells...)
	}
	ivs.add(t)
	out = append(out, ivs)

	if len(l.Regions) > 0 || len(l.Tasks) > 0 {
		s := section{title: "Regions and tasks"}
		if len(l.Regions) > 0 {
			rt := &tbl{head: []string{"Region", "Task", "Start", "End"}, right: []bool{false, true, true, true}}
			for _, r := range l.Regions {
				start := "+" + stats.Duration(r.Start).String()
				if r.BegunBefore {
					start = "before"
				}
				end := "+" + stats.Duration(r.End).String()
				if r.End < 0 {
					end = "open"
				}
				rt.row(r.Name, taskLabel(r.Task), start, end)
			}
			s.add(rt)
		}
		if len(l.Tasks) > 0 {
			tt := &tbl{head: []string{"Task", "Type"}, right: []bool{true, false}}
			for _, tr := range l.Tasks {
				tt.row(strconv.FormatInt(tr.ID, 10), tr.Type)
			}
			s.add(tt)
		}
		out = append(out, s)
	}
	if len(l.Logs) > 0 {
		s := section{title: "Logs"}
		lt := &tbl{head: []string{"At", "Task", "Category", "Message"}, right: []bool{true, true, false, false}}
		for _, lg := range l.Logs {
			lt.row("+"+stats.Duration(lg.At).String(), taskLabel(lg.Task), lg.Category, lg.Message)
		}
		s.add(lt)
		out = append(out, s)
	}
	if len(l.Children) > 0 {
		s := section{title: "Goroutines created"}
		ct := &tbl{head: []string{"ID", "Start function", "At", "Where"}, right: []bool{true, false, true, false}}
		for _, c := range l.Children {
			ct.row(strconv.FormatInt(c.ID, 10), c.Name, "+"+stats.Duration(c.At).String(), so.show(c.Stack))
		}
		s.add(ct)
		out = append(out, s)
	}
	return out
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func taskLabel(id int64) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatInt(id, 10)
}

// clockOf is the time of day of a wall-clock time written with
// drill.WallLayout, to the microsecond.
func clockOf(wall string) string {
	t, err := time.Parse(drill.WallLayout, wall)
	if err != nil {
		return wall
	}
	return t.Format("15:04:05.000000")
}
