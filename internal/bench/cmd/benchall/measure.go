package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// result is one row of the table.
type result struct {
	key   string // short name, for -skip and the ratios
	label string // what was run
	in    *input // what it read
	dur   time.Duration
	cpu   time.Duration // CPU time of the same run: steadier than wall time on a shared machine
	rss   int64
	// lowerBound marks a duration that is only a lower bound: the process
	// was killed (memory limit) before it finished.
	lowerBound bool
	status     string // "" when measured; else why not
	note       string
}

func (r *result) ok() bool { return r != nil && r.status == "" }

func (h *harness) add(r *result) {
	h.results[r.key] = r
	h.order = append(h.order, r.key)
	switch {
	case r.ok():
		h.logf("%-14s %8.2fs  %s RSS", r.key, r.dur.Seconds(), mb(r.rss))
	default:
		h.logf("%-14s %s", r.key, r.status)
	}
}

// skipped adds a row for a measurement left out with -skip and reports
// whether it was.
func (h *harness) skipped(key, label string) bool {
	if !h.skip[key] {
		return false
	}
	h.add(&result{key: key, label: label, status: "skipped (-skip)"})
	return true
}

// measure runs p count times and turns the fastest run into a row. The
// input is brought into the page cache before each run, so no row pays for
// the disk.
func (h *harness) measure(key, label string, in *input, count int, p proc) *result {
	r := &result{key: key, label: label, in: in}
	if h.skipped(key, label) {
		return h.results[key]
	}
	for i := range count {
		if err := warm(in.path); err != nil {
			r.status = "failed: " + err.Error()
			break
		}
		o := h.run(p)
		if p.after != nil {
			p.after()
		}
		if i > 0 && o.err == nil && o.dur >= r.dur {
			continue
		}
		r.dur, r.cpu, r.rss, r.status, r.note, r.lowerBound = o.dur, o.cpu, o.rss, "", "", false
		if o.err != nil {
			if errors.Is(o.err, errMemory) {
				r.lowerBound = true
				r.note = o.err.Error()
			} else {
				r.status = "failed: " + o.err.Error()
			}
			break // a failure or a kill would only repeat
		}
	}
	h.add(r)
	return r
}

// warm reads a file through, so it is in the page cache.
func warm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

// decodeLoops are the ways of reading every event with the decoder; the
// targets hold for each.
var decodeLoops = []struct{ key, label, name string }{
	{"decode", "decode loop, Next: all events held", "full decode, Next"},
	{"decode-batches", "decode loop, BatchEvents: a batch at a time", "full decode, BatchEvents"},
	{"decode-each", "decode loop, EachEvent: an event at a time", "full decode, EachEvent"},
	{"decode-parallel", "decode loop, Parallel: generations on every core", "full decode, Parallel"},
}

// measureLoops runs each in-process loop in a subprocess of its own, and
// the decode loop on the half-length prefix too.
func (h *harness) measureLoops() {
	h.loop("walk", "walk", "bare walk (the floor)", h.full)
	h.loop("xexp", "xexp", "x/exp/trace ReadEvent loop", h.full)
	h.loop("order", "order", "gotrace's ordered reader loop (order.Reader)", h.full)
	for _, d := range decodeLoops {
		h.loop(d.key, d.key, d.label, h.full)
		h.loop(d.key+"-half", d.key, "  same, half the generations", h.half)
	}
}

// loop measures the in-process loop name on in as row key.
func (h *harness) loop(key, name, label string, in *input) {
	var out strings.Builder
	r := h.measure(key, label, in, h.count, proc{args: []string{h.self, "-run-loop", name, in.path}, stdout: &out})
	if !r.ok() {
		return
	}
	lr, err := parseLoopOutput(out.String())
	if err != nil {
		r.status = "failed: " + err.Error()
		return
	}
	r.note = fmt.Sprintf("%d events", lr.Events)
}

