package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/bench"
)

// The record overhead comparison runs testdata/progs/workload, a fixed
// amount of CPU and scheduler work, two ways: recorded by gotrace record,
// and tracing itself with runtime/trace.Start and Stop in its main (its
// -trace flag). gotrace record's wall time also holds building the
// program, so what is compared is how long each program ran with the
// tracer on, read from the span of the trace each run wrote. The two run
// alternately, each first in turn, so drift in machine load hits both
// alike.

const workloadPkg = "./testdata/progs/workload"

type overhead struct {
	record, manual []time.Duration // traced spans, in run order
	recordWall     []time.Duration // gotrace record wall times, build included
	manualWall     []time.Duration // the program's own wall times
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
	if _, err := os.Stat(filepath.Join(h.root, workloadPkg)); err != nil {
		o.status = "not available: no " + workloadPkg
		h.logf("%-14s %s", key, o.status)
		return
	}
	manual := filepath.Join(h.tmp, "workload")
	if r := h.run(proc{args: []string{goCmd(), "build", "-o", manual, workloadPkg}, dir: h.root}); r.err != nil {
		o.status = "failed: building " + workloadPkg + ": " + r.err.Error()
		h.logf("%-14s %s", key, o.status)
		return
	}
	recTrace, manTrace := filepath.Join(h.tmp, "record.trace"), filepath.Join(h.tmp, "manual.trace")
	record := []string{h.gotrace, "record", "-o", recTrace, workloadPkg}
	// A first recording warms the build cache; it is not counted.
	if _, _, err := h.runTraced(record, recTrace); err != nil {
		o.status = "failed: gotrace record: " + err.Error()
		h.logf("%-14s %s", key, o.status)
		return
	}
	sides := []func() error{
		func() error {
			span, wall, err := h.runTraced(record, recTrace)
			if err != nil {
				return fmt.Errorf("gotrace record: %v", err)
			}
			o.record, o.recordWall = append(o.record, span), append(o.recordWall, wall)
			return nil
		},
		func() error {
			span, wall, err := h.runTraced([]string{manual, "-trace", manTrace}, manTrace)
			if err != nil {
				return fmt.Errorf("%s -trace: %v", workloadPkg, err)
			}
			o.manual, o.manualWall = append(o.manual, span), append(o.manualWall, wall)
			return nil
		},
	}
	for i := range h.runs {
		// N.B. Which side goes first turns every run, so neither always
		// runs in the wake of the other (its file writes, its exit).
		for j := range sides {
			if err := sides[(i+j)%len(sides)](); err != nil {
				o.status = "failed: " + err.Error()
				break
			}
		}
		if o.status != "" {
			break
		}
		h.logf("%-14s run %d/%d: record %s, by hand %s", key, i+1, h.runs, seconds(o.record[i]), seconds(o.manual[i]))
	}
	if o.status != "" {
		h.logf("%-14s %s", key, o.status)
	}
}

// runTraced runs one side, which writes trace, and returns the trace's span
// and the process's wall time.
func (h *harness) runTraced(args []string, trace string) (time.Duration, time.Duration, error) {
	os.Remove(trace)
	r := h.run(proc{args: args, dir: h.root})
	if r.err != nil {
		return 0, 0, r.err
	}
	f, err := os.Open(trace)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	span, err := bench.TracedSpan(f)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %v", filepath.Base(trace), err)
	}
	return span, r.dur, nil
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
	t := targetRow{name: "record overhead (traced run time, median)", want: "target <= 2%"}
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
	if o == nil || len(o.record) == 0 || len(o.manual) == 0 {
		if o != nil && o.status != "" {
			return "record overhead: " + o.status
		}
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "record overhead: %s, %d runs each way, alternating; time the tracer ran, from each trace:\n", workloadPkg, len(o.record))
	fmt.Fprintf(&b, "  gotrace record:  %s\n", joinDurations(o.record))
	fmt.Fprintf(&b, "  trace by hand:   %s\n", joinDurations(o.manual))
	fmt.Fprintf(&b, "  fastest run: gotrace record %s, by hand %s\n", seconds(slices.Min(o.record)), seconds(slices.Min(o.manual)))
	fmt.Fprintf(&b, "  median wall time: gotrace record %s (build included), by hand %s", seconds(median(o.recordWall)), seconds(median(o.manualWall)))
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
