package view

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// source is the trace's file, for what reads it again: the critical
// path of a task, as gotrace why finds it.
type source struct {
	r    io.ReaderAt
	size int64

	once sync.Once
	ix   *drill.Index
	err  error
}

// index maps the trace for drill, once.
func (s *source) index() (*drill.Index, error) {
	s.once.Do(func() {
		s.ix, s.err = drill.BuildIndex(s.r, s.size, drill.IndexOptions{Actors: true})
	})
	return s.ix, s.err
}

// whyMsg brings a task's critical path.
type whyMsg struct {
	task  *Task
	why   *drill.Why
	start trace.Time // the time the path's offsets count from
	err   error
}

// whyCmd walks the critical path of t in the background.
func (m *Model) whyCmd(t *Task) tea.Cmd {
	src := m.tr.src
	if src == nil || !t.Ended {
		return nil
	}
	m.status = fmt.Sprintf("walking the critical path of task %d…", t.ID)
	return func() tea.Msg {
		ix, err := src.index()
		if err != nil {
			return whyMsg{task: t, err: err}
		}
		res, err := drill.WhyTask(context.Background(), drill.TraceFile{R: src.r, Size: src.size, Index: ix}, drill.WhyQuery{Task: uint64(t.ID)})
		if err != nil {
			return whyMsg{task: t, err: err}
		}
		return whyMsg{task: t, why: &res.Why, start: ix.Start()}
	}
}

func (m *Model) gotWhy(msg whyMsg) {
	m.status = ""
	if msg.err != nil {
		m.status = fmt.Sprintf("critical path of task %d: %v", msg.task.ID, msg.err)
		return
	}
	m.why, m.whyTask, m.whyStart = msg.why, msg.task, msg.start
}

// whyRows are the critical path's breakdown, largest first.
func (m *Model) whyRows(n int) []string {
	w := m.why
	if w == nil || m.whyTask == nil || m.task >= len(m.tasks) || m.tasks[m.task] != m.whyTask {
		return nil
	}
	rows := []string{fmt.Sprintf("critical path of task %d (%s): %d segments, on the path lane", m.whyTask.ID, fmtDur(trace.Time(w.Wall)), len(w.Path))}
	for _, p := range w.Breakdown {
		if len(rows) == n {
			break
		}
		where := p.Frame
		if where == "" {
			where = p.What
		}
		rows = append(rows, fmt.Sprintf("  %5.1f%% %9s  %-10s %s  on %s", 100*p.Share, fmtDur(trace.Time(p.Time)), p.Category, where, short(p.Goroutine)))
	}
	return rows
}

// whySamples draws the critical path on the grid: each sample the class
// of the path's state there.
func (m *Model) whySamples(gr grid) []class {
	acc := make([][numClasses]trace.Time, gr.n)
	for _, s := range m.why.Path {
		start := m.whyStart + trace.Time(s.Start)
		gr.spread(start, start+trace.Time(s.Duration), segmentClass(s), acc)
	}
	return dominant(acc)
}

// segmentClass is the class of a path segment's state.
func segmentClass(s drill.Segment) class {
	switch s.State {
	case "running":
		return clRunning
	case "runnable":
		return clRunnable
	case "syscall":
		return clSyscall
	}
	for c := timeline.Category(0); c < timeline.NumCategories; c++ {
		if strings.EqualFold(s.Category, c.String()) {
			return clBlocked + class(c)
		}
	}
	return clBlocked + class(timeline.Other)
}