// measureShapes reads, in a subprocess, how each big trace's generations
// overlap and how many events golang.org/x/exp/trace moves in it.
func (h *harness) measureShapes() {
	for _, in := range []*input{h.full, h.service} {
		if in == nil {
			continue
		}
		var out strings.Builder
		o := h.run(proc{args: []string{h.self, "-run-shape", in.path}, stdout: &out})
		if o.err != nil {
			in.noShape = "failed: " + o.err.Error()
			h.logf("shape of %s: %s", h.rel(in.path), in.noShape)
			continue
		}
		var sh shape
		if err := json.Unmarshal([]byte(out.String()), &sh); err != nil {
			in.noShape = fmt.Sprintf("failed: bad output %q", out.String())
			continue
		}
		in.shape = &sh
		h.logf("shape of %s: %d of %d no-thread batches late, %d events moved", h.rel(in.path), sh.Overlap.LateBatches, sh.Overlap.NoThreadBatches, sh.XExp.Moved)
	}
}

// serviceRows are the measurements on the service-like trace: the loop,
// then the commands that read the goroutine timeline.
var serviceRows = []string{"xexp-service", "order-service", "stats-json-service", "pprof-sched-service", "pprof-cpu-service", "goroutines-json-service", "export-perfetto-service"}

// measureService measures the x/exp/trace loop and the timeline commands
// on the service-like trace.
func (h *harness) measureService() {
	if h.service == nil {
		for _, k := range serviceRows {
			h.add(&result{key: k, label: "service trace", status: "skipped (-skip service)"})
		}
		return
	}
	h.loop("xexp-service", "xexp", "x/exp/trace ReadEvent loop", h.service)
	h.loop("order-service", "order", "gotrace's ordered reader loop (order.Reader)", h.service)
	in := h.service
	h.measureGotrace([]gotraceRow{
		{"stats-json-service", "gotrace stats --json FILE >/dev/null", "stats", []string{"--json"}, []string{"--json", "FILE"}, in},
		{"pprof-sched-service", "gotrace pprof --type sched FILE -o OUT", "pprof", pprofFlags, pprofArgs("sched"), in},
		{"pprof-cpu-service", "gotrace pprof --type cpu FILE -o OUT", "pprof", pprofFlags, pprofArgs("cpu"), in},
		{"goroutines-json-service", "gotrace goroutines --json FILE >/dev/null", "goroutines", []string{"--json"}, []string{"--json", "FILE"}, in},
		{"export-perfetto-service", "gotrace export --format perfetto FILE -o OUT", "export", exportFlags, exportArgs, in},
	})
}

// parseLoopOutput reads what -run-loop children printed: one JSON line per
// run, all with the same event count; the last is taken.
func parseLoopOutput(out string) (loopResult, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var lr loopResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &lr); err != nil {
		return lr, fmt.Errorf("bad loop output %q", out)
	}
	return lr, nil
}

func (h *harness) measureGoToolWire() {
	label := "go tool trace -d=wire >/dev/null"
	tool, err := goTool("trace")
	if err != nil {
		h.add(&result{key: "wire", label: label, status: "not available: " + err.Error()})
		return
	}
	h.measure("wire", label, h.full, h.count, proc{args: []string{tool, "-d=wire", h.full.path}})
}

// listening matches go tool trace's line saying its server is up.
var listening = regexp.MustCompile(`listening on (http://\S+)`)

// measureGoToolHTTP times go tool trace from start until its web server
// answers: parsing and splitting the trace for the viewer. The tool prints
// the address only after it has done both, then opens a browser (BROWSER
// points at a command that exits at once) and serves; the harness polls
// the address until a request succeeds.
//
// On the whole trace the tool usually passes -max-rss and is stopped, which
// leaves only a lower bound; the first generation alone gives a figure it
// can finish.
func (h *harness) measureGoToolHTTP() {
	for _, row := range []struct {
		key, label string
		in         *input
	}{
		{"gotool-http", "go tool trace parse+split (until HTTP answers)", h.full},
		{"gotool-http-gen1", "  same, first generation only", h.gen1},
	} {
		if h.skipped(row.key, row.label) {
			continue
		}
		tool, err := goTool("trace")
		if err != nil {
			h.add(&result{key: row.key, label: row.label, status: "not available: " + err.Error()})
			continue
		}
		browser, err := exec.LookPath("true")
		if err != nil {
			h.add(&result{key: row.key, label: row.label, status: "not available: no `true` command to stand in for a browser"})
			continue
		}
		h.logf("%-14s running until its server answers, or it passes -max-rss", row.key)
		h.measure(row.key, row.label, row.in, 1, proc{
			args:  []string{tool, "-http=127.0.0.1:0", row.in.path},
			env:   []string{"BROWSER=" + browser, "DISPLAY="},
			ready: serverAnswers,
		})
	}
}

