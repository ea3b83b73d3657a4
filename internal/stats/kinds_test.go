package stats

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// TestUserGoroutinesFirst: counting user goroutines, no stack list and no
// finding names a tooling goroutine or gotrace's shim, and the others'
// time shows apart.
func TestUserGoroutinesFirst(t *testing.T) {
	for _, path := range committedTraces(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readTrace(t, filepath.Base(path))
			m, err := Compute(context.Background(), path, bytes.NewReader(data), int64(len(data)), Options{Top: 100, Kinds: 1 << timeline.User})
			if err != nil {
				t.Fatal(err)
			}
			check := func(where string, sts []StackTime) {
				for _, st := range sts {
					if len(st.Stack) == 0 {
						continue
					}
					for _, f := range st.Stack {
						if timeline.IsShimFrame(f.Func) {
							t.Errorf("%s: a stack shows gotrace's shim: %s", where, f.Func)
						}
					}
					if root := st.Stack[len(st.Stack)-1].Func; timeline.KindOf(root) != timeline.User {
						t.Errorf("%s: a stack of a %v goroutine (%s)", where, timeline.KindOf(root), root)
					}
				}
			}
			for _, r := range m.Blocking.Reasons {
				check("blocking "+r.Reason, r.Stacks)
			}
			for _, c := range m.Blocking.ByCategory {
				check("blocking "+c.Category, c.Stacks)
			}
			check("syscalls", m.Syscalls.Stacks)
			for _, f := range m.Findings.Ranked {
				if strings.Contains(f.What, "profileWriter") || strings.Contains(f.What, "traceStartReadCPU") || strings.Contains(f.What, "_gotrace") ||
					f.Where != "" && timeline.KindOf(f.Where) == timeline.Tooling {
					t.Errorf("finding names a tooling goroutine: %s", f.What)
				}
			}
			for _, w := range m.Findings.SchedWaits {
				if timeline.KindOf(w.Func) != timeline.User {
					t.Errorf("a scheduling wait of %s", w.Func)
				}
			}
			var all, user int64
			for _, k := range m.Goroutines.ByKind {
				all += k.Count
				if k.Kind == "user" {
					user = k.Count
				}
			}
			if all != m.Goroutines.Created+m.Goroutines.Existing {
				t.Errorf("by kind: %d goroutines, the trace has %d", all, m.Goroutines.Created+m.Goroutines.Existing)
			}
			if len(m.Kinds) != 1 || m.Kinds[0] != "user" || user == 0 {
				t.Errorf("kinds counted %v, %d user goroutines", m.Kinds, user)
			}
		})
	}
}

// TestAssistRunning: the running part of the mark assists is the overlap
// of each assist with its goroutine's running intervals, computed here by
// intersecting the two sets of intervals.
func TestAssistRunning(t *testing.T) {
	data := readTrace(t, "workers.trace")
	src, err := timeline.NewSource(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trace.NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	type span struct{ a, b trace.Time }
	running := make(map[trace.GoID][]span)
	assists := make(map[trace.GoID][]span)
	since := make(map[trace.GoID]trace.Time)
	open := make(map[trace.GoID]trace.Time)
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind() {
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			id := st.Resource.Goroutine()
			from, to := st.Goroutine()
			if from == trace.GoRunning && to != trace.GoRunning {
				running[id] = append(running[id], span{since[id], ev.Time()})
			}
			if to == trace.GoRunning && from != trace.GoRunning {
				since[id] = ev.Time()
			}
		case trace.EventRangeBegin, trace.EventRangeEnd:
			r := ev.Range()
			if r.Name != "GC mark assist" || r.Scope.Kind != trace.ResourceGoroutine {
				continue
			}
			id := r.Scope.Goroutine()
			if ev.Kind() == trace.EventRangeBegin {
				open[id] = ev.Time()
			} else if b, ok := open[id]; ok {
				assists[id] = append(assists[id], span{b, ev.Time()})
				delete(open, id)
			}
		}
	}
	var want int64
	for id, as := range assists {
		for _, a := range as {
			for _, r := range running[id] {
				if lo, hi := max(a.a, r.a), min(a.b, r.b); hi > lo {
					want += int64(hi - lo)
				}
			}
		}
	}
	m, err := Compute(context.Background(), "workers.trace", bytes.NewReader(data), int64(len(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if int64(m.GC.AssistRunning) != want || want == 0 {
		t.Errorf("assist running %d ns, the intervals overlap %d ns", m.GC.AssistRunning, want)
	}
	if m.GC.AssistRunning+m.GC.AssistWaiting != m.GC.Assist.Total {
		t.Errorf("running %v + waiting %v != %v", m.GC.AssistRunning, m.GC.AssistWaiting, m.GC.Assist.Total)
	}
}

// TestLeakCreatedAt: a leak suspect says where its goroutines were created:
// the creating goroutine's stack at the creation event, as read here from
// golang.org/x/exp/trace.
func TestLeakCreatedAt(t *testing.T) {
	data := readTrace(t, "workers.trace")
	tr, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	created := make(map[string]string) // start function: the creator's innermost frame
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		if from, _ := st.Goroutine(); from != trace.GoNotExist {
			continue
		}
		for f := range ev.Stack().Frames() {
			created[timeline.StartFunc(st.Stack)] = f.Func
			break
		}
	}
	m, err := Compute(context.Background(), "workers.trace", bytes.NewReader(data), int64(len(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Findings.Leaks) == 0 {
		t.Fatal("no leak suspects in workers.trace")
	}
	for _, l := range m.Findings.Leaks {
		if len(l.CreatedAt) == 0 || l.CreatedAt[0].Func != created[l.Func] {
			t.Errorf("leak of %s: created at %v, x/exp/trace says %s", l.Func, l.CreatedAt, created[l.Func])
		}
	}
}

// TestGoroutineFilter: the sections counted goroutine by start function,
// one group at a time, add up to the whole.
func TestGoroutineFilter(t *testing.T) {
	data := readTrace(t, "annotated.trace")
	all, err := Compute(context.Background(), "t", bytes.NewReader(data), int64(len(data)), Options{Top: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var blocked, sys, sched Duration
	for _, g := range all.Goroutines.Groups {
		re := regexp.MustCompile("^" + regexp.QuoteMeta(g.Func) + "$")
		m, err := Compute(context.Background(), "t", bytes.NewReader(data), int64(len(data)), Options{Goroutine: re})
		if err != nil {
			t.Fatal(err)
		}
		blocked += m.Blocking.All.Total
		sys += m.Syscalls.Dist.Total
		sched += m.Sched.Latency.Total
	}
	if blocked != all.Blocking.All.Total || sys != all.Syscalls.Dist.Total || sched != all.Sched.Latency.Total {
		t.Errorf("by group: blocked %v, syscalls %v, sched %v; the whole: %v, %v, %v",
			blocked, sys, sched, all.Blocking.All.Total, all.Syscalls.Dist.Total, all.Sched.Latency.Total)
	}
	if blocked == 0 || sched == 0 {
		t.Error("nothing counted")
	}
}
