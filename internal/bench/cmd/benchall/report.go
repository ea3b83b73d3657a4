package main

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// mb formats bytes in decimal megabytes, the unit the targets use.
func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func (h *harness) report() {
	var buf bytes.Buffer
	h.render(&buf)
	// N.B. tabwriter pads the last column too; drop trailing spaces.
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		fmt.Fprintln(h.out, strings.TrimRight(l, " "))
	}
}

func (h *harness) render(w io.Writer) {
	fmt.Fprintf(w, "\nmachine: %s/%s, %d CPUs, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(w, "settings: -count %d -runs %d -timeout %v -max-rss %d\n", h.count, h.runs, h.timeout, h.maxRSS/1e6)
	if h.selfPeak > 0 {
		fmt.Fprintf(w, "harness peak RSS: %s (no child's peak RSS reads lower: rusage counts the parent's pages up to exec)\n", mb(h.selfPeak))
	}
	inputs := []struct {
		name string
		in   *input
	}{{"trace", h.full}, {"half", h.half}, {"gen1", h.gen1}, {"service", h.service}}
	for _, in := range inputs {
		if in.in == nil {
			continue
		}
		c := in.in.c
		fmt.Fprintf(w, "%-8s %s: %s, %d generations (largest %s), %d batches, %d events\n",
			in.name+":", h.rel(in.in.path), mb(c.Bytes), c.Generations, mb(c.LargestGen), c.Batches, c.Events)
	}
	for _, in := range []*input{h.full, h.service} {
		if in != nil {
			fmt.Fprintln(w, shapeLine(h.rel(in.path), in))
		}
	}
	fmt.Fprintln(w, "time is wall time (the fastest of -count runs) and what the targets use; CPU is user+system time of that run")
	fmt.Fprintln(w, "rows that are not a command line are in-process loops, each run in a subprocess of its own")
	fmt.Fprintln(w, "events/s counts wire events (what go tool trace -d=wire lists, batch headers excluded) for every row")
	fmt.Fprintln(w)

	// N.B. numbers are padded by fmt so they line up on the right inside
	// tabwriter's left-aligned columns; a row that was not measured says
	// why in its last, unaligned cell.
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "key\tmeasurement\t%9s\t%8s\t%8s\t%9s\t%10s\t\n", "time", "CPU", "MB/s", "Mevents/s", "peak RSS")
	for _, k := range h.order {
		r := h.results[k]
		if !r.ok() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.key, r.label, r.status)
			continue
		}
		thr, evs := "", ""
		if r.dur > 0 && !r.lowerBound {
			thr = fmt.Sprintf("%.1f", float64(r.in.c.Bytes)/1e6/r.dur.Seconds())
			evs = fmt.Sprintf("%.2f", float64(r.in.c.Events)/1e6/r.dur.Seconds())
		}
		d := fmt.Sprintf("%.2fs", r.dur.Seconds())
		if r.lowerBound {
			d = ">" + d
		}
		rss := mb(r.rss)
		if r.rss == 0 {
			rss = "?"
		}
		cpu := ""
		if r.cpu > 0 {
			cpu = fmt.Sprintf("%.2fs", r.cpu.Seconds())
		}
		fmt.Fprintf(tw, "%s\t%s\t%9s\t%8s\t%8s\t%9s\t%10s\t%s\n", r.key, r.label, d, cpu, thr, evs, rss, r.note)
	}
	tw.Flush()

	fmt.Fprintln(w, "\ntargets")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, t := range h.targets() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.name, t.value, t.want, t.verdict)
	}
	tw.Flush()

	if d := h.overheadDetail(); d != "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, d)
	}

	fmt.Fprintln(w, "\nmemory growth (peak RSS should follow the largest generation, not the file)")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	keys := []string{"decode-text", "stats-json"}
	for _, d := range decodeLoops {
		keys = append(keys, d.key)
	}
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\n", h.growth(k, k+"-half"))
	}
	tw.Flush()
}