// serverAnswers waits for go tool trace's "listening on" line, then polls
// the address until the server answers.
func serverAnswers(ctx context.Context, lines <-chan string) error {
	var url string
	for url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				return errors.New("exited before saying where it listens")
			}
			if m := listening.FindStringSubmatch(l); m != nil {
				url = m[1]
			}
		case <-ctx.Done():
			return fmt.Errorf("no server address: %v", context.Cause(ctx))
		}
	}
	go drain(lines)
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", url+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			return fmt.Errorf("GET %s/: %s", url, resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server at %s never answered: %v", url, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func drain(lines <-chan string) {
	for range lines {
	}
}

// goTool returns the path of a go tool's binary, so it runs without the go
// command in between.
func goTool(name string) (string, error) {
	out, err := exec.Command(goCmd(), "tool", "-n", name).Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n %s: %v", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

var goroot = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})

// gotraceRow describes one gotrace command line to measure.
type gotraceRow struct {
	key, label string
	cmd        string   // subcommand, checked with --help
	flags      []string // flags that must appear in its --help
	args       []string // arguments after the subcommand; FILE is the input
	in         *input
}

// In the arguments, FILE is the input and OUT a file the output is
// written to, removed after each run.
var (
	exportFlags = []string{"--format", "-o"}
	exportArgs  = []string{"--format", "perfetto", "FILE", "-o", "OUT"}
	pprofFlags  = []string{"--type", "-o"}
)

func pprofArgs(typ string) []string { return []string{"--type", typ, "FILE", "-o", "OUT"} }

// N.B. --label names a gotrace that writes Parquet.
var (
	parquetFlags = []string{"--format", "--label", "-o"}
	parquetArgs  = []string{"--format", "parquet", "-o", "OUT", "FILE"}
)

// parquetCopies is how many copies of a small trace export-parquet-copies
// exports in one command, as a fleet's snapshots are.
const parquetCopies = 200

// measureParquetCopies exports parquetCopies copies of a bundled trace in
// one command, with labels: many small files, on every core.
func (h *harness) measureParquetCopies() {
	key := "export-parquet-copies"
	label := fmt.Sprintf("  %d copies of testdata/traces/annotated.trace, labelled", parquetCopies)
	if h.skipped(key, label) {
		return
	}
	if why := h.available("export", parquetFlags); why != "" {
		h.add(&result{key: key, label: label, status: "not available: " + why})
		return
	}
	src := filepath.Join(h.root, "testdata", "traces", "annotated.trace")
	c, err := walkFile(src)
	if err == nil {
		err = os.MkdirAll(filepath.Join(h.tmp, "copies"), 0o777)
	}
	out := filepath.Join(h.tmp, key+".out")
	args := []string{h.gotrace, "export", "--format", "parquet", "--label", "service=api", "--label", "release=v1.2.3", "-o", out}
	for i := range parquetCopies {
		if err != nil {
			break
		}
		dst := filepath.Join(h.tmp, "copies", fmt.Sprintf("snapshot-%03d.trace", i))
		if err = os.Link(src, dst); err != nil {
			var data []byte
			if data, err = os.ReadFile(src); err == nil {
				err = os.WriteFile(dst, data, 0o644)
			}
		}
		args = append(args, dst)
	}
	if err != nil {
		h.add(&result{key: key, label: label, status: "failed: " + err.Error()})
		return
	}
	c.Bytes *= parquetCopies
	c.Events *= parquetCopies
	c.Generations *= parquetCopies
	h.measure(key, label, &input{path: src, c: c}, h.count, proc{args: args, env: []string{"NO_COLOR=1"}, after: func() { os.RemoveAll(out) }})
}

