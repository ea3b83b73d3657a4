// Package diff compares the stats of two sets of traces, a base and a new
// one, metric by metric: every number of the stats model, and the rows of
// its lists matched by meaning (goroutine groups and stacks by the
// normalised names of their functions, tasks and regions by name). With
// several traces a side, each metric's values are compared with the
// Mann-Whitney U test of golang.org/x/perf/benchmath, as benchstat does, so
// that noise is not called a change. Numbers that add up over time are
// compared per second of wall time, so a longer run is not a regression by
// itself.
package diff

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/gotrace-cli/gotrace/internal/stats"
)

// Schema names the JSON form of Diff.
const Schema = "gotrace.diff/v1"

// Top is the list size the models compared are computed with: a row that
// is in one trace's lists must not be missing from another's by rank alone.
const Top = 1 << 10

// Verdicts of a row.
const (
	Worse   = "worse"
	Better  = "better"
	Changed = "changed" // a significant change of a metric that has no bad direction
	Same    = "~"       // no significant change, or one under the threshold
)

// Presence of a list row.
const (
	Both = "both"
	New  = "new"  // only in the new traces
	Gone = "gone" // only in the base traces
)

// Options tune the comparison.
type Options struct {
	// Alpha is the p-value at or under which a change is significant;
	// 0 means benchmath's default, 0.05.
	Alpha float64
	// Threshold is the smallest relative change called worse or better.
	Threshold float64
}

// Diff is what changed from the base traces to the new ones.
type Diff struct {
	Schema    string  `json:"schema" help:"always \"gotrace.diff/v1\""`
	Base      Side    `json:"base" help:"the traces compared against"`
	New       Side    `json:"new" help:"the traces compared with them"`
	Alpha     float64 `json:"alpha" help:"the p-value of the Mann-Whitney U test at or under which a change is significant"`
	Threshold float64 `json:"threshold" unit:"ratio" help:"the smallest relative change called worse or better"`
	Judged    bool    `json:"judged" help:"whether significance was tested: false with one trace on a side, when every change past the threshold is reported without a p-value"`
	MinP      float64 `json:"min_p" help:"the smallest p-value the U test can give with this many traces a side; over alpha, no change can be significant"`
	Worse     int     `json:"worse" unit:"count" help:"rows whose verdict is worse"`
	Better    int     `json:"better" unit:"count" help:"rows whose verdict is better"`
	Rows      []Row   `json:"rows" help:"every metric compared: regressions, largest first, then improvements, other changes, and the rest in model order"`
}

// Side is one set of traces.
type Side struct {
	Files    []string       `json:"files" help:"the traces as named on the command line, directories expanded"`
	Duration stats.Duration `json:"duration_ns" unit:"ns" help:"the median of the traces' durations"`
	Damaged  []string       `json:"damaged" help:"the traces that could not be read to their end, each as the error that stopped reading it, which names it: only their complete generations are compared"`
}

// side is the traces in files, whose models are models.
func side(files []string, models []*stats.Model) Side {
	s := Side{Files: files, Duration: medianDuration(models)}
	for _, m := range models {
		if m.Damage.Damaged {
			s.Damaged = append(s.Damaged, m.Damage.Error)
		}
	}
	return s
}