// shapeLine describes how a trace's generations overlap, what
// golang.org/x/exp/trace moves in it and its goroutines.
func shapeLine(name string, in *input) string {
	if in.shape == nil {
		why := in.noShape
		if why == "" {
			why = "not measured"
		}
		return fmt.Sprintf("shape of %s: %s", name, why)
	}
	o, x := in.shape.Overlap, in.shape.XExp
	return fmt.Sprintf("shape of %s: %d of %d generations end with no-thread batches at or after the next one's first time (%d of %d such batches); "+
		"x/exp/trace moved %d of %d events (%.2f%%); goroutines: %d created, %d from before, at most %d alive at once",
		name, o.LateGenerations, o.Generations, o.LateBatches, o.NoThreadBatches,
		x.Moved, x.Events, 100*float64(x.Moved)/float64(max(1, x.Events)), x.Created, x.Existing, x.PeakAlive)
}

type targetRow struct{ name, value, want, verdict string }

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// why explains a missing side of a comparison.
func (h *harness) why(keys ...string) string {
	for _, k := range keys {
		r := h.results[k]
		switch {
		case r == nil:
			return "n/a (" + k + " not measured)"
		case !r.ok():
			return "n/a (" + k + " " + strings.SplitN(r.status, ":", 2)[0] + ")"
		case r.lowerBound:
			return "n/a (" + k + " did not finish)"
		}
	}
	return ""
}

// speedup compares how many times faster fast is than slow, against at
// least want.
func (h *harness) speedup(name, fast, slow string, want float64) targetRow {
	t := targetRow{name: name, want: fmt.Sprintf("target >= %gx", want)}
	f, s := h.results[fast], h.results[slow]
	if w := h.why(fast); w != "" {
		t.verdict = w
		return t
	}
	if s != nil && s.ok() && s.lowerBound {
		// The slow side was stopped early: its time is a lower bound,
		// which settles the comparison only in one direction.
		x := s.dur.Seconds() / f.dur.Seconds()
		t.value = fmt.Sprintf("> %.1fx faster", x)
		if x >= want {
			t.verdict = "PASS"
		} else {
			t.verdict = "n/a (" + slow + " did not finish)"
		}
		return t
	}
	if w := h.why(slow); w != "" {
		t.verdict = w
		return t
	}
	x := s.dur.Seconds() / f.dur.Seconds()
	t.value = fmt.Sprintf("%.1fx faster", x)
	t.verdict = verdict(x >= want)
	return t
}

// timeRatio compares key's wall time with base's, against at most most
// times base's.
func (h *harness) timeRatio(name, key, base string, most float64) targetRow {
	t := targetRow{name: name, want: fmt.Sprintf("target <= %.1fx the loop's time", most)}
	if w := h.why(base); w != "" {
		t.verdict = w
		return t
	}
	r := h.results[key]
	// A run stopped early has a lower bound for its time, which settles
	// the comparison only when it already misses the target.
	bound := r.ok() && r.lowerBound
	if w := h.why(key); w != "" && !bound {
		t.verdict = w
		return t
	}
	x := r.dur.Seconds() / h.results[base].dur.Seconds()
	t.value = fmt.Sprintf("%.2fx the loop's time", x)
	t.verdict = verdict(x <= most)
	if bound {
		t.value = "> " + t.value
		if x <= most {
			t.verdict = "n/a (" + key + " did not finish)"
		}
	}
	return t
}

func (h *harness) rssBelow(name, key string, limit int64) targetRow {
	t := targetRow{name: name, want: "target < " + mb(limit)}
	r := h.results[key]
	if w := h.why(key); w != "" {
		t.verdict = w
		return t
	}
	if r.rss == 0 {
		t.verdict = "n/a (RSS not reported on " + runtime.GOOS + ")"
		return t
	}
	t.value = mb(r.rss)
	t.verdict = verdict(r.rss < limit)
	return t
}

