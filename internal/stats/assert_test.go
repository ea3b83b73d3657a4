package stats

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestParseAssertion(t *testing.T) {
	m := &Model{}
	m.Overview.Generations, m.Overview.Events = 1, 100
	m.GC.STW.Max = 4e6
	m.Heap.Max = 100 << 20
	m.GC.MMU.W10ms = 0.6
	m.Sched.Latency.P99 = 150e3
	for _, c := range []struct {
		expr string
		want float64
		pass bool
	}{
		{"gc.stw.max < 5ms", 5e6, true},
		{"gc.stw.max<4ms", 4e6, false},
		{"gc.stw.max <= 4000us", 4e6, true},
		{"gc.stw.max <= 4000µs", 4e6, true},
		{"gc.stw.max <= 4 ms", 4e6, true},
		{" heap.max<100 MiB ", 100 << 20, false},
		{"sched.latency.p99 <= 200us", 200e3, true},
		{"heap.max < 512MiB", 512 << 20, true},
		{"heap.max >= 100MB", 100e6, true},
		{"heap.max == 104857600", 104857600, true},
		{"gc.mmu.10ms >= 50%", 0.5, true},
		{"gc.mmu.10ms > 0.7", 0.7, false},
		{"goroutines.leaked == 0", 0, true},
		{"goroutines.leaked != 0", 0, false},
		{"overview.duration > 1m", 60e9, false},
	} {
		a, err := ParseAssertion(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		a.Eval(m)
		if a.Want != c.want || a.Pass != c.pass {
			t.Errorf("%q: want %v pass %v; got want %v pass %v", c.expr, c.want, c.pass, a.Want, a.Pass)
		}
		if res := map[bool]string{true: ResultPass, false: ResultFail}[c.pass]; a.Result != res || a.Reason != "" {
			t.Errorf("%q: result %q (%q), want %q", c.expr, a.Result, a.Reason, res)
		}
	}
}

func TestParseAssertionErrors(t *testing.T) {
	for _, c := range []struct{ expr, msg string }{
		{"gc.stw.max", "want PATH OP VALUE"},
		{"gc.stw.max =< 5ms", "want PATH OP VALUE"},
		{"gc.stw.mx < 5ms", "did you mean gc.stw.max"},
		{"gc.stw < 5ms", "gc.stw.count"},
		{"gc.stw.max < 5MiB", "is a duration"},
		{"heap.max < 5ms", "is a size in bytes"},
		{"heap.max < 5 parsecs", `unknown unit "parsecs"`},
		{"heap.max < 5 5", "want PATH OP VALUE"},
		{"xyz > 1", "paths begin with overview., goroutines."},
		{"heap.max < 5pc", "unknown unit"},
		{"heap.max < lots", "not a number"},
		{"nosuch.thing > 1", "check --list"},
		{"annotations.regions.p99 < 5ms", `regions are reached by name: annotations.regions["NAME"].p99`},
		{"annotations.tasks.count > 1", `tasks are reached by name: annotations.tasks["NAME"].count`},
		{`annotations.regions[load].p99 < 5ms`, `at column 21: want a quoted name after "["`},
		{`annotations.regions["load.p99 < 5ms`, "at column 21: the quoted name does not end"},
		{`annotations.regions["load".p99 < 5ms`, `at column 27: want "]" after the name`},
		{`annotations.regions["load"]p99 < 5ms`, "at column 28: want one of .count .total .p50 .p90 .p99 .max"},
		{`annotations.regions["load"].p95 < 5ms`, "at column 28: want one of"},
		{`annotations.regions["lo\qd"].p99 < 5ms`, "at column 21: the name"},
		{`gc.stw["x"].max < 5ms`, `at column 7: "gc.stw" takes no ["NAME"]`},
		{`annotations["x"].count > 1`, `at column 12: "annotations" takes no ["NAME"]`},
		{`annotations.regions["load"].p99 < 5MiB`, "is a duration"},
		{`annotations.regions["load"].count > 1ms`, "is a count"},
		{`annotations.regions["load"].p99`, "want PATH OP VALUE"},
		// Columns count characters, not bytes.
		{`annotations.regions["läd"]x < 1`, "at column 27:"},
	} {
		_, err := ParseAssertion(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: error %v, want one containing %q", c.expr, err, c.msg)
		}
		if err != nil && !errors.Is(err, ErrBadAssertion) {
			t.Errorf("%q: error %v does not say it is a bad assertion", c.expr, err)
		}
	}
}

// TestFieldsDocumented checks every path has a unit and help, and that the
// paths the documentation promises exist.
func TestFieldsDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		if f.Unit == "" || f.Help == "" {
			t.Errorf("%s: unit %q, help %q", f.Path, f.Unit, f.Help)
		}
		if seen[f.Path] {
			t.Errorf("%s: path appears twice", f.Path)
		}
		seen[f.Path] = true
	}
	for _, p := range []string{"gc.stw.max", "goroutines.leaked", "sched.latency.p99", "heap.max", "gc.mmu.1ms", "blocking.channel.total", "overview.duration"} {
		if !seen[p] {
			t.Errorf("path %s missing", p)
		}
	}
}

