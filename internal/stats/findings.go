package stats

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// benignLeaks are start functions of goroutines that wait for good by
// design: a leak suspect started at one is labelled, not counted.
var benignLeaks = map[string]string{
	"net/http.(*persistConn).readLoop":    "net/http keeps idle client connections open for reuse",
	"net/http.(*persistConn).writeLoop":   "net/http keeps idle client connections open for reuse",
	"net/http.(*conn).serve":              "net/http serves a kept-alive connection until the client closes it",
	"os/signal.loop":                      "os/signal waits for signals for the program's life",
	"os/signal.watchSignalLoop":           "os/signal waits for signals for the program's life",
	"net/http.(*Server).Serve":            "an HTTP server accepts connections for the program's life",
	"database/sql.(*DB).connectionOpener": "database/sql opens connections for the pool's life",
}

// benignLeak says why goroutines blocked like l are expected, "" when
// nothing says so.
func benignLeak(l *Leak) string {
	if why := benignLeaks[l.Func]; why != "" {
		return why
	}
	for _, f := range l.Stack {
		if why := benignLeaks[f.Func]; why != "" {
			return why
		}
	}
	return ""
}

// UserFrame is the innermost function of the program's own code in a
// stack, or its start function when it has none.
func UserFrame(stack []Frame) string {
	for _, f := range stack {
		if timeline.IsUserFrame(f.Func) {
			return f.Func
		}
	}
	if len(stack) > 0 {
		return stack[len(stack)-1].Func
	}
	return ""
}

// The severities, most severe first.
var severities = []string{"high", "medium", "low"}

// severity grades a weight against the thresholds for high and medium.
func severity(share, high, medium float64) string {
	switch {
	case share >= high:
		return "high"
	case share >= medium:
		return "medium"
	}
	return "low"
}

// kindOrder ranks findings of the same severity.
var kindOrder = []string{"hot-lock", "gc", "sched-saturation", "leak", "network", "syscall", "stw"}