func (h *harness) targets() []targetRow {
	var rows []targetRow
	for _, d := range decodeLoops {
		rows = append(rows, h.speedup(d.name+" vs x/exp/trace loop", d.key, "xexp", 15))
		walk := targetRow{name: d.name + " vs bare walk", want: "target <= 3x the walk's time"}
		if w := h.why(d.key, "walk"); w != "" {
			walk.verdict = w
		} else {
			x := h.results[d.key].dur.Seconds() / h.results["walk"].dur.Seconds()
			walk.value = fmt.Sprintf("%.1fx the walk's time", x)
			walk.verdict = verdict(x <= 3)
		}
		rows = append(rows, walk)
	}
	rows = append(rows,
		h.speedup("decode text vs go tool trace -d=wire", "decode-text", "wire", 5),
		h.speedup("decode --json vs go tool trace -d=wire", "decode-json", "wire", 2),
		h.speedup("decode --summary vs go tool trace -d=wire", "decode-summary", "wire", 50),
	)
	for _, d := range decodeLoops {
		rows = append(rows, h.rssBelow(d.name+" peak RSS", d.key, 100e6))
	}
	rows = append(rows,
		h.rssBelow("gotrace decode peak RSS", "decode-text", 100e6),
		h.overheadTarget(),
		h.speedup("export perfetto vs go tool trace parse+split", "export-perfetto", "gotool-http", 1),
		h.speedup("  same, first generation only", "export-perfetto-gen1", "gotool-http-gen1", 1),
		h.rssBelow("stress: export parquet peak RSS", "export-parquet", 150e6),
		h.timeBelow("view --print: the whole trace, groups followed", "view-print", 3*time.Second),
		h.rssBelow("view --print: peak RSS", "view-print", 200e6),
	)
	for _, tr := range []struct{ name, suffix string }{{"stress", ""}, {"service", "-service"}} {
		for _, c := range timelineCommands {
			rows = append(rows,
				h.timeRatio(tr.name+": "+c.name+" vs x/exp/trace loop", c.key+tr.suffix, "xexp"+tr.suffix, c.most),
				h.rssBelow(tr.name+": "+c.name+" peak RSS", c.key+tr.suffix, 150e6))
		}
	}
	return rows
}

// timeBelow holds a command's wall time to under limit.
func (h *harness) timeBelow(name, key string, limit time.Duration) targetRow {
	t := targetRow{name: name, want: "target < " + limit.String()}
	if w := h.why(key); w != "" {
		t.verdict = w
		return t
	}
	d := h.results[key].dur
	t.value = fmt.Sprintf("%.2fs", d.Seconds())
	t.verdict = verdict(d < limit)
	return t
}

// timelineCommands are the commands that read the goroutine timeline, each
// held to at most most times the x/exp/trace loop's wall time on the same
// trace, and to 150 MB of RSS.
var timelineCommands = []struct {
	key, name string
	most      float64
}{
	{"stats-json", "stats --json", 0.7},
	{"pprof-sched", "pprof --type sched", 1},
	{"pprof-cpu", "pprof --type cpu", 1},
	{"goroutines-json", "goroutines --json", 1},
	{"export-perfetto", "export perfetto", 1},
}

// growth compares a measurement on the whole trace with the same on the
// half-length prefix. Memory that grows with the file would roughly double;
// memory bounded by the largest generation stays put when both files hold
// the same largest generation.
func (h *harness) growth(fullKey, halfKey string) string {
	f, hf := h.results[fullKey], h.results[halfKey]
	if w := h.why(fullKey, halfKey); w != "" {
		return fmt.Sprintf("%s: %s", fullKey, w)
	}
	if f.rss == 0 || hf.rss == 0 {
		return fmt.Sprintf("%s: n/a (RSS not reported on %s)", fullKey, runtime.GOOS)
	}
	fileRatio := float64(f.in.c.Bytes) / float64(hf.in.c.Bytes)
	genRatio := float64(f.in.c.LargestGen) / float64(hf.in.c.LargestGen)
	rssRatio := float64(f.rss) / float64(hf.rss)
	// Allow a quarter on top of what the largest generation explains.
	ok := rssRatio <= 1.25*max(1, genRatio)
	return fmt.Sprintf("%s:\tfull %s RSS, half %s RSS\tx%.2f RSS for x%.2f file, x%.2f largest generation\t%s",
		fullKey, mb(f.rss), mb(hf.rss), rssRatio, fileRatio, genRatio, verdict(ok))
}

// seconds formats a duration for the overhead lines.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
