package diff

import (
	"strconv"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/stats"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// Which way a metric goes when things get worse.
const (
	HigherWorse = "higher is worse"
	LowerWorse  = "lower is worse"
	Neutral     = "neutral"
)

// metric is one number read from one model.
type metric struct {
	key      string // the metric's path, e.g. blocking.mutex.total or goroutines.groups["main.serve"].blocked
	section  string
	name     string // the matched row of a list; "" for a scalar
	unit     string
	extent   bool // grows with the trace's duration: compared per second of wall time too
	dir      string
	where    string // the program's own frame the row lives in
	whereKey string // for a scalar, the list whose rows say where it lives
	value    float64
}

// The model's scalars left out: identities, not measurements.
var skipScalars = map[string]bool{
	"overview.wall_start_unix": true,
}

// extentFields are the last elements of paths whose values add up over
// time: a longer run has more of them.
var extentFields = map[string]bool{
	"count": true, "total": true, "created": true, "ended": true, "running": true, "runnable": true,
	"blocked": true, "syscall": true, "cycles": true, "time": true, "assist_running": true,
	"assist_waiting": true, "samples": true, "events": true, "wire_events": true, "batches": true,
	"generations": true, "file_bytes": true, "sync": true, "net": true, "moved_events": true,
	"restamped_batches": true, "objects": true, "bytes": true, "estimated": true, "freed": true,
}

// direction says which way path gets worse.
func direction(path string) string {
	section, rest, _ := strings.Cut(path, ".")
	last := path[strings.LastIndexByte(path, '.')+1:]
	switch {
	case section == "overview", section == "cpu" && !strings.Contains(path, "["):
		return Neutral
	case section == "goroutines":
		switch last {
		case "created", "ended", "existing", "running", "count":
			return Neutral
		}
		return HigherWorse
	case section == "gc" && strings.HasPrefix(rest, "mmu."):
		return LowerWorse
	case section == "annotations" && last == "count":
		return Neutral
	}
	return HigherWorse
}

// whereOf names the lists whose rows say where a scalar's change lives,
// separated by "|": the first that knows a place says it.
func whereOf(path string) string {
	section, rest, _ := strings.Cut(path, ".")
	switch section {
	case "blocking":
		switch cat, _, _ := strings.Cut(rest, "."); cat {
		case "all", "sync", "net":
			return "blocking.stacks"
		default:
			return "blocking.stacks:" + cat
		}
	case "goroutines":
		switch rest {
		case "leaked", "leaked_benign", "alive_at_end", "peak_alive":
			return "findings.leaks"
		case "blocked":
			return "blocking.stacks"
		case "syscall":
			return "syscalls.stacks"
		case "running", "runnable":
			return "goroutines.groups:" + rest
		}
		return "goroutines.groups:count"
	case "sched":
		return "goroutines.groups:runnable"
	case "heap":
		if strings.HasPrefix(rest, "allocs.") {
			return "heap.allocs.by_goroutine|cpu.alloc_sites"
		}
		return "cpu.alloc_sites|heap.allocs.by_goroutine|blocking.stacks:gc|blocking.stacks:runtime"
	case "gc":
		// The code that allocates; without CPU samples or heap events,
		// where goroutines waited for the collector.
		return "cpu.alloc_sites|heap.allocs.by_goroutine|blocking.stacks:gc|blocking.stacks:runtime"
	case "syscalls":
		return "syscalls.stacks"
	case "cpu":
		return "cpu.flat"
	}
	return ""
}

// metrics reads every number of m that diff compares.
func metrics(m *stats.Model) []metric {
	var out []metric
	add := func(key, section, name, unit, where, field string, v float64) {
		out = append(out, metric{key: key, section: section, name: name, unit: unit,
			extent: extentFields[field], dir: direction(key), where: where, value: v})
	}
	for _, f := range stats.Fields() {
		section, _, _ := strings.Cut(f.Path, ".")
		if skipScalars[f.Path] || section == "damage" {
			continue
		}
		last := f.Path[strings.LastIndexByte(f.Path, '.')+1:]
		out = append(out, metric{key: f.Path, section: section, unit: f.Unit, extent: extentFields[last],
			dir: direction(f.Path), whereKey: whereOf(f.Path), value: m.Value(f)})
	}
	dist := func(prefix, section, name, where string, d stats.Dist) {
		for _, f := range []struct {
			field string
			unit  string
			v     int64
		}{{"count", stats.UnitCount, d.Count}, {"total", stats.UnitNs, int64(d.Total)},
			{"p50", stats.UnitNs, int64(d.P50)}, {"p90", stats.UnitNs, int64(d.P90)},
			{"p99", stats.UnitNs, int64(d.P99)}, {"max", stats.UnitNs, int64(d.Max)}} {
			add(prefix+"."+f.field, section, name, f.unit, where, f.field, float64(f.v))
		}
	}
	q := strconv.Quote
	for _, g := range m.Goroutines.Groups {
		n := Normalize(g.Func)
		p := "goroutines.groups[" + q(n) + "]"
		add(p+".count", "goroutines", n, stats.UnitCount, g.Func, "count", float64(g.Count))
		add(p+".running", "goroutines", n, stats.UnitNs, g.Func, "running", float64(g.Running))
		add(p+".runnable", "goroutines", n, stats.UnitNs, g.Func, "runnable", float64(g.Runnable))
		add(p+".blocked", "goroutines", n, stats.UnitNs, g.Func, "blocked", float64(g.Blocked))
		add(p+".syscall", "goroutines", n, stats.UnitNs, g.Func, "syscall", float64(g.Syscall))
	}
	for _, c := range m.Blocking.ByCategory {
		for _, st := range c.Stacks {
			n := c.Category + " at " + stackKey(st.Stack)
			p := "blocking.stacks[" + q(n) + "]"
			where := stats.UserFrame(st.Stack)
			add(p+".count", "blocking", n, stats.UnitCount, where, "count", float64(st.Count))
			add(p+".total", "blocking", n, stats.UnitNs, where, "total", float64(st.Total))
		}
	}
	for _, k := range m.GC.STWByKind {
		p := "gc.stw_by_kind[" + q(k.Kind) + "]"
		add(p+".count", "gc", k.Kind, stats.UnitCount, "", "count", float64(k.Dist.Count))
		add(p+".total", "gc", k.Kind, stats.UnitNs, "", "total", float64(k.Dist.Total))
		add(p+".max", "gc", k.Kind, stats.UnitNs, "", "max", float64(k.Dist.Max))
	}
	for _, st := range m.Syscalls.Stacks {
		n := stackKey(st.Stack)
		p := "syscalls.stacks[" + q(n) + "]"
		where := stats.UserFrame(st.Stack)
		add(p+".count", "syscalls", n, stats.UnitCount, where, "count", float64(st.Count))
		add(p+".total", "syscalls", n, stats.UnitNs, where, "total", float64(st.Total))
	}
	for _, t := range m.Annotations.Tasks {
		dist("annotations.tasks["+q(t.Name)+"]", "tasks", t.Name, "", t.Dist)
	}
	for _, r := range m.Annotations.Regions {
		dist("annotations.regions["+q(r.Name)+"]", "regions", r.Name, "", r.Dist)
	}
	for _, l := range []struct {
		path string
		rows []stats.FuncSamples
	}{{"cpu.flat", m.CPU.Flat}, {"cpu.alloc_sites", m.CPU.AllocSites}} {
		for _, s := range l.rows {
			n := Normalize(s.Func)
			where := ""
			if s.Func != "(runtime)" {
				where = s.Func
			}
			add(l.path+"["+q(n)+"].samples", "cpu", n, stats.UnitCount, where, "samples", float64(s.Samples))
		}
	}
	// Allocations, with heap events: by type, and by the goroutines that
	// made them.
	for _, l := range []struct {
		path string
		rows []stats.AllocGroup
		fn   bool
	}{{"heap.allocs.by_type", m.Heap.Allocs.ByType, false}, {"heap.allocs.by_goroutine", m.Heap.Allocs.ByGoroutine, true}} {
		for _, g := range l.rows {
			n, where := g.Name, ""
			if l.fn {
				n = Normalize(g.Name)
				if timeline.IsUserFrame(g.Name) {
					where = g.Name
				}
			}
			p := l.path + "[" + q(n) + "]"
			add(p+".objects", "heap", n, stats.UnitCount, where, "objects", float64(g.Objects))
			add(p+".bytes", "heap", n, stats.UnitBytes, where, "bytes", float64(g.Bytes))
		}
	}
	for _, l := range m.Findings.Leaks {
		n := Normalize(l.Func) + " at " + stackKey(l.Stack)
		add("findings.leaks["+q(n)+"].count", "leaks", n, stats.UnitCount, stats.UserFrame(l.Stack), "leaked", float64(l.Count))
	}
	ranked := map[string]bool{}
	for _, f := range m.Findings.Ranked {
		n := f.Kind
		if f.Where != "" {
			n += " in " + Normalize(f.Where)
		}
		p := "findings.ranked[" + q(n) + "].share"
		if ranked[p] {
			continue // one row per kind and place: the first is the heaviest
		}
		ranked[p] = true
		add(p, "findings", n, "", f.Where, "share", f.Share)
	}
	return merge(out)
}

// merge makes one metric of those with the same key: rows whose names
// differ only in what Normalize leaves out (two closures of one function)
// or whose stacks differ only in the runtime's frames. Totals, counts and
// leak suspects add up; of a percentile or a maximum, the largest stands.
func merge(ms []metric) []metric {
	at := make(map[string]int, len(ms))
	out := ms[:0]
	for _, x := range ms {
		i, ok := at[x.key]
		if !ok {
			at[x.key] = len(out)
			out = append(out, x)
			continue
		}
		if x.extent || x.section == "leaks" {
			out[i].value += x.value
		} else {
			out[i].value = max(out[i].value, x.value)
		}
	}
	return out
}

// listOf is the list a list row's key belongs to: blocking.stacks for
// blocking.stacks["mutex at main.f"].total.
func listOf(key string) string {
	i := strings.IndexByte(key, '[')
	if i < 0 {
		return ""
	}
	return key[:i]
}

// fieldOf is the last element of a key: total for blocking.mutex.total.
func fieldOf(key string) string { return key[strings.LastIndexByte(key, '.')+1:] }
