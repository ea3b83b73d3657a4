package parquettest

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// root is the gotrace repository, this module's parent.
const root = ".."

// gotrace builds the gotrace binary once for the tests.
func gotrace(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gotrace")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/gotrace")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	return runExit(t, bin, 0, args...)
}

// runExit runs gotrace, which must exit with status want: 1 for a damaged
// trace, whose complete generations are in the output all the same.
func runExit(t *testing.T, bin string, want int, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if got := cmd.ProcessState.ExitCode(); got != want {
		t.Fatalf("gotrace %s: %v, want exit status %d\n%s", strings.Join(args, " "), err, want, stderr.Bytes())
	}
	return stdout.Bytes()
}

// The parts of gotrace stats --json the tables are checked against.
type dist struct {
	Count int64 `json:"count"`
	Total int64 `json:"total_ns"`
}

type statsModel struct {
	Overview struct {
		Duration    int64 `json:"duration_ns"`
		Generations int64 `json:"generations"`
		Events      int64 `json:"events"`
		WallStart   int64 `json:"wall_start_unix_ns"`
		Version     string
	} `json:"overview"`
	Goroutines struct {
		Created    int64 `json:"created"`
		Ended      int64 `json:"ended"`
		Existing   int64 `json:"existing"`
		AliveAtEnd int64 `json:"alive_at_end"`
		Running    int64 `json:"running_ns"`
		Runnable   int64 `json:"runnable_ns"`
		Blocked    int64 `json:"blocked_ns"`
		Syscall    int64 `json:"syscall_ns"`
		ByKind     []struct {
			Kind     string `json:"kind"`
			Count    int64  `json:"count"`
			Running  int64  `json:"running_ns"`
			Runnable int64  `json:"runnable_ns"`
			Blocked  int64  `json:"blocked_ns"`
			Syscall  int64  `json:"syscall_ns"`
		} `json:"by_kind"`
	} `json:"goroutines"`
	Sched struct {
		Latency      dist `json:"latency"`
		StartLatency dist `json:"start_latency"`
	} `json:"sched"`
	Blocking struct {
		All        dist `json:"all"`
		ByCategory []struct {
			Category string `json:"category"`
			Dist     dist   `json:"dist"`
		} `json:"by_category"`
	} `json:"blocking"`
	Syscalls struct {
		Dist dist `json:"dist"`
	} `json:"syscalls"`
	GC struct {
		Cycles int64 `json:"cycles"`
		STW    dist  `json:"stw"`
		Assist dist  `json:"assist"`
		Sweep  dist  `json:"sweep"`
	} `json:"gc"`
	Annotations struct {
		Tasks   []named `json:"tasks"`
		Regions []named `json:"regions"`
		Logs    []struct {
			Category string `json:"category"`
			Count    int64  `json:"count"`
		} `json:"logs"`
	} `json:"annotations"`
	CPU struct {
		Samples int64 `json:"samples"`
	} `json:"cpu"`
}

type named struct {
	Name string `json:"name"`
	Dist dist   `json:"dist"`
}

// goroutine is a row of gotrace goroutines --json.
type goroutine struct {
	ID          int64            `json:"id"`
	Incarnation int64            `json:"incarnation"`
	Name        string           `json:"name"`
	Kind        string           `json:"kind"`
	Created     int64            `json:"created_ns"`
	Existed     bool             `json:"existed"`
	Creator     int64            `json:"creator"`
	Ended       int64            `json:"ended_ns"`
	StateAtEnd  string           `json:"state_at_end"`
	ReasonAtEnd string           `json:"reason_at_end"`
	Running     int64            `json:"running_ns"`
	Runnable    int64            `json:"runnable_ns"`
	Blocked     int64            `json:"blocked_ns"`
	Syscall     int64            `json:"syscall_ns"`
	ByCat       map[string]int64 `json:"blocked_by_category_ns"`
}

var categories = []string{"channel", "select", "mutex", "waitgroup", "cond", "network", "sleep", "gc", "runtime", "other"}

