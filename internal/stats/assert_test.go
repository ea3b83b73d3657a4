package stats

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAssertion(t *testing.T) {
	m := &Model{}
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
