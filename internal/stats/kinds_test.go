package stats

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline"
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
