// Package tables writes a trace as tables for SQL engines: Parquet files
// that DuckDB, ClickHouse, Spark, Trino and BigQuery read as they are.
//
// The rows come from the goroutine timeline (timeline.Tracker): one row per
// goroutine incarnation with the totals gotrace goroutines shows, one per
// state interval, and the stacks they point at; beside them the trace's
// tasks, regions, logs, garbage collection ranges, metrics and CPU samples,
// and one row describing the trace. Every row carries the trace's ID and
// the labels given, one column each.
//
// The export streams: each table's rows go out as one row group per
// generation, so memory follows the largest generation, not the file.
package tables

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/parquet-go/parquet-go"
)

// Version names the column layout; it changes when a column changes
// meaning or goes, not when one is added.
const Version = "gotrace.parquet/v1"

// colType is the type of a column.
type colType uint8

const (
	tInt64  colType = iota // INT64
	tString                // BYTE_ARRAY (STRING), dictionary-encoded
	tBool                  // BOOLEAN
	tTime                  // INT64 TIMESTAMP(MICROS, UTC): what every engine reads
)

func (t colType) String() string {
	return [...]string{"INT64", "STRING", "BOOLEAN", "TIMESTAMP (µs, UTC)"}[t]
}

// Column is one column of a table.
type Column struct {
	Name     string
	Type     colType
	Nullable bool
	Help     string
}

// Table is one table's columns, the trace's ID first; the labels follow
// the columns listed.
type Table struct {
	Name    string
	Help    string
	Columns []Column
}

func col(name string, t colType, help string) Column { return Column{Name: name, Type: t, Help: help} }
func null(name string, t colType, help string) Column {
	return Column{Name: name, Type: t, Nullable: true, Help: help}
}

var idCol = col("trace_id", tString, "the trace: 16 hex digits of a hash of its content, its file name and the labels")