// TestTablesMatchStats exports every bundled trace and checks, with SQL
// over the tables, the numbers gotrace stats and gotrace goroutines give
// for the same traces.
func TestTablesMatchStats(t *testing.T) {
	bin := gotrace(t)
	traces, _ := filepath.Glob(filepath.Join(root, "testdata", "traces", "*.trace"))
	if len(traces) == 0 {
		t.Fatal("no traces in testdata/traces")
	}
	// A trace cut short too: the tables of its complete generations
	// against what stats and goroutines make of them.
	damaged := filepath.Join(root, "testdata", "damaged", "demo-cut.trace")
	traces = append(traces, damaged)
	out := t.TempDir()
	runExit(t, bin, 1, append([]string{"export", "--format", "parquet", "--label", "service=test", "--label", "release=v1", "-o", out}, traces...)...)

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	// Every table of every trace, read as one: the queries pick a trace by
	// its ID, as they would across a fleet's snapshots.
	for _, table := range []string{"traces", "goroutines", "intervals", "stacks", "frames", "tasks", "regions", "logs", "gc", "metrics", "cpu_samples"} {
		q := fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet('%s')", table, filepath.Join(out, "*", table+".parquet"))
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM traces WHERE service = 'test' AND release = 'v1'").Scan(&n); err != nil || n != len(traces) {
		t.Fatalf("traces with the labels: %d, %v; want %d", n, err, len(traces))
	}

	for _, path := range traces {
		name := strings.TrimSuffix(filepath.Base(path), ".trace")
		t.Run(name, func(t *testing.T) {
			exit := 0
			if path == damaged {
				exit = 1
			}
			var all, user statsModel
			if err := json.Unmarshal(runExit(t, bin, exit, "stats", "--json", "--goroutines", "all", path), &all); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(runExit(t, bin, exit, "stats", "--json", path), &user); err != nil {
				t.Fatal(err)
			}
			var gl struct{ Goroutines []goroutine }
			if err := json.Unmarshal(runExit(t, bin, exit, "goroutines", "--json", "--top", "0", path), &gl); err != nil {
				t.Fatal(err)
			}
			var dmg bool
			if err := db.QueryRow("SELECT damaged FROM traces WHERE file = ?", path).Scan(&dmg); err != nil || dmg != (exit == 1) {
				t.Errorf("traces.damaged: %v, %v; want %v", dmg, err, exit == 1)
			}
			var id string
			if err := db.QueryRow("SELECT trace_id FROM traces WHERE file = ?", path).Scan(&id); err != nil {
				t.Fatal(err)
			}
			c := checker{t: t, db: db, id: id}
			checkTrace(&c, &all)
			checkGoroutines(&c, &all, gl.Goroutines)
			checkIntervals(&c, &all, "")
			checkIntervals(&c, &user, "user")
			checkAnnotations(&c, &all)
			checkGC(&c, &all)
		})
	}
}

// checker runs queries on one trace's rows: ? in a query is the trace ID.
type checker struct {
	t  *testing.T
	db *sql.DB
	id string
}