func (h *harness) gotraceRows() []gotraceRow {
	return []gotraceRow{
		{"decode-text", "gotrace decode FILE >/dev/null", "decode", nil, []string{"FILE"}, h.full},
		{"decode-text-half", "  same, half the generations", "decode", nil, []string{"FILE"}, h.half},
		{"decode-json", "gotrace decode --json FILE >/dev/null", "decode", []string{"--json"}, []string{"--json", "FILE"}, h.full},
		{"decode-summary", "gotrace decode --summary FILE", "decode", []string{"--summary"}, []string{"--summary", "FILE"}, h.full},
		{"stats-json", "gotrace stats --json FILE >/dev/null", "stats", []string{"--json"}, []string{"--json", "FILE"}, h.full},
		{"stats-json-half", "  same, half the generations", "stats", []string{"--json"}, []string{"--json", "FILE"}, h.half},
		{"pprof-sched", "gotrace pprof --type sched FILE -o OUT", "pprof", pprofFlags, pprofArgs("sched"), h.full},
		{"pprof-cpu", "gotrace pprof --type cpu FILE -o OUT", "pprof", pprofFlags, pprofArgs("cpu"), h.full},
		{"goroutines-json", "gotrace goroutines --json FILE >/dev/null", "goroutines", []string{"--json"}, []string{"--json", "FILE"}, h.full},
		{"export-perfetto", "gotrace export --format perfetto FILE -o OUT", "export", exportFlags, exportArgs, h.full},
		{"export-perfetto-gen1", "  same, first generation only", "export", exportFlags, exportArgs, h.gen1},
		{"export-parquet", "gotrace export --format parquet -o DIR FILE", "export", parquetFlags, parquetArgs, h.full},
		{"view-print", "gotrace view --print FILE (whole trace)", "view", []string{"--print", "--size"}, []string{"--print", "--size", "120x40", "FILE"}, h.full},
	}
}

// setupGotrace builds gotrace unless -gotrace names a binary.
func (h *harness) setupGotrace() {
	if h.gotrace != "" {
		if abs, err := filepath.Abs(h.gotrace); err == nil {
			h.gotrace = abs
		}
		if _, err := os.Stat(h.gotrace); err != nil {
			h.noGotrace = "-gotrace " + h.gotrace + ": " + err.Error()
			h.gotrace = ""
		}
		return
	}
	bin := filepath.Join(h.tmp, "gotrace")
	h.logf("building ./cmd/gotrace")
	o := h.run(proc{args: []string{goCmd(), "build", "-o", bin, "./cmd/gotrace"}, dir: h.root})
	if o.err != nil {
		h.noGotrace = "gotrace does not build" + lastLine(o.stderr)
		return
	}
	h.gotrace = bin
}

// available checks a gotrace subcommand and its flags against --help.
func (h *harness) available(cmd string, flags []string) string {
	if h.gotrace == "" {
		return h.noGotrace
	}
	out, err := exec.Command(h.gotrace, cmd, "--help").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("gotrace %s --help: %v", cmd, err)
	}
	if !regexp.MustCompile(`(?m)^\s*gotrace ` + regexp.QuoteMeta(cmd) + `\b`).Match(out) {
		return "no gotrace " + cmd + " command"
	}
	for _, f := range flags {
		if !regexp.MustCompile(`(^|\s|,)` + regexp.QuoteMeta(f) + `\b`).Match(out) {
			return "gotrace " + cmd + " has no " + f + " flag"
		}
	}
	return ""
}

func (h *harness) measureGotrace(rows []gotraceRow) {
	for _, row := range rows {
		if h.skipped(row.key, row.label) {
			continue
		}
		if why := h.available(row.cmd, row.flags); why != "" {
			h.add(&result{key: row.key, label: row.label, status: "not available: " + why})
			continue
		}
		args := []string{h.gotrace, row.cmd}
		out := filepath.Join(h.tmp, row.key+".out")
		for _, a := range row.args {
			switch a {
			case "FILE":
				a = row.in.path
			case "OUT":
				a = out
			}
			args = append(args, a)
		}
		// N.B. RemoveAll: parquet writes a directory.
		h.measure(row.key, row.label, row.in, h.count, proc{args: args, env: []string{"NO_COLOR=1"}, after: func() { os.RemoveAll(out) }})
	}
}