// rank lists what m says to fix, most severe first.
func rank(m *Model) []Finding {
	out := []Finding{}
	dur := float64(m.Overview.Duration)
	if dur <= 0 {
		return out
	}
	file := m.File
	if strings.ContainsAny(file, " '\"$") {
		file = fmt.Sprintf("%q", file)
	}
	add := func(f Finding) { out = append(out, f) }

	// Goroutines waiting for the same mutex, by where they waited.
	for _, c := range m.Blocking.ByCategory {
		if c.Category != "mutex" && c.Category != "network" {
			continue
		}
		for _, st := range c.Stacks[:min(3, len(c.Stacks))] {
			share := float64(st.Total) / dur
			if share < 0.01 {
				continue
			}
			where := UserFrame(st.Stack)
			if c.Category == "mutex" {
				add(Finding{Severity: severity(share, 1, 0.1), Kind: "hot-lock", Where: where, Share: share,
					What: fmt.Sprintf("a lock in %s: goroutines waited %s for it in %d waits, %.1f goroutines waiting at any time on average", where, st.Total, st.Count, share),
					Next: fmt.Sprintf("gotrace pprof --type block %s -o block.pb.gz && go tool pprof -top -focus '%s' block.pb.gz", file, where)})
				continue
			}
			// N.B. Waiting on the network is what clients and servers do:
			// it is worth a look, never the first thing to fix.
			add(Finding{Severity: severity(share, math.Inf(1), 1), Kind: "network", Where: where, Share: share,
				What: fmt.Sprintf("network waits in %s: %s in %d waits, %.1f goroutines waiting at any time on average", where, st.Total, st.Count, share),
				Next: fmt.Sprintf("gotrace pprof --type net %s -o net.pb.gz && go tool pprof -top net.pb.gz", file)})
		}
	}

	// The garbage collector's cost, and the code that allocates.
	if gc := m.GC.WallShare; gc >= 0.05 {
		f := Finding{Severity: severity(gc, 0.25, 0.10), Kind: "gc", Share: gc,
			What: fmt.Sprintf("GC ran %.1f%% of the wall time (minimum mutator utilization over 10ms: %.0f%%)", 100*gc, 100*m.GC.MMU.W10ms),
			Next: fmt.Sprintf("gotrace pprof --type cpu %s -o cpu.pb.gz && go tool pprof -top -focus runtime.mallocgc cpu.pb.gz", file)}
		var inAlloc int64
		for _, s := range m.CPU.AllocSites {
			inAlloc += s.Samples
		}
		for _, s := range m.CPU.AllocSites {
			if s.Func != "(runtime)" {
				f.Where = s.Func
				f.What += fmt.Sprintf("; it allocates most in %s (%d of the %d CPU samples in the allocator)", s.Func, s.Samples, inAlloc)
				break
			}
		}
		if a := m.Heap.Allocs; a.Traced && a.Bytes > 0 {
			if i := slices.IndexFunc(a.ByGoroutine, func(g AllocGroup) bool { return g.Kind == timeline.User.String() }); i >= 0 {
				g := a.ByGoroutine[i]
				f.What += fmt.Sprintf("; goroutines started at %s allocated %s of the %s allocated (%.0f%%)", g.Name, g.Bytes, a.Bytes, 100*float64(g.Bytes)/float64(a.Bytes))
				if f.Where == "" {
					f.Where = g.Name
				}
			}
			if len(a.ByType) > 0 {
				f.What += fmt.Sprintf("; most bytes went to %s (%s)", a.ByType[0].Name, a.ByType[0].Bytes)
			}
		}
		if m.CPU.Samples == 0 {
			f.What += "; record with gotrace record --cpu to see the code that allocates"
			f.Next = "gotrace record --cpu ./yourprogram"
		}
		add(f)
	}

	// More goroutines ready to run than Ps to run them.
	if procs := max(m.Overview.GOMAXPROCS, 1); m.Goroutines.Runnable > 0 {
		perP := float64(m.Goroutines.Runnable) / dur / float64(procs)
		if perP >= 0.25 {
			add(Finding{Severity: severity(perP, 1, 0.5), Kind: "sched-saturation", Share: perP,
				What: fmt.Sprintf("%.1f goroutines waited for each of the %d Ps on average: the program has more to run than CPUs to run it", perP, procs),
				Next: fmt.Sprintf("gotrace pprof --type sched %s -o sched.pb.gz && go tool pprof -top sched.pb.gz", file)})
		}
	}

	// Goroutines still blocked at the end.
	for _, l := range m.Findings.Leaks {
		where := UserFrame(l.Stack)
		noun := "goroutines"
		if l.Count == 1 {
			noun = "goroutine"
		}
		f := Finding{Severity: "high", Kind: "leak", Where: where, Share: float64(l.Count),
			What: fmt.Sprintf("%d %s started at %s blocked on %s at %s for %s or more, to the end of the trace", l.Count, noun, l.Func, l.Reason, where, l.BlockedMin),
			Next: fmt.Sprintf("gotrace stats --section findings --full-stacks %s", file)}
		if len(l.CreatedAt) > 0 {
			f.What += "; created in " + UserFrame(l.CreatedAt)
		}
		if l.Benign != "" {
			f.Severity, f.What = "low", f.What+" (expected: "+l.Benign+")"
		}
		add(f)
	}

	// System calls.
	if st := m.Syscalls.Stacks; len(st) > 0 {
		if share := float64(st[0].Total) / dur; share >= 0.05 {
			where := UserFrame(st[0].Stack)
			add(Finding{Severity: severity(share, math.Inf(1), 0.25), Kind: "syscall", Where: where, Share: share,
				What: fmt.Sprintf("system calls in %s: %s in %d calls, %.1f goroutines in a call at any time on average", where, st[0].Total, st[0].Count, share),
				Next: fmt.Sprintf("gotrace pprof --type syscall %s -o syscall.pb.gz && go tool pprof -top syscall.pb.gz", file)})
		}
	}

	// Stop-the-world pauses long enough to be seen by users.
	if p := m.Findings.LongSTW; len(p) > 0 && p[0].Duration >= Duration(10e6) {
		add(Finding{Severity: severity(float64(p[0].Duration), 100e6, 10e6), Kind: "stw", Where: UserFrame(p[0].Stack), Share: float64(p[0].Duration) / dur,
			What: fmt.Sprintf("the world stopped for %s (%s) at +%s", p[0].Duration, p[0].Kind, p[0].Start),
			Next: fmt.Sprintf("gotrace stats --section gc %s", file)})
	}

	slices.SortStableFunc(out, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(slices.Index(severities, x.Severity), slices.Index(severities, y.Severity)),
			cmp.Compare(slices.Index(kindOrder, x.Kind), slices.Index(kindOrder, y.Kind)),
			cmp.Compare(y.Share, x.Share))
	})
	return out
}
