package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/gotrace-cli/gotrace/internal/stats"
)

// CheckResult is what gotrace check found.
type CheckResult struct {
	Schema     string            `json:"schema" help:"always \"gotrace.check/v1\""`
	File       string            `json:"file" help:"the trace file as named on the command line"`
	Passed     bool              `json:"passed" help:"true when every assertion holds"`
	Failed     int               `json:"failed" help:"how many assertions do not hold"`
	Assertions []stats.Assertion `json:"assertions" help:"every assertion in command-line order"`
	Damage     stats.Damage      `json:"damage" help:"as in gotrace.stats/v1: set when the trace could not be read to its end"`
}

// NewCheckResult evaluates as against m.
func NewCheckResult(file string, m *stats.Model, as []stats.Assertion) *CheckResult {
	r := &CheckResult{Schema: stats.CheckSchema, File: file, Passed: true, Assertions: []stats.Assertion{}, Damage: m.Damage}
	for _, a := range as {
		a.Eval(m)
		if !a.Pass {
			r.Failed++
			r.Passed = false
		}
		r.Assertions = append(r.Assertions, a)
	}
	return r
}

// Check renders r.
func Check(w io.Writer, r *CheckResult, o Options) error {
	if o.Mode == JSON {
		stats.FillNil(r)
		return writeJSON(w, r)
	}
	d := &doc{title: "gotrace check " + r.File}
	if r.Damage.Damaged {
		d.warnings = append(d.warnings, DamageLine(r.Damage))
	}
	t := &tbl{head: []string{"Assertion", "Measured", "Result"}, right: []bool{false, true, false}, statusCol: 2}
	for _, a := range r.Assertions {
		res, st := "pass", 1
		if !a.Pass {
			res, st = "FAIL", 2
		}
		t.row(a.Expr, FormatValue(a.Got, a.Unit), res)
		t.status = append(t.status, st)
	}
	s := section{title: "Assertions"}
	s.add(t)
	if r.Passed {
		if len(r.Assertions) == 1 {
			s.text("The assertion holds.")
		} else {
			s.text(fmt.Sprintf("All %d assertions hold.", len(r.Assertions)))
		}
	} else {
		s.text(fmt.Sprintf("%d of %d %s failed.", r.Failed, len(r.Assertions), plural(len(r.Assertions), "assertion", "assertions")))
	}
	d.sections = append(d.sections, s)
	return d.render(w, o.Mode, o.Width)
}

// CheckPath is one row of gotrace check --list.
type CheckPath struct {
	Path string `json:"path" help:"the path to use in an assertion"`
	JSON string `json:"json" help:"where the value is in gotrace stats --json"`
	Unit string `json:"unit" help:"ns, B, count, ratio, %, 1/s"`
	Help string `json:"help" help:"what the value means"`
}

// CheckList renders every path check accepts.
func CheckList(w io.Writer, o Options) error {
	var paths []CheckPath
	for _, f := range stats.Fields() {
		paths = append(paths, CheckPath{Path: f.Path, JSON: f.JSON, Unit: f.Unit, Help: f.Help})
	}
	if o.Mode == JSON {
		return writeJSON(w, struct {
			Schema string      `json:"schema"`
			Paths  []CheckPath `json:"paths"`
		}{stats.CheckSchema, paths})
	}
	t := &tbl{head: []string{"Path", "Unit", "Meaning"}}
	for _, p := range paths {
		t.row(p.Path, p.Unit, p.Help)
	}
	d := &doc{title: "gotrace check paths", subtitle: "Durations take ns, us, µs, ms, s, m; sizes B, KiB, MiB, GiB, KB, MB, GB; ratios a fraction or a percentage (50%)."}
	s := section{title: "Paths"}
	s.add(t)
	d.sections = append(d.sections, s)
	return d.render(w, o.Mode, o.Width)
}

// writeJSON writes v indented, with <, > and & as they are: the output is
// for terminals and scripts, not for HTML.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