// The tables, in the order they are listed.
var (
	goroutinesTable = &Table{"goroutines", "one row per goroutine: a reused goroutine ID is a goroutine of its own, with the next incarnation", []Column{
		idCol,
		col("goroutine", tInt64, "goroutine ID"),
		col("incarnation", tInt64, "how many goroutines had this ID before this one in the trace"),
		col("name", tString, "start function, as go tool trace names goroutines; empty when no stack showed it"),
		col("kind", tString, "user, runtime or tooling"),
		col("existed", tBool, "it existed before the trace began"),
		col("created_ns", tInt64, "when it was created, from the trace's start; 0 for one that existed before the trace"),
		null("created_time", tTime, "created_ns as wall-clock time"),
		col("creator", tInt64, "the goroutine that created it, -1 when not known"),
		null("creator_stack_id", tInt64, "where its creator created it (stacks.stack_id)"),
		col("ended_ns", tInt64, "when it ended, from the trace's start; -1 while alive at the end"),
		col("state_at_end", tString, "running, runnable, blocked, syscall or ended"),
		col("reason_at_end", tString, "why it was blocked at the end; empty otherwise"),
		col("running_ns", tInt64, "time running"),
		col("runnable_ns", tInt64, "time runnable, waiting for a P"),
		col("blocked_ns", tInt64, "time blocked, any reason"),
		col("syscall_ns", tInt64, "time in system calls"),
		// The blocked time by category follows, a column each (see blockedCols).
	}}
	intervalsTable = &Table{"intervals", "one row per span of a goroutine in one state", []Column{
		idCol,
		col("goroutine", tInt64, "goroutine ID"),
		col("incarnation", tInt64, "the goroutine's incarnation (goroutines.incarnation)"),
		col("kind", tString, "whose time it is, user, runtime or tooling: for blocked and syscall, by the root function of the stack where the goroutine stopped, as gotrace stats counts waits; otherwise the goroutine's kind"),
		col("state", tString, "running, runnable, blocked or syscall"),
		null("category", tString, "for blocked: channel, select, mutex, waitgroup, cond, network, sleep, gc, runtime or other"),
		null("reason", tString, "for blocked: the runtime's reason, e.g. \"chan receive\""),
		col("start_ns", tInt64, "start, from the trace's start (the trace's start for a goroutine that existed before it)"),
		col("end_ns", tInt64, "end, from the trace's start"),
		col("duration_ns", tInt64, "end_ns - start_ns"),
		null("start_time", tTime, "start_ns as wall-clock time"),
		null("stack_id", tInt64, "the stack of the event that began it: where the goroutine blocked, or where it was made runnable"),
		null("unblocked_by", tInt64, "for blocked: the goroutine that ended the wait"),
		null("unblock_stack_id", tInt64, "where unblocked_by ended the wait"),
		col("open", tBool, "the trace ended in it: end_ns is the trace's end"),
		col("after_first_run", tBool, "the goroutine had run in the trace before it began"),
		col("profiled", tBool, "go tool trace's profiles count it: from the goroutine's first run on, or all of a goroutine that never ran"),
	}}
	stacksTable = &Table{"stacks", "one row per distinct stack of the trace", []Column{
		idCol,
		col("stack_id", tInt64, "the stack, numbered from 1 in the order first seen"),
		col("depth", tInt64, "frames in it"),
		col("leaf_func", tString, "the innermost frame's function"),
		col("root_func", tString, "the outermost frame's function: a goroutine's start function"),
	}}
	framesTable = &Table{"frames", "one row per frame of each stack", []Column{
		idCol,
		col("stack_id", tInt64, "the stack (stacks.stack_id)"),
		col("level", tInt64, "the frame's place, 0 for the innermost"),
		col("func", tString, "function"),
		col("file", tString, "source file"),
		col("line", tInt64, "line"),
		col("pc", tInt64, "program counter"),
	}}
	tasksTable = &Table{"tasks", "one row per runtime/trace task", []Column{
		idCol,
		col("task_id", tInt64, "task ID"),
		null("parent_id", tInt64, "the parent task, when it has one"),
		col("type", tString, "the task's type"),
		null("start_ns", tInt64, "when it began, from the trace's start; null when before the trace"),
		null("end_ns", tInt64, "when it ended; null when after the trace"),
		null("duration_ns", tInt64, "end_ns - start_ns, when both are known"),
		null("start_time", tTime, "start_ns as wall-clock time"),
		null("begin_goroutine", tInt64, "the goroutine that began it"),
		null("end_goroutine", tInt64, "the goroutine that ended it"),
		null("begin_stack_id", tInt64, "where it began"),
	}}
	regionsTable = &Table{"regions", "one row per runtime/trace region", []Column{
		idCol,
		col("goroutine", tInt64, "the goroutine it ran on"),
		col("incarnation", tInt64, "the goroutine's incarnation"),
		col("task_id", tInt64, "its task, 0 for none"),
		col("type", tString, "the region's type"),
		null("start_ns", tInt64, "when it began; null when before the trace"),
		null("end_ns", tInt64, "when it ended; null when after the trace"),
		null("duration_ns", tInt64, "end_ns - start_ns, when both are known"),
		null("start_time", tTime, "start_ns as wall-clock time"),
		null("stack_id", tInt64, "where it began (where it ended when it began before the trace)"),
	}}
	logsTable = &Table{"logs", "one row per runtime/trace log message", []Column{
		idCol,
		col("time_ns", tInt64, "when, from the trace's start"),
		null("time", tTime, "time_ns as wall-clock time"),
		null("goroutine", tInt64, "the goroutine that logged it"),
		col("task_id", tInt64, "its task, 0 for none"),
		col("category", tString, "the category"),
		col("message", tString, "the message"),
		null("stack_id", tInt64, "where it was logged"),
	}}
	gcTable = &Table{"gc", "one row per garbage collection range: mark phases, stop-the-world pauses, mark assists and sweeps", []Column{
		idCol,
		col("kind", tString, "mark (a GC cycle's concurrent mark phase), stw, assist, sweep, or other"),
		col("name", tString, "the runtime's name, e.g. \"stop-the-world (GC mark termination)\""),
		null("start_ns", tInt64, "when it began; null when before the trace"),
		null("end_ns", tInt64, "when it ended; null when after the trace"),
		null("duration_ns", tInt64, "end_ns - start_ns, when both are known"),
		null("start_time", tTime, "start_ns as wall-clock time"),
		null("goroutine", tInt64, "the goroutine it belongs to (assists), or that began it"),
		null("proc", tInt64, "the P it belongs to (sweeps), or that began it"),
		null("stack_id", tInt64, "where it began"),
	}}
	metricsTable = &Table{"metrics", "one row per metric sample: heap in use, heap goal, GOMAXPROCS", []Column{
		idCol,
		col("time_ns", tInt64, "when, from the trace's start"),
		null("time", tTime, "time_ns as wall-clock time"),
		col("name", tString, "the runtime/metrics name, e.g. /memory/classes/heap/objects:bytes, /gc/heap/goal:bytes, /sched/gomaxprocs:threads"),
		col("value", tInt64, "the value"),
	}}
	samplesTable = &Table{"cpu_samples", "one row per CPU profile sample", []Column{
		idCol,
		col("time_ns", tInt64, "when, from the trace's start"),
		null("time", tTime, "time_ns as wall-clock time"),
		null("goroutine", tInt64, "the goroutine running"),
		null("proc", tInt64, "the P"),
		null("thread", tInt64, "the OS thread"),
		null("stack_id", tInt64, "the sampled stack"),
	}}
	tracesTable = &Table{"traces", "one row per input trace", []Column{
		idCol,
		col("file", tString, "the trace file as named on the command line"),
		col("sha256", tString, "SHA-256 of the file, in hex"),
		col("go_version", tString, "the trace format's Go version, e.g. go1.26; \"before go1.22\" for the old format"),
		null("start_time", tTime, "wall-clock time of the first event; null when the trace has no clock snapshot (before Go 1.25)"),
		col("duration_ns", tInt64, "time from the first to the last event"),
		col("generations", tInt64, "complete generations read"),
		col("events", tInt64, "events read"),
		col("damaged", tBool, "the trace could not be read to its end: the tables hold its complete generations"),
		col("error", tString, "what stopped the reading, when damaged"),
		col("schema", tString, "the column layout, "+Version),
	}}
)

