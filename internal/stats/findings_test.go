package stats

import (
	"strings"
	"testing"
)

func TestRank(t *testing.T) {
	ms := Duration(1e6)
	m := &Model{File: "app.trace"}
	m.Overview.Duration = 1000 * ms
	m.Overview.GOMAXPROCS = 2
	lock := []Frame{{Func: "sync.(*Mutex).Lock"}, {Func: "main.(*server).handle"}, {Func: "net/http.HandlerFunc.ServeHTTP"}, {Func: "net/http.(*conn).serve"}}
	m.Blocking.ByCategory = []BlockCategory{{Category: "mutex", Stacks: []StackTime{{Count: 900, Total: 20000 * ms, Stack: lock}}}}
	m.GC.WallShare, m.GC.MMU.W10ms = 0.3, 0.2
	m.CPU.Samples = 100
	m.CPU.AllocSites = []FuncSamples{{Func: "(runtime)", Samples: 5}, {Func: "main.churn", Samples: 40}}
	idle := &Leak{Count: 5, Reason: "select", Func: "net/http.(*persistConn).writeLoop", Stack: []Frame{{Func: "runtime.selectgo"}, {Func: "net/http.(*persistConn).writeLoop"}}}
	idle.Benign = benignLeak(idle)
	leak := &Leak{Count: 3, Reason: "chan send", Func: "main.fetch.func1", Stack: []Frame{{Func: "runtime.chansend1"}, {Func: "main.fetch.func1"}}}
	leak.Benign = benignLeak(leak)
	m.Findings.Leaks = []Leak{*idle, *leak}
	if idle.Benign == "" || leak.Benign != "" {
		t.Fatalf("benign labels: idle %q, leak %q", idle.Benign, leak.Benign)
	}

	got := rank(m)
	want := []struct{ severity, kind, where string }{
		{"high", "hot-lock", "main.(*server).handle"},
		{"high", "gc", "main.churn"},
		{"high", "leak", "main.fetch.func1"},
		{"low", "leak", "net/http.(*persistConn).writeLoop"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d findings, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Severity != w.severity || g.Kind != w.kind || g.Where != w.where || !strings.Contains(g.Next, "app.trace") && g.Kind != "gc" {
			t.Errorf("finding %d: %s %s at %q (next %q), want %s %s at %q", i, g.Severity, g.Kind, g.Where, g.Next, w.severity, w.kind, w.where)
		}
	}
	if !strings.Contains(got[3].What, "expected: net/http keeps idle client connections") {
		t.Errorf("the idle connection is not labelled: %q", got[3].What)
	}
}