// Row is one metric of both sides.
type Row struct {
	Metric      string    `json:"metric" help:"the metric's path: a check path such as sched.latency.p99, or a list row by name, e.g. goroutines.groups[\"main.serve.func\"].blocked"`
	Section     string    `json:"section" help:"overview, goroutines, sched, blocking, gc, heap (allocations by type and goroutine too, with heap events), syscalls, tasks, regions, cpu, leaks or findings"`
	Name        string    `json:"name" help:"the list row's name, functions normalised (closure numbers, generic type arguments and addresses left out); empty for a number of the model"`
	Unit        string    `json:"unit" help:"the unit of base and new: ns, B, count, ratio, %, 1/s, or empty for a finding's weight"`
	Base        float64   `json:"base" help:"the median of the base traces' values"`
	New         float64   `json:"new" help:"the median of the new traces' values"`
	Delta       float64   `json:"delta" help:"new minus base"`
	Ratio       *float64  `json:"ratio" help:"new divided by base; null when base is 0"`
	PerSecond   bool      `json:"per_second" help:"whether the metric adds up over time, and so is compared per second of wall time: base_rate and new_rate"`
	BaseRate    float64   `json:"base_rate" help:"with per_second, the median of the base values per second of wall time (for durations, the share of wall time); else 0"`
	NewRate     float64   `json:"new_rate" help:"with per_second, the same for the new traces"`
	P           *float64  `json:"p" help:"the p-value of the Mann-Whitney U test of the values; with per_second, the larger of the values' and the rates'; null when a side has a single trace"`
	Significant bool      `json:"significant" help:"p is at or under alpha (with per_second, for the values and the rates both)"`
	Direction   string    `json:"direction" help:"higher is worse, lower is worse, or neutral"`
	Verdict     string    `json:"verdict" help:"worse or better: significant (or not judged) and past the threshold in that direction, with per_second for the values and the rates both, the same way; changed: the same for a neutral metric; ~: no significant change, or one under the threshold"`
	Presence    string    `json:"presence" help:"for a list row: new (in no base trace, and in half the new ones or more), gone (the reverse) or both; both for a number of the model"`
	Where       string    `json:"where" help:"the function of the program's own code the change lives in, when one is known"`
	BaseValues  []float64 `json:"base_values" help:"each base trace's value, in the order of base.files"`
	NewValues   []float64 `json:"new_values" help:"each new trace's value, in the order of new.files"`
	// score ranks changes: the size of the change in log ratio, with
	// small values floored.
	score float64
}