func TestNamedPaths(t *testing.T) {
	m := &Model{}
	m.Overview.Generations, m.Overview.Events = 2, 500
	m.Annotations.Tasks = []NamedDist{{Name: "job", Dist: Dist{Count: 12, Total: 9e9, P50: 700e6, P90: 800e6, P99: 900e6, Max: 950e6}}}
	m.Annotations.Regions = []NamedDist{
		{Name: "load", Dist: Dist{Count: 40, Total: 80e6, P50: 1e6, P90: 3e6, P99: 4e6, Max: 6e6}},
		{Name: `odd "name" <x>`, Dist: Dist{Count: 1, Total: 2e6, P50: 2e6, P90: 2e6, P99: 2e6, Max: 2e6}},
	}
	for _, c := range []struct {
		expr, path, unit string
		got              float64
		pass             bool
	}{
		{`annotations.regions["load"].p99 < 5ms`, `annotations.regions["load"].p99`, UnitNs, 4e6, true},
		{`annotations.regions["load"].max < 5ms`, `annotations.regions["load"].max`, UnitNs, 6e6, false},
		{`annotations.regions["load"].p50<=1ms`, `annotations.regions["load"].p50`, UnitNs, 1e6, true},
		{`annotations.regions["load"].p90 == 3ms`, `annotations.regions["load"].p90`, UnitNs, 3e6, true},
		{`annotations.regions["load"].total > 1s`, `annotations.regions["load"].total`, UnitNs, 80e6, false},
		{`annotations.regions["load"].count == 40`, `annotations.regions["load"].count`, UnitCount, 40, true},
		{`annotations.tasks["job"].count > 10`, `annotations.tasks["job"].count`, UnitCount, 12, true},
		{`annotations.tasks["job"].max < 1s`, `annotations.tasks["job"].max`, UnitNs, 950e6, true},
		// Names are Go strings: any character, with escapes.
		{`annotations.regions["odd \"name\" <x>"].count >= 1`, `annotations.regions["odd \"name\" <x>"].count`, UnitCount, 1, true},
		{`annotations.regions["\x6coad"].count == 40`, `annotations.regions["load"].count`, UnitCount, 40, true},
	} {
		a, err := ParseAssertion(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		a.Eval(m)
		if a.Path != c.path || a.Unit != c.unit || a.Got != c.got || a.Pass != c.pass {
			t.Errorf("%s: path %s unit %s got %v pass %v; want %s %s %v %v", c.expr, a.Path, a.Unit, a.Got, a.Pass, c.path, c.unit, c.got, c.pass)
		}
	}

	// A name the trace does not hold has no value: no data, not a pass.
	for _, c := range []struct{ expr, reason string }{
		{`annotations.regions["nope"].count == 0`, `no region named "nope" ended in the trace (it has "load", "odd \"name\" <x>")`},
		{`annotations.tasks["load"].p99 < 1s`, `no task named "load" ended in the trace (it has "job")`},
	} {
		a, err := ParseAssertion(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		a.Eval(m)
		if a.Result != ResultNoData || a.Pass || a.Got != 0 || a.Reason != c.reason {
			t.Errorf("%s: result %q pass %v got %v reason %q; want no data, %q", c.expr, a.Result, a.Pass, a.Got, a.Reason, c.reason)
		}
	}
	m.Annotations.Regions = nil
	a, _ := ParseAssertion(`annotations.regions["load"].count == 0`)
	if a.Eval(m); a.Reason != `no region named "load" ended in the trace (it has no regions)` {
		t.Errorf("no regions: reason %q", a.Reason)
	}
}

// TestNothingAnalysed: over a model with no complete generation every
// assertion, even one that a zero would pass, has no data.
func TestNothingAnalysed(t *testing.T) {
	for _, m := range []*Model{
		{},                                   // a header alone, or a cut inside the first generation
		{Overview: Overview{Generations: 1}}, // a generation with no event
		{Overview: Overview{Events: 3}},      // events but no complete generation
	} {
		if NothingAnalysed(m) == "" {
			t.Errorf("%+v: something analysed", m.Overview)
		}
		for _, e := range []string{"goroutines.leaked == 0", "gc.stw.max < 5ms", "overview.events >= 0", `annotations.regions["x"].count == 0`} {
			a, err := ParseAssertion(e)
			if err != nil {
				t.Fatal(err)
			}
			a.Eval(m)
			if a.Result != ResultNoData || a.Pass || !strings.Contains(a.Reason, "no complete generation") {
				t.Errorf("%s over %+v: result %q pass %v reason %q", e, m.Overview, a.Result, a.Pass, a.Reason)
			}
		}
	}
	if r := NothingAnalysed(&Model{Overview: Overview{Generations: 1, Events: 1}}); r != "" {
		t.Errorf("one generation, one event: %q", r)
	}
}

// TestNamedPathsListed: --list's named forms parse, and name every field of
// a Dist.
func TestNamedPathsListed(t *testing.T) {
	var paths []string
	for _, f := range NamedPaths() {
		paths = append(paths, f.Path)
		if f.Unit == "" || f.Help == "" || !strings.Contains(f.JSON, "[].dist.") {
			t.Errorf("%s: unit %q help %q json %q", f.Path, f.Unit, f.Help, f.JSON)
		}
		if _, err := ParseAssertion(f.Path + " >= 0"); err != nil {
			t.Errorf("%s: %v", f.Path, err)
		}
	}
	for _, p := range []string{`annotations.regions["NAME"].p99`, `annotations.tasks["NAME"].count`, `annotations.tasks["NAME"].total`, `annotations.regions["NAME"].max`} {
		if !slices.Contains(paths, p) {
			t.Errorf("%s missing from %v", p, paths)
		}
	}
}

// TestBaselineAssertion evaluates values made from a baseline's: a change,
// a multiple, an offset, the baseline's value itself.
func TestBaselineAssertion(t *testing.T) {
	base, m := &Model{}, &Model{}
	for _, x := range []*Model{base, m} {
		x.Overview.Generations, x.Overview.Events = 1, 100
	}
	base.Sched.Latency.P99, m.Sched.Latency.P99 = 100e3, 130e3
	base.GC.Time, m.GC.Time = 10e6, 10.5e6
	base.Goroutines.Leaked, m.Goroutines.Leaked = 2, 3
	base.Heap.Max, m.Heap.Max = 100<<20, 101<<20
	base.Annotations.Regions = []NamedDist{{Name: "load", Dist: Dist{Count: 4, P99: 1e6}}}
	m.Annotations.Regions = []NamedDist{{Name: "load", Dist: Dist{Count: 4, P99: 3e6}}}
	for _, c := range []struct {
		expr       string
		want       float64
		pass       bool
		base, diff float64
	}{
		{"sched.latency.p99 < +20%", 120e3, false, 100e3, 0.3},
		{"sched.latency.p99 < +50%", 150e3, true, 100e3, 0.3},
		{"sched.latency.p99 >= -10%", 90e3, true, 100e3, 0.3},
		{"gc.time_ns <= base*1.1", 11e6, true, 10e6, 0.05},
		{"gc.time <= base*1.01", 10.1e6, false, 10e6, 0.05},
		{"goroutines.leaked <= base", 2, false, 2, 0.5},
		{"goroutines.leaked <= base+1", 3, true, 2, 0.5},
		{"heap.max <= base+1MiB", 101 << 20, true, 100 << 20, 0.01},
		{"heap.max < base-1MiB", 99 << 20, false, 100 << 20, 0.01},
		{`annotations.regions["load"].p99 < base*2`, 2e6, false, 1e6, 2},
		{`annotations.regions["load"].count == base`, 4, true, 4, 0},
	} {
		a, err := ParseAssertion(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if !a.NeedsBaseline() {
			t.Errorf("%q: takes no baseline", c.expr)
		}
		a.EvalBaseline(m, base)
		if math.Abs(a.Want-c.want) > 1e-6 || a.Pass != c.pass || a.Base == nil || *a.Base != c.base || a.Change == nil || math.Abs(*a.Change-c.diff) > 1e-9 {
			t.Errorf("%q: want %v pass %v base %v change %v; got want %v pass %v base %v change %v (%s)",
				c.expr, c.want, c.pass, c.base, c.diff, a.Want, a.Pass, a.Base, a.Change, a.Reason)
		}
	}

	// An absolute value with a baseline: the base and the change are
	// shown, the value is the one given.
	a, _ := ParseAssertion("goroutines.leaked <= 5")
	if a.EvalBaseline(m, base); a.NeedsBaseline() || a.Want != 5 || !a.Pass || a.Base == nil || *a.Base != 2 {
		t.Errorf("goroutines.leaked <= 5: %+v", a)
	}
	// A value made from the baseline's, without one: no data.
	a, _ = ParseAssertion("goroutines.leaked <= base")
	if a.Eval(m); a.Result != ResultNoData {
		t.Errorf("without a baseline: %s", a.Result)
	}
	// A name the baseline lacks: no data, said of the baseline.
	a, _ = ParseAssertion(`annotations.regions["save"].p99 < +10%`)
	if a.EvalBaseline(m, base); a.Result != ResultNoData || !strings.HasPrefix(a.Reason, `in the baseline, no region named "save"`) {
		t.Errorf("a region the baseline lacks: %s %q", a.Result, a.Reason)
	}
	for _, bad := range []string{"gc.time < base/2", "gc.time < base*x", "gc.time < base+5MiB", "gc.time < baseline"} {
		if _, err := ParseAssertion(bad); !errors.Is(err, ErrBadAssertion) {
			t.Errorf("%q: %v, want a bad assertion", bad, err)
		}
	}
}
