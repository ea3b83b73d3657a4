package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

// TaskListJSON is what gotrace tasks writes as JSON.
type TaskListJSON struct {
	Schema string       `json:"schema" help:"gotrace.tasks/v1"`
	File   string       `json:"file" help:"the trace file"`
	Total  int          `json:"total" help:"the tasks that pass the filters (--top may show fewer)"`
	Tasks  []drill.Task `json:"tasks" help:"the tasks, slowest first"`
}

// TaskJSON is what gotrace tasks FILE ID writes as JSON.
type TaskJSON struct {
	Schema string            `json:"schema" help:"gotrace.tasks/v1"`
	File   string            `json:"file" help:"the trace file"`
	Task   drill.Task        `json:"task" help:"the task, as in the list"`
	Events []drill.TaskEvent `json:"events" help:"its begin, regions, logs, child tasks and end, in time order"`
}

// Tasks renders the tasks of file, of which total passed the filters
// (rows may be fewer, with --top).
func Tasks(w io.Writer, file string, rows []drill.Task, total int, o Options) error {
	if o.Mode == JSON {
		// N.B. A row at a time: a list of every task may hold millions.
		return writeJSONRows(w, TaskListJSON{Schema: drill.TasksSchema, File: file, Total: total, Tasks: []drill.Task{}},
			len(rows), func(i int) any { return &rows[i] })
	}
	d := &doc{title: "gotrace tasks " + file}
	d.subtitle = fmt.Sprintf("%s %s, slowest first", fmtInt(int64(total)), plural(total, "task", "tasks"))
	if len(rows) < total {
		d.subtitle += fmt.Sprintf(", the first %d shown", len(rows))
	}
	s := section{title: "Tasks"}
	// N.B. The cells are made as the table is drawn, not held.
	t := &tbl{head: []string{"ID", "Type", "Parent", "Start", "Duration", "Goroutines", "Regions", "Logs"},
		right: []bool{true, false, true, true, true, true, true, true},
		n:     len(rows), at: func(i int) []string {
			k := rows[i]
			return []string{strconv.FormatUint(k.ID, 10), taskType(k), parent(k.Parent), taskStart(k), taskDuration(k),
				strconv.Itoa(len(k.Goroutines)), strconv.Itoa(k.Regions), strconv.Itoa(k.Logs)}
		}}
	s.add(t)
	d.sections = append(d.sections, s)
	return d.render(w, o.Mode, o.Width)
}

// Task renders one task of file and its events in time order.
func Task(w io.Writer, file string, k drill.Task, events []drill.TaskEvent, o Options) error {
	if o.Mode == JSON {
		if events == nil {
			events = []drill.TaskEvent{}
		}
		return writeJSON(w, TaskJSON{Schema: drill.TasksSchema, File: file, Task: k, Events: events})
	}
	d := &doc{title: fmt.Sprintf("gotrace tasks %s %d", file, k.ID)}
	d.subtitle = fmt.Sprintf("task %d (%s): %s, from %s; parent %s", k.ID, taskType(k), taskDuration(k), taskStart(k), parent(k.Parent))
	s := section{title: "Events"}
	t := &tbl{head: []string{"At", "Goroutine", "Event", "Name", "Duration", "Detail", "Where"},
		right: []bool{true, true, false, false, true, false, false}}
	for _, e := range events {
		dur, detail := "", e.Message
		if e.Kind == "region" {
			dur = stats.Duration(e.Duration).String()
			if e.Open {
				dur += " (open)"
			}
			if e.Depth > 0 {
				detail = fmt.Sprintf("nested %d deep", e.Depth)
			}
		}
		if e.Kind == "child" {
			detail = "task " + strconv.FormatUint(e.Child, 10)
		}
		t.row("+"+stats.Duration(e.At).String(), e.Goroutine.Label(), e.Kind, e.Name, dur, detail, e.Frame)
	}
	s.add(t)
	g := section{title: "Goroutines"}
	gt := &tbl{head: []string{"ID", "Start function"}, right: []bool{true, false}}
	for _, r := range k.Goroutines {
		name := r.Name
		if name == "" {
			name = "(unknown)"
		}
		gt.row(r.Label(), name)
	}
	g.text(fmt.Sprintf("%d %s, in the order they first acted in the task; %d %s, %d %s, %d %s.",
		len(k.Goroutines), plural(len(k.Goroutines), "goroutine", "goroutines"),
		k.Regions, plural(k.Regions, "region", "regions"), k.Logs, plural(k.Logs, "log", "logs"),
		k.Children, plural(k.Children, "child task", "child tasks")))
	g.add(gt)
	d.sections = append(d.sections, s, g)
	return d.render(w, o.Mode, o.Width)
}

func taskType(k drill.Task) string {
	if k.Type == "" {
		return "(unknown)"
	}
	return k.Type
}

func parent(id uint64) string {
	if id == 0 {
		return "none"
	}
	return strconv.FormatUint(id, 10)
}

func taskStart(k drill.Task) string {
	if k.Before {
		return "before"
	}
	return "+" + stats.Duration(k.Start).String()
}

func taskDuration(k drill.Task) string {
	s := stats.Duration(k.Duration).String()
	switch {
	case k.Open && k.Before:
		s += "+ (open, begun before)"
	case k.Open:
		s += "+ (open)"
	case k.Before:
		s += "+ (begun before)"
	}
	return s
}