// Compare compares the models of the base traces with those of the new
// ones, each in the order of its files.
func Compare(baseFiles, newFiles []string, base, new []*stats.Model, o Options) *Diff {
	th := benchmath.DefaultThresholds
	if o.Alpha > 0 {
		th.CompareAlpha = o.Alpha
	}
	d := &Diff{Schema: Schema, Alpha: th.CompareAlpha, Threshold: o.Threshold,
		Base: side(baseFiles, base), New: side(newFiles, new),
		// The U test's p-value is at best 2/C(n1+n2, n1) (no tie, every
		// value of one side below every value of the other).
		MinP:   min(1, 2/binomial(len(base)+len(new), len(base))),
		Judged: len(base) > 1 && len(new) > 1}

	// 1. Every metric of every model, by key, in the order first met.
	type acc struct {
		m          metric
		bv, nv     []float64
		bin, nin   []bool // whether each trace holds the row
		hasB, hasN int
	}
	byKey := map[string]*acc{}
	var order []*acc
	for side, models := range [][]*stats.Model{base, new} {
		for i, m := range models {
			for _, x := range metrics(m) {
				a := byKey[x.key]
				if a == nil {
					a = &acc{m: x, bv: make([]float64, len(base)), nv: make([]float64, len(new)),
						bin: make([]bool, len(base)), nin: make([]bool, len(new))}
					byKey[x.key] = a
					order = append(order, a)
				}
				if a.m.where == "" && x.where != "" {
					a.m.where = x.where
				}
				if side == 0 {
					a.bv[i], a.bin[i] = x.value, true
					a.hasB++
				} else {
					a.nv[i], a.nin[i] = x.value, true
					a.hasN++
				}
			}
		}
	}

	// 2. Each metric's values compared.
	for _, a := range order {
		x := a.m
		r := Row{Metric: x.key, Section: x.section, Name: x.name, Unit: x.unit, Direction: x.dir,
			Where: x.where, Presence: Both, BaseValues: a.bv, NewValues: a.nv}
		if x.name != "" {
			// A row a trace now and then holds (a rare wait) is no more
			// new in the new traces than it is gone from the base ones.
			switch {
			case a.hasB == 0 && 2*a.hasN >= len(new):
				r.Presence = New
			case a.hasN == 0 && 2*a.hasB >= len(base):
				r.Presence = Gone
			}
		}
		bv, nv := a.bv, a.nv
		if !x.extent && x.name != "" && x.section != "leaks" && x.section != "findings" {
			// A percentile of a row a trace does not hold is not 0: only
			// the traces that hold the row count. A trace without a leak
			// suspect or a finding has none of it: 0.
			bv, nv = present(a.bv, a.bin), present(a.nv, a.nin)
		}
		r.Base, r.New = median(bv), median(nv)
		r.Delta = r.New - r.Base
		if r.Base != 0 {
			ratio := r.New / r.Base
			r.Ratio = &ratio
		}
		// The values are judged as they are; a total or a count also per
		// second of wall time, and it has changed only when both have,
		// the same way: a longer run of a server has more of everything,
		// a faster run of a batch the same in less time, and neither is
		// a change.
		v := d.judge(bv, nv, floorOf(x.unit), th, o.Threshold)
		if x.extent && x.unit != "" {
			r.PerSecond = true
			tb, tn := perSecond(a.bv, base, x.unit), perSecond(a.nv, new, x.unit)
			r.BaseRate, r.NewRate = median(tb), median(tn)
			pv := d.judge(tb, tn, perSecondFloor(x.unit, d.Base.Duration, d.New.Duration), th, o.Threshold)
			v = v.and(pv)
		}
		r.P, r.Significant = v.p, v.significant
		r.Verdict = Same
		if v.changed {
			switch {
			case x.dir == Neutral:
				r.Verdict = Changed
			case v.up == (x.dir == HigherWorse):
				r.Verdict = Worse
			default:
				r.Verdict = Better
			}
		}
		r.score = v.score
		d.Rows = append(d.Rows, r)
	}

	// 3. A number of the model lives where the rows of its list changed
	// most in its direction.
	for i := range d.Rows {
		r := &d.Rows[i]
		if r.Name != "" || byKey[r.Metric].m.whereKey == "" {
			continue
		}
		for _, list := range strings.Split(byKey[r.Metric].m.whereKey, "|") {
			if r.Where = whereFrom(d.Rows, list, r.Delta); r.Where != "" {
				break
			}
		}
	}

	// 4. Regressions first, largest first; then improvements, other
	// changes, and what did not change, in model order.
	rank := map[string]int{Worse: 0, Better: 1, Changed: 2, Same: 3}
	slices.SortStableFunc(d.Rows, func(x, y Row) int {
		if c := cmp.Compare(rank[x.Verdict], rank[y.Verdict]); c != 0 || x.Verdict == Same {
			return c
		}
		return cmp.Compare(y.score, x.score)
	})
	for _, r := range d.Rows {
		switch r.Verdict {
		case Worse:
			d.Worse++
		case Better:
			d.Better++
		}
	}
	return d
}

// judgement is what the values of one metric say.
type judgement struct {
	p           *float64 // nil when not tested
	significant bool
	changed     bool    // significant (or not judged) and past the threshold
	up          bool    // the new median is higher
	score       float64 // the size of the change: log ratio, values floored
}

// judge compares base and new values: their medians, and with several on
// each side in a judged diff, the U test.
func (d *Diff) judge(b, n []float64, floor float64, th benchmath.Thresholds, threshold float64) judgement {
	var j judgement
	// A percentile of a row one side lacks has nothing to be compared
	// with: the row's count and total say it is new or gone.
	sig := len(b) > 0 && len(n) > 0
	if d.Judged && len(b) > 1 && len(n) > 1 {
		c := benchmath.AssumeNothing.Compare(benchmath.NewSample(slices.Clone(b), &th), benchmath.NewSample(slices.Clone(n), &th))
		p := c.P
		j.p, j.significant = &p, c.P <= c.Alpha
		sig = j.significant
	} else if d.Judged {
		sig = false
	}
	mb, mn := median(b), median(n)
	j.up = mn > mb
	j.changed = sig && mb != mn && math.Abs(mn-mb) >= threshold*math.Abs(mb)
	if j.score = math.Abs(math.Log((mn + floor) / (mb + floor))); math.IsNaN(j.score) || math.IsInf(j.score, 0) {
		j.score = 0
	}
	return j
}

