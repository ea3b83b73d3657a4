package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The record overhead comparison: testdata/progs/overhead recorded by
// gotrace record against testdata/progs/overhead-manual, the same workload
// (testdata/progs/overhead/work) with runtime/trace started by hand. Both
// print how long the workload took with the tracer on; that is what is
// compared, since gotrace record's wall time also holds building the
// program. The two run alternately so drift in machine load hits both.

var elapsedLine = regexp.MustCompile(`(?m)^elapsed_ns=(\d+)`)

type overhead struct {
	record, manual []time.Duration // workload times, in run order
	recordWall     []time.Duration // gotrace record wall times, build included
	status         string          // why there is no comparison
}

func (h *harness) measureRecordOverhead() {
	const key = "record-overhead"
	o := &overhead{}
	h.overhead = o
	if h.skip[key] {
		o.status = "skipped (-skip)"
		return
	}
	if why := h.available("record", []string{"-o"}); why != "" {
		o.status = "not available: " + why
		h.logf("%-14s %s", key, o.status)
		return
	}
	manual := filepath.Join(h.tmp, "overhead-manual")
	if r := h.run(proc{args: []string{goCmd(), "build", "-o", manual, "./testdata/progs/overhead-manual"}, dir: h.root}); r.err != nil {
		o.status = "failed: building testdata/progs/overhead-manual: " + r.err.Error()
		h.logf("%-14s %s", key, o.status)
		return
	}
	// A first recording warms the build cache; it is not counted.
	if _, _, err := h.runOverhead([]string{h.gotrace, "record", "-o", filepath.Join(h.tmp, "rec.trace"), "./testdata/progs/overhead"}); err != nil {
		o.status = "failed: gotrace record: " + err.Error()
		h.logf("%-14s %s", key, o.status)
		return
	}
	for i := range h.runs {
		d, wall, err := h.runOverhead([]string{h.gotrace, "record", "-o", filepath.Join(h.tmp, "rec.trace"), "./testdata/progs/overhead"})
		if err != nil {
			o.status = "failed: gotrace record: " + err.Error()
			break
		}
		o.record = append(o.record, d)
		o.recordWall = append(o.recordWall, wall)
		d, _, err = h.runOverhead([]string{manual, "-o", filepath.Join(h.tmp, "manual.trace")})
		if err != nil {
			o.status = "failed: overhead-manual: " + err.Error()
			break
		}
		o.manual = append(o.manual, d)
		h.logf("%-14s run %d/%d: record %s, manual %s", key, i+1, h.runs, seconds(o.record[i]), seconds(d))
	}
}

// runOverhead runs one side and returns the workload time it printed and
// the process's wall time.
func (h *harness) runOverhead(args []string) (time.Duration, time.Duration, error) {
	var out strings.Builder
	r := h.run(proc{args: args, dir: h.root, stdout: &out})
	if r.err != nil {
		return 0, 0, r.err
	}
	m := elapsedLine.FindStringSubmatch(out.String())
	if m == nil {
		return 0, 0, fmt.Errorf("no elapsed_ns line in its output %q", out.String())
	}
	ns, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, 0, err
	}
	return time.Duration(ns), r.dur, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// overheadTarget is the record overhead row of the targets.
func (h *harness) overheadTarget() targetRow {
	t := targetRow{name: "record overhead (workload time, median)", want: "target <= 2%"}
	o := h.overhead
	switch {
	case o == nil:
		t.verdict = "n/a (not measured)"
	case o.status != "":
		t.verdict = "n/a (" + strings.SplitN(o.status, ":", 2)[0] + ")"
	case len(o.record) == 0 || len(o.manual) == 0:
		t.verdict = "n/a (no runs)"
	default:
		rec, man := median(o.record), median(o.manual)
		pct := (rec.Seconds()/man.Seconds() - 1) * 100
		t.value = fmt.Sprintf("%+.1f%% (%s vs %s by hand)", pct, seconds(rec), seconds(man))
		t.verdict = verdict(pct <= 2)
	}
	return t
}

// overheadDetail prints every run, so noise is visible next to the median.
func (h *harness) overheadDetail() string {
	o := h.overhead
	if o == nil || len(o.record) == 0 {
		if o != nil && o.status != "" {
			return "record overhead: " + o.status
		}
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "record overhead runs (%d each, alternating; workload time with the tracer on):\n", len(o.record))
	fmt.Fprintf(&b, "  gotrace record:  %s\n", joinDurations(o.record))
	fmt.Fprintf(&b, "  trace by hand:   %s\n", joinDurations(o.manual))
	fmt.Fprintf(&b, "  gotrace record wall time, build included: median %s", seconds(median(o.recordWall)))
	if o.status != "" {
		fmt.Fprintf(&b, "\n  stopped early: %s", o.status)
	}
	return b.String()
}

func joinDurations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = seconds(d)
	}
	return strings.Join(s, " ")
}
