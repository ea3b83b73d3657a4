package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/stats"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// StatsSections are the sections of gotrace stats, in report order.
var StatsSections = []string{"findings", "overview", "goroutines", "blocking", "gc", "syscalls", "annotations", "cpu"}

// statsJSONKeys are the model's JSON objects each section holds.
var statsJSONKeys = map[string][]string{
	"overview":    {"overview"},
	"goroutines":  {"goroutines", "sched"},
	"blocking":    {"blocking"},
	"gc":          {"gc", "heap"},
	"syscalls":    {"syscalls"},
	"annotations": {"annotations"},
	"cpu":         {"cpu"},
	"findings":    {"findings"},
}

// StatsOptions say how to render a stats model.
type StatsOptions struct {
	Options
	// Sections to show, from StatsSections; empty shows all.
	Sections []string
	// Top is the most rows a list shows.
	Top int
	// Stacks is how many innermost frames a stack in a table shows
	// before it skips to the first frame of the program's own code; 0
	// is 2, and a negative number shows every frame.
	Stacks int
}

// Stats renders m.
func Stats(w io.Writer, m *stats.Model, o StatsOptions) error {
	secs := o.Sections
	if len(secs) == 0 {
		secs = StatsSections
	}
	if o.Top <= 0 {
		o.Top = stats.DefaultTop
	}
	if o.Mode == JSON {
		return statsJSON(w, m, secs)
	}
	d := statsDoc(m, secs, o.Top, o.Stacks)
	return d.render(w, o.Mode, o.Width)
}