// and is what two judgements of one metric say together: a change when
// both see it, the same way; the larger p-value, the smaller score.
func (j judgement) and(k judgement) judgement {
	out := judgement{significant: j.significant && k.significant, up: k.up,
		changed: j.changed && k.changed && j.up == k.up, score: min(j.score, k.score)}
	out.p = j.p
	if k.p != nil && (j.p == nil || *k.p > *j.p) {
		out.p = k.p
	}
	return out
}

// whereFrom returns the place of the row of list whose total (or samples,
// or count) moved most the way delta did. list may name a category,
// "blocking.stacks:mutex", or a field, "goroutines.groups:runnable".
func whereFrom(rows []Row, list string, delta float64) string {
	list, sel, _ := strings.Cut(list, ":")
	best, where := 0.0, ""
	for _, r := range rows {
		if r.Where == "" || listOf(r.Metric) != list {
			continue
		}
		f := fieldOf(r.Metric)
		switch {
		case list == "goroutines.groups" && sel != "":
			if f != sel {
				continue
			}
		case list == "blocking.stacks" && sel != "":
			if !strings.HasPrefix(r.Name, sel+" at ") || f != "total" {
				continue
			}
		case list == "heap.allocs.by_goroutine":
			if f != "bytes" {
				continue
			}
		case f != "total" && f != "samples" && f != "count":
			continue
		case f == "count" && list != "findings.leaks":
			continue
		}
		moved := r.Delta
		if r.PerSecond {
			moved = r.NewRate - r.BaseRate
		}
		if delta < 0 {
			moved = -moved
		}
		if moved > best {
			best, where = moved, r.Where
		}
	}
	return where
}

// floorOf is the value under which a metric's size does not rank a change:
// 0 to 1µs is not an infinite regression.
func floorOf(unit string) float64 {
	switch unit {
	case stats.UnitNs:
		return 10e3
	case stats.UnitBytes:
		return 64 << 10
	case stats.UnitRatio:
		return 0.01
	}
	return 1
}

// perSecondFloor is floorOf for a value per second: 1% of the wall time
// for durations, one in the run for counts.
func perSecondFloor(unit string, base, new stats.Duration) float64 {
	secs := float64(max(base, new, 1)) / 1e9
	switch unit {
	case stats.UnitNs:
		return 0.01
	case stats.UnitBytes:
		return (64 << 10) / secs
	}
	return 1 / secs
}

// perSecond divides each value by its model's duration in seconds; a
// duration by the model's, which is its share of wall time.
func perSecond(v []float64, models []*stats.Model, unit string) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		if d := float64(models[i].Overview.Duration); d > 0 {
			if unit != stats.UnitNs {
				d /= 1e9
			}
			out[i] = x / d
		}
	}
	return out
}

func present(v []float64, in []bool) []float64 {
	var out []float64
	for i, x := range v {
		if in[i] {
			out = append(out, x)
		}
	}
	return out
}

// median is benchmath's summary of v: its median. 0 for no values.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := benchmath.NewSample(slices.Clone(v), &benchmath.DefaultThresholds)
	return benchmath.AssumeNothing.Summary(s, 0.95).Center
}

func medianDuration(models []*stats.Model) stats.Duration {
	var v []float64
	for _, m := range models {
		v = append(v, float64(m.Overview.Duration))
	}
	return stats.Duration(median(v))
}

// binomial is n choose k, as a float.
func binomial(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}