// ints runs q, which yields one row of integers.
func (c *checker) ints(q string, n int) []int64 {
	c.t.Helper()
	vals := make([]int64, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := c.db.QueryRow(q, c.id).Scan(ptrs...); err != nil {
		c.t.Fatalf("%s: %v", q, err)
	}
	return vals
}

// eq checks that q's one row of integers is want.
func (c *checker) eq(what, q string, want ...int64) {
	c.t.Helper()
	if got := c.ints(q, len(want)); !slices.Equal(got, want) {
		c.t.Errorf("%s: SQL gives %v, stats %v\n%s", what, got, want, q)
	}
}

// groups runs q, which yields rows of a name and integers, by name.
func (c *checker) groups(q string, n int) map[string][]int64 {
	c.t.Helper()
	rows, err := c.db.Query(q, c.id)
	if err != nil {
		c.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := make(map[string][]int64)
	for rows.Next() {
		var k string
		vals := make([]int64, n)
		ptrs := []any{&k}
		for i := range vals {
			ptrs = append(ptrs, &vals[i])
		}
		if err := rows.Scan(ptrs...); err != nil {
			c.t.Fatal(err)
		}
		out[k] = vals
	}
	if err := rows.Err(); err != nil {
		c.t.Fatal(err)
	}
	return out
}

func (c *checker) eqGroups(what string, got, want map[string][]int64) {
	c.t.Helper()
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			c.t.Errorf("%s %q: SQL gives %v, stats %v", what, k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			c.t.Errorf("%s %q: SQL gives %v, stats has none", what, k, g)
		}
	}
}

func checkTrace(c *checker, m *statsModel) {
	o := m.Overview
	c.eq("duration, generations, events", "SELECT duration_ns, generations, events FROM traces WHERE trace_id = ?",
		o.Duration, o.Generations, o.Events)
	if o.WallStart != 0 {
		c.eq("wall-clock start, µs", "SELECT epoch_us(start_time) FROM traces WHERE trace_id = ?", o.WallStart/1000)
	}
	c.eq("CPU samples", "SELECT count(*) FROM cpu_samples WHERE trace_id = ?", m.CPU.Samples)
}

func checkGoroutines(c *checker, m *statsModel, list []goroutine) {
	g := m.Goroutines
	c.eq("goroutines created, existing, ended, alive at the end", `SELECT
		count(*) FILTER (NOT existed), count(*) FILTER (existed),
		count(*) FILTER (ended_ns >= 0), count(*) FILTER (state_at_end <> 'ended')
		FROM goroutines WHERE trace_id = ?`,
		g.Created, g.Existing, g.Ended, g.AliveAtEnd)
	c.eq("goroutine time by state", `SELECT
		coalesce(sum(running_ns), 0), coalesce(sum(runnable_ns), 0), coalesce(sum(blocked_ns), 0), coalesce(sum(syscall_ns), 0)
		FROM goroutines WHERE trace_id = ?`,
		g.Running, g.Runnable, g.Blocked, g.Syscall)
	want := make(map[string][]int64)
	for _, k := range g.ByKind {
		if k.Count > 0 {
			want[k.Kind] = []int64{k.Count, k.Running, k.Runnable, k.Blocked, k.Syscall}
		}
	}
	c.eqGroups("goroutines by kind", c.groups(`SELECT kind, count(*), sum(running_ns), sum(runnable_ns), sum(blocked_ns), sum(syscall_ns)
		FROM goroutines WHERE trace_id = ? GROUP BY kind`, 5), want)

	// Row for row, the list gotrace goroutines --json gives.
	want = make(map[string][]int64)
	for _, r := range list {
		key := fmt.Sprintf("%d.%d %s %s %s %s", r.ID, r.Incarnation, r.Name, r.Kind, r.StateAtEnd, r.ReasonAtEnd)
		v := []int64{r.Created, b2i(r.Existed), r.Creator, r.Ended, r.Running, r.Runnable, r.Blocked, r.Syscall}
		for _, cat := range categories {
			v = append(v, r.ByCat[cat])
		}
		want[key] = v
	}
	var cols []string
	for _, cat := range categories {
		cols = append(cols, "blocked_"+cat+"_ns")
	}
	c.eqGroups("goroutine", c.groups(`SELECT
		format('{}.{} {} {} {} {}', goroutine, incarnation, name, kind, state_at_end, reason_at_end),
		created_ns, existed::BIGINT, creator, ended_ns, running_ns, runnable_ns, blocked_ns, syscall_ns, `+strings.Join(cols, ", ")+`
		FROM goroutines WHERE trace_id = ?`, 8+len(categories)), want)
	c.eq("blocked time by category adds up", `SELECT coalesce(sum(blocked_ns), 0), coalesce(sum(`+strings.Join(cols, " + ")+`), 0)
		FROM goroutines WHERE trace_id = ?`, g.Blocked, g.Blocked)
}

// checkIntervals checks the scheduling, blocking and syscall sections of
// m, which counts the goroutines of kind ("" for all), against the
// intervals: closed ones, of goroutines that had run in the trace or
// never ran in it, as go tool trace counts them.
func checkIntervals(c *checker, m *statsModel, kind string) {
	where := "trace_id = ? AND NOT open"
	if kind != "" {
		where += " AND kind = '" + kind + "'"
	}
	c.eq(kind+" scheduling latency", `SELECT count(*), coalesce(sum(duration_ns), 0) FROM intervals
		WHERE `+where+` AND state = 'runnable' AND after_first_run AND duration_ns > 0`,
		m.Sched.Latency.Count, m.Sched.Latency.Total)
	c.eq(kind+" blocked, all", `SELECT count(*), coalesce(sum(duration_ns), 0) FROM intervals
		WHERE `+where+` AND state = 'blocked' AND profiled AND duration_ns > 0`,
		m.Blocking.All.Count, m.Blocking.All.Total)
	want := make(map[string][]int64)
	for _, b := range m.Blocking.ByCategory {
		want[b.Category] = []int64{b.Dist.Count, b.Dist.Total}
	}
	c.eqGroups(kind+" blocked by category", c.groups(`SELECT category, count(*), sum(duration_ns) FROM intervals
		WHERE `+where+` AND state = 'blocked' AND profiled AND duration_ns > 0 GROUP BY category`, 2), want)
	c.eq(kind+" syscalls", `SELECT count(*), coalesce(sum(duration_ns), 0) FROM intervals
		WHERE `+where+` AND state = 'syscall' AND profiled AND duration_ns > 0`,
		m.Syscalls.Dist.Count, m.Syscalls.Dist.Total)
}

func checkAnnotations(c *checker, m *statsModel) {
	want := make(map[string][]int64)
	for _, x := range m.Annotations.Tasks {
		want[x.Name] = []int64{x.Dist.Count, x.Dist.Total}
	}
	c.eqGroups("tasks by type", c.groups(`SELECT type, count(*), sum(duration_ns) FROM tasks
		WHERE trace_id = ? AND duration_ns IS NOT NULL GROUP BY type`, 2), want)
	want = make(map[string][]int64)
	for _, x := range m.Annotations.Regions {
		want[x.Name] = []int64{x.Dist.Count, x.Dist.Total}
	}
	c.eqGroups("regions by type", c.groups(`SELECT type, count(*), sum(duration_ns) FROM regions
		WHERE trace_id = ? AND duration_ns IS NOT NULL GROUP BY type`, 2), want)
	want = make(map[string][]int64)
	for _, x := range m.Annotations.Logs {
		want[x.Category] = []int64{x.Count}
	}
	c.eqGroups("logs by category", c.groups(`SELECT category, count(*) FROM logs WHERE trace_id = ? GROUP BY category`, 1), want)
}

func checkGC(c *checker, m *statsModel) {
	g := m.GC
	c.eq("GC cycles", "SELECT count(*) FROM gc WHERE trace_id = ? AND kind = 'mark' AND start_ns IS NOT NULL", g.Cycles)
	for _, k := range []struct {
		kind string
		d    dist
	}{{"stw", g.STW}, {"assist", g.Assist}, {"sweep", g.Sweep}} {
		c.eq("GC "+k.kind, `SELECT count(*), coalesce(sum(duration_ns), 0) FROM gc
			WHERE trace_id = ? AND kind = '`+k.kind+`' AND duration_ns IS NOT NULL`, k.d.Count, k.d.Total)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestMain(m *testing.M) {
	if _, err := exec.LookPath("go"); err != nil {
		fmt.Fprintln(os.Stderr, "parquettest: the go command is needed to build gotrace")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestReadmeQueries runs the README's DuckDB queries (its sql blocks that
// read_parquet) over the tables of the traces its example exports, from
// the directory the example writes them in: each must run and give rows.
func TestReadmeQueries(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(readme), "\n### Parquet tables\n")
	if !ok {
		t.Fatal("README has no Parquet tables section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var queries []string
	for _, block := range strings.Split(sec, "```sql\n")[1:] {
		q, _, _ := strings.Cut(block, "```")
		if strings.Contains(q, "read_parquet(") {
			queries = append(queries, q)
		}
	}
	if len(queries) < 3 {
		t.Fatalf("README has %d DuckDB queries, want 3", len(queries))
	}

	bin := gotrace(t)
	dir := t.TempDir()
	var traces []string
	for _, name := range []string{"annotated", "leaky", "workers"} {
		abs, err := filepath.Abs(filepath.Join(root, "testdata", "traces", name+".trace"))
		if err != nil {
			t.Fatal(err)
		}
		traces = append(traces, abs)
	}
	run(t, bin, append([]string{"export", "--format", "parquet", "--label", "service=api", "--label", "release=v1.2.3",
		"-o", filepath.Join(dir, "tables")}, traces...)...)
	t.Chdir(dir)

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			t.Errorf("%s\n%v", q, err)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s\n%v", q, err)
		}
		rows.Close()
		if n == 0 {
			t.Errorf("%s\ngives no rows", q)
		}
	}
}