// statsJSON writes the model with only the chosen sections' objects.
func statsJSON(w io.Writer, m *stats.Model, secs []string) error {
	mm := *m
	mm.Schema = stats.Schema
	mm.Sections = secs
	stats.FillNil(&mm)
	var enc bytes.Buffer
	je := json.NewEncoder(&enc)
	je.SetEscapeHTML(false) // see writeJSON
	if err := je.Encode(&mm); err != nil {
		return err
	}
	raw := bytes.TrimSuffix(enc.Bytes(), []byte("\n"))
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return err
	}
	keep := map[string]bool{"schema": true, "file": true, "sections": true, "window": true, "goroutine_kinds": true, "damage": true}
	for _, s := range secs {
		for _, k := range statsJSONKeys[s] {
			keep[k] = true
		}
	}
	// Keep the model's field order.
	var b bytes.Buffer
	b.WriteString("{\n")
	first := true
	for _, k := range jsonOrder(raw) {
		if !keep[k] {
			continue
		}
		if !first {
			b.WriteString(",\n")
		}
		first = false
		var v bytes.Buffer
		if err := json.Indent(&v, all[k], "  ", "  "); err != nil {
			return err
		}
		fmt.Fprintf(&b, "  %q: %s", k, v.Bytes())
	}
	b.WriteString("\n}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// jsonOrder lists the top-level keys of the object in raw, in order.
func jsonOrder(raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var keys []string
	if _, err := dec.Token(); err != nil {
		return nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

func statsDoc(m *stats.Model, secs []string, top, frames int) *doc {
	o := m.Overview
	d := &doc{title: "gotrace stats " + m.File}
	d.subtitle = fmt.Sprintf("%s trace, %s, %s, %s%s", o.Version, o.FileBytes.String(), o.Duration.String(), fmtInt(o.Events), plural(int(o.Events), " event", " events"))
	if m.Window != "" {
		d.subtitle += "; " + m.Window + " only"
	}
	if m.Damage.Damaged {
		d.warnings = append(d.warnings, DamageLine(m.Damage))
	}
	build := map[string]func() section{
		"overview":    func() section { return overviewSection(m, top) },
		"goroutines":  func() section { return goroutinesSection(m, top) },
		"blocking":    func() section { return blockingSection(m, top, frames) },
		"gc":          func() section { return gcSection(m) },
		"syscalls":    func() section { return syscallsSection(m, top, frames) },
		"annotations": func() section { return annotationsSection(m, top) },
		"cpu":         func() section { return cpuSection(m, top) },
		"findings":    func() section { return findingsSection(m, top, frames) },
	}
	for _, s := range secs {
		if f := build[s]; f != nil {
			d.sections = append(d.sections, f())
		}
	}
	return d
}

// DamageLine says what a damaged trace lost, in one line.
func DamageLine(d stats.Damage) string {
	return fmt.Sprintf("trace damaged: %s (%.1f%%) after the last complete generation not analysed: %s",
		d.LostBytes.String(), d.LostPercent, d.Error)
}

func overviewSection(m *stats.Model, top int) section {
	o := m.Overview
	s := section{title: "Overview"}
	wall := "unknown (no clock snapshot before Go 1.25)"
	var minor int
	if _, err := fmt.Sscanf(o.Version, "go1.%d", &minor); err == nil && minor >= 25 {
		wall = "unknown (no complete generation with a clock snapshot)"
	}
	if o.WallStartUnixNs != 0 {
		wall = time.Unix(0, o.WallStartUnixNs).UTC().Format("2006-01-02 15:04:05.000000 UTC")
	}
	procs := strconv.Itoa(o.GOMAXPROCS)
	if o.GOMAXPROCSChange > 0 {
		procs += fmt.Sprintf(" (max %d, %d changes)", o.GOMAXPROCSMax, o.GOMAXPROCSChange)
	}
	kv := [][2]string{
		pair("Version", o.Version),
		pair("File size", o.FileBytes.String()),
		pair("Started", wall),
		pair("Duration", o.Duration.String()),
	}
	if len(o.PerGeneration) > 0 {
		kv = append(kv, pair("Generations", fmtInt(int64(o.Generations))), pair("Batches", fmtInt(int64(o.Batches))),
			pair("Wire events", fmtInt(o.WireEvents)))
	} else {
		kv = append(kv, pair("Generations", fmtInt(int64(o.Generations))))
	}
	kv = append(kv,
		pair("Events", fmtInt(o.Events)),
		pair("Events/s", fmtInt(int64(math.Round(o.EventsPerSecond)))))
	if o.MovedEvents > 0 || o.Restamped > 0 {
		// Times golang.org/x/exp/trace could not keep as written.
		moved := fmt.Sprintf("%s (%.2f%%)", fmtInt(o.MovedEvents), 100*float64(o.MovedEvents)/float64(max(o.Events, 1)))
		if o.Restamped > 0 {
			moved += fmt.Sprintf("; %s late status batches moved back", fmtInt(int64(o.Restamped)))
		}
		kv = append(kv, pair("Moved events", moved))
	}
	kv = append(kv,
		pair("GOMAXPROCS", procs),
		pair("Threads", fmtInt(int64(o.Threads))),
		pair("Ps", fmtInt(int64(o.Procs))))
	s.kv(kv...)
	if len(o.Footprint) > 0 {
		t := &tbl{title: "Footprint by event type", head: []string{"Event", "Count", "Bytes", "Share"}, right: []bool{false, true, true, true}}
		var total stats.ByteCount
		for _, f := range o.Footprint {
			total += f.Bytes
		}
		for i, f := range o.Footprint {
			if i == top {
				var n int64
				var b stats.ByteCount
				for _, g := range o.Footprint[top:] {
					n += g.Count
					b += g.Bytes
				}
				t.row(fmt.Sprintf("(%d more types)", len(o.Footprint)-top), fmtInt(n), b.String(), fmtPct(int64(b), int64(total)))
				break
			}
			t.row(f.Type, fmtInt(f.Count), f.Bytes.String(), fmtPct(int64(f.Bytes), int64(total)))
		}
		s.add(t)
	}
	if len(o.PerGeneration) > 0 {
		t := &tbl{title: "Generations", head: []string{"Gen", "Offset", "Bytes", "Duration", "Events", "Stacks", "Strings", "Types", "CPU samples"},
			right: []bool{true, true, true, true, true, true, true, true, true}}
		for _, g := range o.PerGeneration {
			t.row(strconv.FormatUint(g.Num, 10), fmt.Sprintf("0x%x", int64(g.Offset)), g.Bytes.String(), g.Duration.String(),
				fmtInt(int64(g.Events)), fmtInt(int64(g.Stacks)), fmtInt(int64(g.Strings)), fmtInt(int64(g.Types)), fmtInt(int64(g.CPUSamples)))
		}
		s.add(t)
	} else if minor >= 22 {
		s.text("No generations: the trace ends after its header.")
	} else {
		s.text("No wire tables: footprint and generations need the Go 1.22+ format.")
	}
	return s
}

func distLine(d stats.Dist) string {
	if d.Count == 0 {
		return "none"
	}
	return fmt.Sprintf("%s in %s; p50 %s, p90 %s, p99 %s, max %s", d.Total.String(), fmtInt(d.Count),
		d.P50.String(), d.P90.String(), d.P99.String(), d.Max.String())
}

func goroutinesSection(m *stats.Model, top int) section {
	g := m.Goroutines
	s := section{title: "Goroutines"}
	s.kv(
		pair("Created", fmtInt(g.Created)),
		pair("Ended", fmtInt(g.Ended)),
		pair("Existing at start", fmtInt(g.Existing)),
		pair("Peak alive", fmtInt(g.PeakAlive)),
		pair("Alive at end", fmtInt(g.AliveAtEnd)),
		pair("Leak suspects", fmtInt(g.Leaked)),
		pair("Running", g.Running.String()),
		pair("Runnable", g.Runnable.String()),
		pair("Blocked", g.Blocked.String()),
		pair("In syscalls", g.Syscall.String()),
		pair("Sched latency", distLine(m.Sched.Latency)),
		pair("Start latency", distLine(m.Sched.StartLatency)),
	)
	if g.Leaked > 0 {
		s.mark("Leak suspects", 2)
	}
	s.text("Running to In syscalls: the time of every goroutine, to the end of the trace. " +
		"Latencies: goroutines of the kinds counted (" + kindsWord(m.Kinds) + ").")
	apartLine(&s, m.Sched.Apart)
	if len(g.Groups) > 0 {
		t := &tbl{title: "By start function", head: []string{"Start function", "Count", "Running", "Runnable", "Blocked", "Syscall"},
			right: []bool{false, true, true, true, true, true}}
		// The kinds the report counts lead; each other kind is one row.
		counted := func(kind string) bool { return slices.Contains(m.Kinds, kind) || len(m.Kinds) == 0 }
		n := 0
		for _, gr := range g.Groups {
			if n < top && counted(gr.Kind) {
				t.row(gr.Func, fmtInt(gr.Count), gr.Running.String(), gr.Runnable.String(), gr.Blocked.String(), gr.Syscall.String())
				n++
			}
		}
		for _, k := range g.ByKind {
			if !counted(k.Kind) && k.Count > 0 {
				t.row("("+k.Kind+" goroutines)", fmtInt(k.Count), k.Running.String(), k.Runnable.String(), k.Blocked.String(), k.Syscall.String())
			}
		}
		s.add(t)
	}
	return s
}

// apartLine says what a section left out: the time of the goroutines of
// kinds it does not count.
func apartLine(s *section, apart []stats.KindTime) {
	if len(apart) == 0 {
		return
	}
	var parts []string
	for _, a := range apart {
		parts = append(parts, fmt.Sprintf("%s goroutines %s in %s", a.Kind, a.Total.String(), fmtInt(a.Count)))
	}
	s.text("Not counted here: " + strings.Join(parts, "; ") + " (--goroutines all counts them).")
}

// grade is the mark of a value: 2 (bad) from bad on, 3 (a warning) from
// warn on, 0 below.
func grade(v, bad, warn float64) int {
	switch {
	case v >= bad:
		return 2
	case v >= warn:
		return 3
	}
	return 0
}

// kindsWord names the kinds of goroutine counted, "all" for all.
func kindsWord(kinds []string) string {
	if len(kinds) == 0 || len(kinds) == 3 {
		return "all"
	}
	return strings.Join(kinds, " and ")
}

func distTable(title, first string) *tbl {
	return &tbl{title: title, head: []string{first, "Count", "Total", "p50", "p90", "p99", "Max"},
		right: []bool{false, true, true, true, true, true, true}}
}

func distRow(t *tbl, name string, d stats.Dist) {
	t.row(name, fmtInt(d.Count), d.Total.String(), d.P50.String(), d.P90.String(), d.P99.String(), d.Max.String())
}

func blockingSection(m *stats.Model, top, frames int) section {
	b := m.Blocking
	s := section{title: "Blocking"}
	s.kv(
		pair("Completed waits", distLine(b.All)),
		pair("Sync (chan, select, sync)", b.Sync.String()),
		pair("Network", b.Net.String()),
	)
	s.text("Waits that ended, of " + kindsWord(m.Kinds) + " goroutines, from their first run (as go tool trace -pprof counts).")
	apartLine(&s, b.Apart)
	if len(b.Reasons) == 0 {
		s.text("No goroutine blocked after it first ran in the trace.")
		return s
	}
	kt := &tbl{title: "By kind", head: []string{"Kind", "Count", "Total", "p50", "p99", "Max", "Runtime's reasons"},
		right: []bool{false, true, true, true, true, true, false}}
	for _, c := range b.ByCategory {
		d := c.Dist
		kt.row(c.Category, fmtInt(d.Count), d.Total.String(), d.P50.String(), d.P99.String(), d.Max.String(), strings.Join(c.Reasons, ", "))
	}
	s.add(kt)
	t := distTable("By reason", "Reason")
	for _, r := range b.Reasons {
		distRow(t, r.Reason, r.Dist)
	}
	s.add(t)
	// Stacks for the reasons that cost most; the JSON has them all.
	for _, r := range b.Reasons[:min(top, maxStackReasons, len(b.Reasons))] {
		s.add(stackTable("Top stacks: "+r.Reason, r.Stacks, top, frames))
	}
	return s
}

// maxStackReasons is how many blocking reasons the text report shows
// stacks for.
const maxStackReasons = 4

// stackTable lists stacks by total time, each shown by its innermost
// frames and its first frame in the program's own code (see shortStack);
// two different stacks never read the same.
func stackTable(title string, sts []stats.StackTime, top, frames int) *tbl {
	t := &tbl{title: title, head: []string{"Count", "Total", "Stack"}, right: []bool{true, true, false}}
	sts = sts[:min(top, len(sts))]
	stacks := make([][]stats.Frame, len(sts))
	for i, st := range sts {
		stacks[i] = st.Stack
	}
	for i, line := range distinctStacks(stacks, frames) {
		t.row(fmtInt(sts[i].Count), sts[i].Total.String(), line)
	}
	return t
}

// distinctStacks renders each stack with shortStack, and in full those
// whose short forms would read the same.
func distinctStacks(stacks [][]stats.Frame, frames int) []string {
	lines := make([]string, len(stacks))
	seen := make(map[string]int)
	for i, fr := range stacks {
		lines[i] = shortStack(fr, frames)
		seen[lines[i]]++
	}
	full := make(map[string]int)
	for i, fr := range stacks {
		if seen[lines[i]] > 1 {
			lines[i] = shortStack(fr, -1)
			full[lines[i]]++
		}
	}
	// The same functions at other lines: the lines tell them apart.
	for i, fr := range stacks {
		if full[lines[i]] > 1 {
			parts := make([]string, len(fr))
			for j, f := range fr {
				parts[j] = f.Func + ":" + strconv.FormatUint(f.Line, 10)
			}
			lines[i] = strings.Join(parts, " < ")
		}
	}
	return lines
}

// shortStack shows a stack, callers after "<": its innermost frames (n of
// them, 2 for 0, all for a negative n), then, skipping the runtime's and
// the standard library's frames between with a count, the first frame of
// the program's own code, then how many frames are left.
func shortStack(fr []stats.Frame, n int) string {
	if len(fr) == 0 {
		return "(no stack)"
	}
	if n == 0 {
		n = 2
	}
	if n < 0 || n > len(fr) {
		n = len(fr)
	}
	var parts []string
	for _, f := range fr[:n] {
		parts = append(parts, f.Func)
	}
	shown := n
	if !slices.ContainsFunc(fr[:n], func(f stats.Frame) bool { return timeline.IsUserFrame(f.Func) }) {
		if u := slices.IndexFunc(fr[n:], func(f stats.Frame) bool { return timeline.IsUserFrame(f.Func) }); u >= 0 {
			if u > 0 {
				parts = append(parts, fmt.Sprintf("…%d…", u))
			}
			parts = append(parts, fr[n+u].Func)
			shown = n + u + 1
		}
	}
	s := strings.Join(parts, " < ")
	if rest := len(fr) - shown; rest > 0 {
		s += fmt.Sprintf(" (+%d)", rest)
	}
	return s
}

func gcSection(m *stats.Model) section {
	g, h := m.GC, m.Heap
	s := section{title: "GC and memory"}
	goal := "unknown"
	if h.GoalMax > 0 {
		goal = h.GoalMin.String() + " – " + h.GoalMax.String()
	}
	allocs := pair("Heap allocations", "not traced (gotrace record --allocfree traces them)")
	if a := h.Allocs; a.Traced {
		allocs = pair("Heap allocations", fmt.Sprintf("%s in %s objects, %s objects freed", a.Bytes.String(), fmtInt(a.Objects), fmtInt(a.Freed)))
	}
	s.kv(
		pair("GC cycles", fmtInt(g.Cycles)),
		pair("Time in GC", fmt.Sprintf("%s (%.2f%% of wall time)", g.Time.String(), 100*g.WallShare)),
		pair("Stop-the-world", distLine(g.STW)),
		pair("Mark assist", distLine(g.Assist)),
		pair("  of which", fmt.Sprintf("assisting (running) %s, waiting %s", g.AssistRunning.String(), g.AssistWaiting.String())),
		pair("Sweep", distLine(g.Sweep)),
		pair("Heap in use, max", h.Max.String()),
		pair("Heap goal", goal),
		allocs,
		pair("MMU 1ms", fmtRatio(g.MMU.W1ms)),
		pair("MMU 10ms", fmtRatio(g.MMU.W10ms)),
		pair("MMU 100ms", fmtRatio(g.MMU.W100ms)),
		pair("MMU 1s", fmtRatio(g.MMU.W1s)),
	)
	// The grades of the findings: GC past a quarter of the time is bad,
	// past a tenth worth a look; a mutator left under a fifth of a
	// window (half of it) is too.
	s.mark("Time in GC", grade(g.WallShare, 0.25, 0.10))
	for label, u := range map[string]float64{"MMU 1ms": g.MMU.W1ms, "MMU 10ms": g.MMU.W10ms, "MMU 100ms": g.MMU.W100ms} {
		if g.Cycles > 0 {
			s.mark(label, grade(1-u, 0.8, 0.5))
		}
	}
	if len(g.STWByKind) > 0 {
		t := distTable("Stop-the-world by kind", "Kind")
		for _, k := range g.STWByKind {
			distRow(t, k.Kind, k.Dist)
		}
		s.add(t)
	}
	if a := h.Allocs; a.Traced {
		for _, x := range []struct {
			title, head string
			list        []stats.AllocGroup
		}{{"Allocations by goroutine", "Start function", a.ByGoroutine}, {"Allocations by type", "Type", a.ByType}} {
			t := &tbl{title: x.title, head: []string{x.head, "Bytes", "Share", "Objects"}, right: []bool{false, true, true, true}}
			for _, r := range x.list {
				name := r.Name
				if r.Kind != "" && r.Kind != "user" && !strings.HasPrefix(name, "(") {
					name += " (" + r.Kind + ")"
				}
				t.row(name, r.Bytes.String(), fmtPct(int64(r.Bytes), int64(a.Bytes)), fmtInt(r.Objects))
			}
			s.add(t)
		}
	}
	return s
}

func syscallsSection(m *stats.Model, top, frames int) section {
	y := m.Syscalls
	s := section{title: "Syscalls"}
	s.kv(
		pair("Syscalls", distLine(y.Dist)),
		pair("Blocking (lost their P)", distLine(y.Blocking)),
	)
	apartLine(&s, y.Apart)
	if len(y.Stacks) > 0 {
		s.add(stackTable("Top stacks", y.Stacks, top, frames))
	}
	return s
}

func annotationsSection(m *stats.Model, top int) section {
	a := m.Annotations
	s := section{title: "User annotations"}
	if len(a.Tasks) == 0 && len(a.Regions) == 0 && len(a.Logs) == 0 {
		s.text("No tasks, regions or logs (runtime/trace annotations).")
		return s
	}
	for _, x := range []struct {
		title string
		list  []stats.NamedDist
	}{{"Tasks by type", a.Tasks}, {"Regions by type", a.Regions}} {
		if len(x.list) == 0 {
			continue
		}
		t := distTable(x.title, "Type")
		for _, n := range x.list[:min(top, len(x.list))] {
			distRow(t, n.Name, n.Dist)
		}
		s.add(t)
	}
	if len(a.Logs) > 0 {
		t := &tbl{title: "Logs by category", head: []string{"Category", "Count"}, right: []bool{false, true}}
		for _, l := range a.Logs[:min(top, len(a.Logs))] {
			cat := l.Category
			if cat == "" {
				cat = "(none)"
			}
			t.row(cat, fmtInt(l.Count))
		}
		s.add(t)
	}
	return s
}

func cpuSection(m *stats.Model, top int) section {
	c := m.CPU
	s := section{title: "CPU"}
	if c.Samples == 0 {
		s.text("No CPU samples: the trace was recorded without the CPU profiler.")
		return s
	}
	s.kv(pair("Samples", fmtInt(c.Samples)))
	for _, x := range []struct {
		title string
		list  []stats.FuncSamples
	}{{"Top functions (flat)", c.Flat}, {"Top functions (cumulative)", c.Cum}} {
		t := &tbl{title: x.title, head: []string{"Function", "Samples", "Share"}, right: []bool{false, true, true}}
		for _, f := range x.list[:min(top, len(x.list))] {
			t.row(f.Func, fmtInt(f.Samples), fmtPct(f.Samples, c.Samples))
		}
		s.add(t)
	}
	return s
}

func findingsSection(m *stats.Model, top, frames int) section {
	f := m.Findings
	s := section{title: "Findings"}
	if len(f.Ranked) > 0 {
		t := &tbl{title: "What to fix, most severe first", head: []string{"Severity", "Finding", "Next"}, statusCol: 0}
		for _, r := range f.Ranked[:min(top, len(f.Ranked))] {
			t.row(strings.ToUpper(r.Severity), r.What, r.Next)
			t.status = append(t.status, map[string]int{"high": 2, "medium": 3}[r.Severity])
		}
		s.add(t)
	}
	if len(f.Leaks) == 0 {
		s.text("No leak suspects: no user goroutine was left blocked for long on a channel, select or lock.")
	}
	for _, l := range f.Leaks[:min(top, len(f.Leaks))] {
		title := fmt.Sprintf("Leak suspect: %d %s blocked on %s for %s", l.Count, plural(int(l.Count), "goroutine", "goroutines"), l.Reason, l.BlockedMax.String())
		if l.Count > 1 && l.BlockedMin.String() != l.BlockedMax.String() {
			title = fmt.Sprintf("Leak suspect: %d goroutines blocked on %s for %s to %s", l.Count, l.Reason, l.BlockedMin.String(), l.BlockedMax.String())
		}
		title += ", started at " + l.Func
		if l.Benign != "" {
			title += " (expected: " + l.Benign + ")"
		}
		s.stack(stackOf(title, l.Stack))
		if len(l.CreatedAt) > 0 {
			s.stack(stackOf("  created at", l.CreatedAt))
		}
	}
	if len(f.LongSTW) > 0 {
		t := &tbl{title: "Longest stop-the-world pauses", head: []string{"Duration", "At", "Kind", "Stack"}, right: []bool{true, true, false, false}}
		for _, p := range f.LongSTW[:min(top, len(f.LongSTW))] {
			t.row(p.Duration.String(), "+"+p.Start.String(), p.Kind, shortStack(p.Stack, frames))
		}
		s.add(t)
	}
	if len(f.SchedWaits) > 0 {
		t := &tbl{title: "Worst scheduling waits", head: []string{"Wait", "At", "Goroutine", "Start function", "Stack"},
			right: []bool{true, true, true, false, false}}
		for _, w := range f.SchedWaits[:min(top, len(f.SchedWaits))] {
			t.row(w.Wait.String(), "+"+w.Start.String(), strconv.FormatInt(w.Goroutine, 10), w.Func, shortStack(w.Stack, frames))
		}
		s.add(t)
	}
	return s
}

// maxStackLines bounds the frames a finding shows.
const maxStackLines = 12

func stackOf(title string, fr []stats.Frame) *stackBlock {
	b := &stackBlock{title: title}
	for i, f := range fr {
		if i == maxStackLines {
			b.frames = append(b.frames, [2]string{fmt.Sprintf("(%d more frames)", len(fr)-i), ""})
			break
		}
		b.frames = append(b.frames, [2]string{f.Func, f.File + ":" + strconv.FormatUint(f.Line, 10)})
	}
	if len(fr) == 0 {
		b.frames = append(b.frames, [2]string{"(no stack recorded)", ""})
	}
	return b
}

// fmtInt formats n with thousands separators.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

func fmtPct(part, whole int64) string {
	if whole == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
}

func fmtRatio(r float64) string { return strconv.FormatFloat(100*r, 'f', 1, 64) + "%" }

// FormatValue formats a value of a model field for people.
func FormatValue(v float64, unit string) string {
	switch unit {
	case stats.UnitNs:
		return stats.Duration(math.Round(v)).String()
	case stats.UnitBytes:
		return stats.ByteCount(math.Round(v)).String()
	case stats.UnitRatio:
		return fmtRatio(v)
	case stats.UnitPct:
		return strconv.FormatFloat(v, 'f', -1, 64) + "%"
	case stats.UnitRate:
		return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmtInt(int64(v))
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
