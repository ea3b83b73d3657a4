package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/stats"
)

// CheckResult is what gotrace check found.
type CheckResult struct {
	Schema     string            `json:"schema" help:"always \"gotrace.check/v1\""`
	File       string            `json:"file" help:"the trace file as named on the command line"`
	Baseline   string            `json:"baseline,omitempty" help:"the baseline trace given with --baseline; absent without one"`
	Passed     bool              `json:"passed" help:"true when every assertion holds; false when one fails or has no data"`
	Failed     int               `json:"failed" help:"how many assertions were measured and do not hold"`
	NoData     int               `json:"no_data" help:"how many assertions have no data: the trace holds no value for their path"`
	Assertions []stats.Assertion `json:"assertions" help:"every assertion in command-line order"`
	Damage     stats.Damage      `json:"damage" help:"as in gotrace.stats/v1: set when the trace could not be read to its end"`
	// nothing says why nothing was analysed, "" when something was.
	nothing string
}

// NewCheckResult evaluates as against m, and against base, the baseline
// file's model, when it is not nil.
func NewCheckResult(file string, m *stats.Model, baseFile string, base *stats.Model, as []stats.Assertion) *CheckResult {
	r := &CheckResult{Schema: stats.CheckSchema, File: file, Assertions: []stats.Assertion{}, Damage: m.Damage, nothing: stats.NothingAnalysed(m)}
	if base != nil {
		r.Baseline = baseFile
	}
	for _, a := range as {
		a.EvalBaseline(m, base)
		switch a.Result {
		case stats.ResultFail:
			r.Failed++
		case stats.ResultNoData:
			r.NoData++
		}
		r.Assertions = append(r.Assertions, a)
	}
	r.Passed = r.Failed == 0 && r.NoData == 0
	return r
}

// Summary says in one sentence, without a final period, how the assertions
// fared: "All 3 assertions hold", "1 of 2 assertions failed", "The
// assertion has no data: ...".
func (r *CheckResult) Summary() string {
	n := len(r.Assertions)
	switch {
	case r.Passed && n == 1:
		return "The assertion holds"
	case r.Passed:
		return fmt.Sprintf("All %d assertions hold", n)
	case r.nothing != "":
		if n == 1 {
			return "The assertion has no data: " + r.nothing
		}
		return fmt.Sprintf("None of the %d assertions has data: %s", n, r.nothing)
	case n == 1 && r.Failed == 1:
		return "The assertion failed"
	case n == 1:
		return "The assertion has no data: " + r.Assertions[0].Reason
	}
	var parts []string
	if r.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d %s failed", r.Failed, n, plural(n, "assertion", "assertions")))
	}
	if r.NoData > 0 {
		verb := plural(r.NoData, "has", "have")
		if r.Failed > 0 {
			parts = append(parts, fmt.Sprintf("%d %s no data", r.NoData, verb))
		} else {
			parts = append(parts, fmt.Sprintf("%d of %d %s %s no data", r.NoData, n, plural(n, "assertion", "assertions"), verb))
		}
	}
	return strings.Join(parts, ", ")
}

// Check renders r.
func Check(w io.Writer, r *CheckResult, o Options) error {
	if o.Mode == JSON {
		stats.FillNil(r)
		return writeJSON(w, r)
	}
	d := &doc{title: "gotrace check " + r.File}
	if r.Baseline != "" {
		d.subtitle = "against the baseline " + r.Baseline
	}
	if r.Damage.Damaged {
		d.warnings = append(d.warnings, DamageLine(r.Damage))
	}
	if r.nothing != "" {
		d.warnings = append(d.warnings, r.nothing+": no assertion has a value")
	}
	t := &tbl{head: []string{"Assertion", "Measured", "Result"}, right: []bool{false, true, false}, statusCol: 2}
	// With a baseline: its value, the measured one, and the change.
	row := func(a stats.Assertion, got, result string) { t.row(a.Expr, got, result) }
	if r.Baseline != "" {
		t = &tbl{head: []string{"Assertion", "Base", "Measured", "Change", "Result"}, right: []bool{false, true, true, true, false}, statusCol: 4}
		row = func(a stats.Assertion, got, result string) {
			base, change := "–", "–"
			if a.Base != nil {
				base = FormatValue(*a.Base, a.Unit)
			}
			if a.Change != nil {
				change = fmt.Sprintf("%+.1f%%", 100**a.Change)
			} else if a.Base != nil && got != "–" && a.Got == *a.Base {
				change = "0"
			}
			t.row(a.Expr, base, got, change, result)
		}
	}
	var why []string
	for _, a := range r.Assertions {
		switch a.Result {
		case stats.ResultPass:
			row(a, FormatValue(a.Got, a.Unit), "pass")
			t.status = append(t.status, 1)
		case stats.ResultFail:
			row(a, FormatValue(a.Got, a.Unit), "FAIL")
			t.status = append(t.status, 2)
		default:
			row(a, "–", "no data")
			t.status = append(t.status, 2)
			if r.nothing == "" && (len(r.Assertions) > 1 || r.Failed > 0) {
				why = append(why, a.Expr+": "+a.Reason+".")
			}
		}
	}
	s := section{title: "Assertions"}
	s.add(t)
	for _, line := range why {
		s.text(line)
	}
	s.text(r.Summary() + ".")
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
	for _, f := range append(slices.Clone(stats.Fields()), stats.NamedPaths()...) {
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
	s.text(`NAME is a task or region type as gotrace stats lists it, quoted as in Go: annotations.regions["load"].p99 < 5ms. A name the trace does not hold gives "no data".`)
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
