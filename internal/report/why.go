package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

// WhyJSON is what gotrace why writes as JSON.
type WhyJSON struct {
	Schema    string          `json:"schema" help:"gotrace.why/v1"`
	File      string          `json:"file" help:"the trace file"`
	Task      drill.Task      `json:"task" help:"the task explained, as gotrace tasks lists it"`
	Goroutine drill.GoRef     `json:"goroutine" help:"the goroutine the walk back starts on: the one that ended the task (began it, for an open task)"`
	Wall      time.Duration   `json:"wall_ns" unit:"ns" help:"the task's wall time, which the parts add up to exactly"`
	Breakdown []drill.Part    `json:"breakdown" help:"the path's time by category and place, largest first"`
	Path      []drill.Segment `json:"path" help:"the path in time order"`
	// Slowest is set with --slowest.
	Slowest *SlowestJSON `json:"slowest,omitempty" help:"with --slowest: the breakdown summed over the slowest tasks of the type"`
}

// SlowestJSON is the aggregate over the slowest tasks of a type.
type SlowestJSON struct {
	Type      string        `json:"type" help:"the type asked for"`
	OfType    int           `json:"of_type" help:"how many tasks of the type the trace has"`
	Tasks     []uint64      `json:"tasks" help:"the IDs of the slowest, slowest first (--slowest-n of them)"`
	Wall      time.Duration `json:"wall_ns" unit:"ns" help:"their wall time, summed"`
	Breakdown []drill.Part  `json:"breakdown" help:"their breakdowns summed; each share is of their summed wall time"`
}

// WhyOptions say what to show of a critical path.
type WhyOptions struct {
	Options
	Slowest  string // the type asked for with --slowest
	Segments int    // path segments shown in text, the longest; 0 for all
	Top      int    // breakdown rows shown in text; 0 for all
}

// Why renders the critical path res found in file.
func Why(w io.Writer, file string, res *drill.WhyResult, o WhyOptions) error {
	y := res.Why
	if o.Mode == JSON {
		out := WhyJSON{Schema: drill.WhySchema, File: file, Task: y.Task, Goroutine: y.Goroutine, Wall: y.Wall, Breakdown: y.Breakdown, Path: y.Path}
		if o.Slowest != "" {
			out.Slowest = &SlowestJSON{Type: o.Slowest, OfType: res.OfType, Tasks: res.Tasks, Wall: res.Wall, Breakdown: res.Aggregate}
		}
		return writeJSON(w, out)
	}
	d := &doc{title: "gotrace why " + file}
	k := y.Task
	d.subtitle = fmt.Sprintf("task %d (%s): %s, from %s; walked back from goroutine %s (%s)",
		k.ID, taskType(k), taskDuration(k), taskStart(k), y.Goroutine.Label(), goName(y.Goroutine.Name))
	if o.Slowest != "" {
		d.subtitle = fmt.Sprintf("the slowest of %d %q %s: ", res.OfType, o.Slowest, plural(res.OfType, "task", "tasks")) + d.subtitle
	}
	b := section{title: "Breakdown"}
	b.text("Where the task's time went on its critical path; the parts add up to its wall time.")
	addParts(&b, y.Breakdown, o.Top)
	d.sections = append(d.sections, b)
	if o.Slowest != "" {
		a := section{title: fmt.Sprintf("The slowest %d", len(res.Tasks))}
		ids := make([]string, len(res.Tasks))
		for i, id := range res.Tasks {
			ids[i] = strconv.FormatUint(id, 10)
		}
		a.text(fmt.Sprintf("%d %q %s (%s), %s in all:", len(res.Tasks), o.Slowest, plural(len(res.Tasks), "task", "tasks"),
			strings.Join(ids, ", "), stats.Duration(res.Wall)))
		addParts(&a, res.Aggregate, o.Top)
		d.sections = append(d.sections, a)
	}
	p := section{title: "Path"}
	segs := y.Path
	if o.Segments > 0 && len(segs) > o.Segments {
		// The longest, in time order.
		idx := make([]int, len(segs))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return int(segs[b].Duration - segs[a].Duration) })
		idx = idx[:o.Segments]
		slices.Sort(idx)
		shown := make([]drill.Segment, len(idx))
		for i, j := range idx {
			shown[i] = segs[j]
		}
		p.text(fmt.Sprintf("The %d longest of %d segments, in time order (--segments 0 shows all).", o.Segments, len(segs)))
		segs = shown
	} else {
		p.text(fmt.Sprintf("%d %s, in time order; depth is how many wake-ups were followed back to reach the goroutine.",
			len(segs), plural(len(segs), "segment", "segments")))
	}
	t := &tbl{head: []string{"At", "Duration", "Goroutine", "Depth", "State", "Category", "What", "Where"},
		right: []bool{true, true, true, true, false, false, false, false}}
	for _, s := range segs {
		t.row("+"+stats.Duration(s.Start).String(), stats.Duration(s.Duration).String(), s.Goroutine.Label(),
			strconv.Itoa(s.Depth), s.State, s.Category, s.What, s.Frame)
	}
	p.add(t)
	d.sections = append(d.sections, p)
	return d.render(w, o.Mode, o.Width)
}

// addParts adds the first top parts to s (all for 0), and a line for the
// rest.
func addParts(s *section, parts []drill.Part, top int) {
	t := &tbl{head: []string{"Category", "What", "Time", "Share", "Where", "Goroutine"},
		right: []bool{false, false, true, true, false, false}}
	shown := parts
	if top > 0 && len(parts) > top {
		shown = parts[:top]
	}
	for _, p := range shown {
		t.row(p.Category, p.What, stats.Duration(p.Time).String(), fmt.Sprintf("%.1f%%", 100*p.Share), p.Frame, goName(p.Goroutine))
	}
	s.add(t)
	if rest := parts[len(shown):]; len(rest) > 0 {
		var d stats.Duration
		share := 0.0
		for _, p := range rest {
			d += stats.Duration(p.Time)
			share += p.Share
		}
		s.text(fmt.Sprintf("and %d smaller %s, %s (%.1f%%) in all (--top 0 shows all).", len(rest), plural(len(rest), "part", "parts"), d, 100*share))
	}
}

func goName(name string) string {
	if name == "" {
		return "(unknown)"
	}
	return name
}