// Tables lists the tables an export writes, each with its columns (the
// labels, which follow, aside).
func Tables() []*Table {
	return []*Table{tracesTable, goroutinesTable, intervalsTable, stacksTable, framesTable, tasksTable, regionsTable,
		logsTable, gcTable, metricsTable, samplesTable}
}

// categories are the names of the blocking categories, in
// timeline.Category order.
var categories = func() []string {
	var out []string
	for c := range timeline.NumCategories {
		out = append(out, c.String())
	}
	return out
}()

// blockedCols are the goroutines table's blocked time by category, in
// timeline.Category order.
var blockedCols = func() []Column {
	var cols []Column
	for _, c := range categories {
		cols = append(cols, col("blocked_"+c+"_ns", tInt64, "time blocked on "+c))
	}
	return cols
}()

func init() {
	goroutinesTable.Columns = append(goroutinesTable.Columns, blockedCols...)
}

// CheckLabel says what is wrong with a label's key as a column name.
func CheckLabel(key string) error {
	if key == "" {
		return fmt.Errorf("label %q: want KEY=VALUE", key)
	}
	for i, r := range key {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return fmt.Errorf("label key %q: want letters, digits and _, not starting with a digit", key)
		}
	}
	for _, t := range Tables() {
		for _, c := range t.Columns {
			if strings.EqualFold(c.Name, key) {
				return fmt.Errorf("label key %q: the %s table has a column of that name", key, t.Name)
			}
		}
	}
	return nil
}

// schema is the Parquet schema of t with a string column per label key, in
// the order listed. N.B. parquet.Group orders its fields by name; a struct
// type keeps them in the order given.
func (t *Table) schema(labels []string) *parquet.Schema {
	var fields []reflect.StructField
	add := func(c Column) {
		var typ reflect.Type
		tag := c.Name
		switch c.Type {
		case tInt64:
			typ = reflect.TypeFor[int64]()
			if c.Name == "end_ns" || c.Name == "time_ns" {
				tag += ",delta" // in the order of the rows: small steps
			}
		case tString:
			typ, tag = reflect.TypeFor[string](), tag+",dict"
		case tBool:
			typ = reflect.TypeFor[bool]()
		case tTime:
			typ, tag = reflect.TypeFor[int64](), tag+",timestamp(microsecond)"
			if c.Name == "time" {
				tag += ",delta"
			}
		}
		if c.Nullable {
			tag += ",optional"
		}
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("F%d", len(fields)),
			Type: typ,
			Tag:  reflect.StructTag(`parquet:"` + tag + `"`),
		})
	}
	for _, c := range t.Columns {
		add(c)
	}
	for _, k := range labels {
		add(col(k, tString, ""))
	}
	return parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Elem().Interface())
}

// Layout is the column layout as a Markdown document: a section per table
// with its columns, their types and what they mean.
func Layout() string {
	var b strings.Builder
	for _, t := range Tables() {
		fmt.Fprintf(&b, "**`%s`**: %s.\n\n| column | type | null | meaning |\n|---|---|---|---|\n", t.Name, t.Help)
		for _, c := range t.Columns {
			null := ""
			if c.Nullable {
				null = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.Name, c.Type, null, strings.ReplaceAll(c.Help, "|", "\\|"))
		}
		b.WriteString("| *label keys* | STRING |  | one column per `--label KEY=VALUE`, in the order given |\n\n")
	}
	return b.String()
}
