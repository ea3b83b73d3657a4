package stats

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// CheckSchema names the JSON form of a check report.
const CheckSchema = "gotrace.check/v1"

// Assertion is one parsed --assert expression: PATH OP VALUE.
type Assertion struct {
	Expr  string  `json:"expr" help:"the expression as given"`
	Path  string  `json:"path" help:"the model path it reads"`
	Op    string  `json:"op" help:"the comparison: < <= > >= == !="`
	Unit  string  `json:"unit" help:"the path's unit: ns, B, count, ratio, %, 1/s"`
	Want  float64 `json:"want" help:"the value compared with, in the path's unit (a ratio for 50%)"`
	Got   float64 `json:"got" help:"the value measured in the trace, in the path's unit"`
	Pass  bool    `json:"pass" help:"whether the assertion holds"`
	field Field
}

// ErrBadAssertion marks an expression that cannot be evaluated: malformed,
// an unknown path, or a value whose unit does not fit the path.
var ErrBadAssertion = errors.New("bad assertion")

// The value may have a space before its unit: "5 ms".
var assertRE = regexp.MustCompile(`^\s*([A-Za-z0-9_.]+)\s*(<=|>=|==|!=|<|>)\s*(\S+(?:\s+[^\s0-9.]\S*)?)\s*$`)

// ParseAssertion parses "PATH OP VALUE", e.g. "gc.stw.max < 5ms".
func ParseAssertion(expr string) (Assertion, error) {
	sm := assertRE.FindStringSubmatch(expr)
	if sm == nil {
		return Assertion{}, fmt.Errorf("%w %q: want PATH OP VALUE, e.g. 'gc.stw.max < 5ms', with OP one of < <= > >= == !=", ErrBadAssertion, expr)
	}
	a := Assertion{Expr: strings.TrimSpace(expr), Path: sm[1], Op: sm[2]}
	f, ok := Lookup(a.Path)
	if !ok {
		hint := ""
		if s := Suggest(a.Path); len(s) > 0 {
			hint = "; did you mean " + strings.Join(s, ", ") + "?"
		} else {
			hint = "; paths begin with " + strings.Join(sections(), ", ")
		}
		return Assertion{}, fmt.Errorf("%w %q: unknown path %q%s (gotrace check --list shows every path)", ErrBadAssertion, expr, a.Path, hint)
	}
	a.field, a.Unit = f, f.Unit
	v, err := parseValue(strings.Join(strings.Fields(sm[3]), ""), f.Unit)
	if err != nil {
		return Assertion{}, fmt.Errorf("%w %q: %v", ErrBadAssertion, expr, err)
	}
	a.Want = v
	return a, nil
}

// Eval measures a in m and decides whether it holds.
func (a *Assertion) Eval(m *Model) {
	a.Got = m.Value(a.field)
	switch a.Op {
	case "<":
		a.Pass = a.Got < a.Want
	case "<=":
		a.Pass = a.Got <= a.Want
	case ">":
		a.Pass = a.Got > a.Want
	case ">=":
		a.Pass = a.Got >= a.Want
	case "==":
		a.Pass = a.Got == a.Want
	case "!=":
		a.Pass = a.Got != a.Want
	}
}

var (
	durUnits  = map[string]float64{"ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
	sizeUnits = map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
		"KB": 1e3, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
	numRE = regexp.MustCompile(`^([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)(.*)$`)
)

// parseValue reads a number with an optional unit suffix and returns it in
// the field's unit.
func parseValue(s, unit string) (float64, error) {
	sm := numRE.FindStringSubmatch(s)
	if sm == nil {
		return 0, fmt.Errorf("value %q is not a number", s)
	}
	v, err := strconv.ParseFloat(sm[1], 64)
	if err != nil {
		return 0, fmt.Errorf("value %q: %v", s, err)
	}
	suf := sm[2]
	if suf == "" {
		return v, nil
	}
	kind := map[string]string{UnitNs: "a duration", UnitBytes: "a size in bytes", UnitCount: "a count",
		UnitRatio: "a ratio (0 to 1, or a percentage)", UnitPct: "a percentage", UnitRate: "a rate per second"}[unit]
	switch {
	case durUnits[suf] != 0:
		if unit == UnitNs {
			return v * durUnits[suf], nil
		}
	case sizeUnits[suf] != 0:
		if unit == UnitBytes {
			return v * sizeUnits[suf], nil
		}
	case suf == "%":
		switch unit {
		case UnitRatio:
			return v / 100, nil
		case UnitPct:
			return v, nil
		}
	default:
		return 0, fmt.Errorf("value %q: unknown unit %q (want ns, us, µs, ms, s, m; B, KiB, MiB, GiB, KB, MB, GB; or %%)", s, suf)
	}
	return 0, fmt.Errorf("value %q: the path is %s, not %q", s, kind, suf)
}

// sections returns the first parts of the paths, "overview." and so on, in
// the order of Fields.
func sections() []string {
	var out []string
	for _, f := range Fields() {
		s, _, _ := strings.Cut(f.Path, ".")
		if s += "."; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
