package stats

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// CheckSchema names the JSON form of a check report.
const CheckSchema = "gotrace.check/v1"

// Results of an assertion.
const (
	ResultPass   = "pass"
	ResultFail   = "fail"
	ResultNoData = "no data"
)

// Assertion is one parsed --assert expression: PATH OP VALUE.
type Assertion struct {
	Expr   string  `json:"expr" help:"the expression as given"`
	Path   string  `json:"path" help:"the model path it reads, a task or region name quoted as in Go: annotations.regions[\"load\"].p99"`
	Op     string  `json:"op" help:"the comparison: < <= > >= == !="`
	Unit   string  `json:"unit" help:"the path's unit: ns, B, count, ratio, %, 1/s"`
	Want   float64 `json:"want" help:"the value compared with, in the path's unit (a ratio for 50%)"`
	Got    float64 `json:"got" help:"the value measured in the trace, in the path's unit; 0 when result is \"no data\""`
	Pass   bool    `json:"pass" help:"whether the assertion holds: true only when result is \"pass\""`
	Result string  `json:"result" help:"pass, fail, or no data: the trace holds no value for the path (nothing analysed, or no task or region of that name)"`
	Reason string  `json:"reason" help:"why the result is no data; empty otherwise"`
	// The baseline's side, with gotrace check --baseline.
	Relative string   `json:"relative,omitempty" help:"the value as given when it is made from the baseline's: +20% (a change from it), base*1.1 (a multiple of it), base+5ms, or base itself; absent for a value of its own"`
	Base     *float64 `json:"base" help:"the baseline's value for the path, in the path's unit, with --baseline; null without one, or when the baseline holds no value for it"`
	Change   *float64 `json:"change" help:"got divided by base, minus 1 (0.2 for 20% more); null without a baseline value or when it is 0"`
	rel      relValue
	field    Field
	named    *namedList // set for annotations.tasks["NAME"] and annotations.regions["NAME"]
	name     string
	dist     Field // the Dist field of a named path, its index relative to Dist
}

// ErrBadAssertion marks an expression that cannot be evaluated: malformed,
// an unknown path, or a value whose unit does not fit the path.
var ErrBadAssertion = errors.New("bad assertion")

// The comparison and the value after the path; the value may have a space
// before its unit: "5 ms".
var opValueRE = regexp.MustCompile(`^\s*(<=|>=|==|!=|<|>)\s*(\S+(?:\s+[^\s0-9.]\S*)?)\s*$`)

// namedList is a list of the model whose rows check reaches by name.
type namedList struct {
	path string // annotations.tasks
	json string // annotations.tasks[].dist
	kind string // task
	rows func(*Model) []NamedDist
}

var namedLists = []*namedList{
	{"annotations.tasks", "annotations.tasks[].dist", "task", func(m *Model) []NamedDist { return m.Annotations.Tasks }},
	{"annotations.regions", "annotations.regions[].dist", "region", func(m *Model) []NamedDist { return m.Annotations.Regions }},
}

// distFields are the fields of a Dist, as check names them.
var distFields = sync.OnceValue(func() []Field {
	var out []Field
	walkFields(reflect.TypeFor[Dist](), "", "", "", nil, &out)
	return out
})

// NamedPaths returns the path forms that reach a task or a region by name,
// NAME standing for the name: annotations.regions["NAME"].p99.
func NamedPaths() []Field {
	var out []Field
	for _, l := range namedLists {
		for _, f := range distFields() {
			help := strings.ReplaceAll(f.Help, "interval", "duration") + " of the " + l.kind + "s named NAME that ended in the trace"
			if f.Path == "count" {
				help = "number of " + l.kind + "s named NAME that ended in the trace"
			}
			out = append(out, Field{Path: l.path + `["NAME"].` + f.Path, JSON: l.json + "." + f.JSON, Unit: f.Unit, Help: help})
		}
	}
	return out
}

// ParseAssertion parses "PATH OP VALUE", e.g. "gc.stw.max < 5ms" or
// `annotations.regions["load"].p99 < 5ms`.
func ParseAssertion(expr string) (Assertion, error) {
	a := Assertion{Expr: strings.TrimSpace(expr)}
	// Quoted so that columns count as in the expression: names in it are
	// in double quotes.
	quoted := strconv.Quote(a.Expr)
	if strings.Contains(a.Expr, `"`) && !strings.Contains(a.Expr, "'") {
		quoted = "'" + a.Expr + "'"
	}
	bad := func(format string, args ...any) (Assertion, error) {
		return Assertion{}, fmt.Errorf("%w %s: "+format, append([]any{ErrBadAssertion, quoted}, args...)...)
	}
	p, err := scanPath(a.Expr)
	if err != nil {
		return bad("%v", err)
	}
	sm := opValueRE.FindStringSubmatch(a.Expr[p.end:])
	if p.text == "" || sm == nil {
		return bad("want PATH OP VALUE, e.g. 'gc.stw.max < 5ms', with OP one of < <= > >= == !=")
	}
	a.Op = sm[1]
	if p.named != nil {
		a.named, a.name, a.dist = p.named, p.name, p.field
		a.Path = p.named.path + "[" + strconv.Quote(p.name) + "]." + p.field.Path
		a.Unit = p.field.Unit
	} else {
		a.Path = p.text
		f, ok := Lookup(a.Path)
		if !ok {
			return bad("unknown path %q%s (gotrace check --list shows every path)", a.Path, pathHint(a.Path))
		}
		a.Path, a.field, a.Unit = f.Path, f, f.Unit
	}
	value := strings.Join(strings.Fields(sm[2]), "")
	if rel, ok, err := parseRelative(value, a.Unit); ok {
		if err != nil {
			return bad("%v", err)
		}
		a.Relative, a.rel = value, rel
		return a, nil
	}
	v, err := parseValue(value, a.Unit)
	if err != nil {
		return bad("%v", err)
	}
	a.Want = v
	return a, nil
}

// relValue is a value made from the baseline's: base*factor + offset.
type relValue struct {
	factor, offset float64
}

// relChangeRE is a change from the baseline: a signed percentage.
var relChangeRE = regexp.MustCompile(`^[-+](?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)%$`)

// parseRelative reads a value made from the baseline's: +20% or -5% (a
// change from it), base, base*1.1, base+5ms or base-1MiB. It reports
// whether s is one.
func parseRelative(s, unit string) (relValue, bool, error) {
	if relChangeRE.MatchString(s) {
		pct, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		return relValue{factor: 1 + pct/100}, true, err
	}
	rest, ok := strings.CutPrefix(s, "base")
	if !ok {
		return relValue{}, false, nil
	}
	switch {
	case rest == "":
		return relValue{factor: 1}, true, nil
	case rest[0] == '*':
		f, err := strconv.ParseFloat(rest[1:], 64)
		if err != nil || f < 0 {
			return relValue{}, true, fmt.Errorf("value %q: want base*FACTOR with a number of 0 or more, e.g. base*1.1", s)
		}
		return relValue{factor: f}, true, nil
	case rest[0] == '+' || rest[0] == '-':
		v, err := parseValue(rest[1:], unit)
		if err != nil {
			return relValue{}, true, err
		}
		if rest[0] == '-' {
			v = -v
		}
		return relValue{factor: 1, offset: v}, true, nil
	}
	return relValue{}, true, fmt.Errorf("value %q: want base, base*FACTOR, base+VALUE or base-VALUE", s)
}

// NeedsBaseline reports whether a's value is made from a baseline's.
func (a *Assertion) NeedsBaseline() bool { return a.Relative != "" }

// pathHint suggests paths near an unknown one.
func pathHint(path string) string {
	for _, l := range namedLists {
		if rest, ok := strings.CutPrefix(path, l.path); ok && (rest == "" || rest[0] == '.') {
			field := "p99"
			if f := strings.TrimPrefix(rest, "."); slices.ContainsFunc(distFields(), func(d Field) bool { return d.Path == f }) {
				field = f
			}
			return fmt.Sprintf(`; %ss are reached by name: %s["NAME"].%s`, l.kind, l.path, field)
		}
	}
	if s := Suggest(path); len(s) > 0 {
		return "; did you mean " + strings.Join(s, ", ") + "?"
	}
	return "; paths begin with " + strings.Join(sections(), ", ")
}

// scannedPath is the path at the start of an expression.
type scannedPath struct {
	text  string // the path as written
	end   int    // byte offset just after it
	named *namedList
	name  string
	field Field
}

// scanPath reads the path at the start of expr: names and dots, and for a
// task or region a Go-quoted name in brackets. A malformed path is an error
// that names its column.
func scanPath(expr string) (scannedPath, error) {
	at := func(i int, format string, args ...any) error {
		return fmt.Errorf("at column %d: "+format, append([]any{utf8.RuneCountInString(expr[:i]) + 1}, args...)...)
	}
	isName := func(c byte) bool {
		return c == '_' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	i := 0
	for i < len(expr) && isName(expr[i]) {
		i++
	}
	p := scannedPath{text: expr[:i], end: i}
	if i == len(expr) || expr[i] != '[' {
		return p, nil
	}
	// PATH["NAME"].FIELD
	base := expr[:i]
	for _, l := range namedLists {
		if l.path == base {
			p.named = l
		}
	}
	if p.named == nil {
		return p, at(i, `%q takes no ["NAME"]; only annotations.tasks and annotations.regions do`, base)
	}
	q := i + 1
	if q == len(expr) || expr[q] != '"' {
		return p, at(q, `want a quoted name after "[", e.g. %s["NAME"].p99`, base)
	}
	j := q + 1
	for j < len(expr) && expr[j] != '"' {
		if expr[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(expr) {
		return p, at(q, "the quoted name does not end")
	}
	name, err := strconv.Unquote(expr[q : j+1])
	if err != nil {
		return p, at(q, "the name %s is not a Go string", expr[q:j+1])
	}
	j++
	if j == len(expr) || expr[j] != ']' {
		return p, at(j, `want "]" after the name`)
	}
	j++
	var fields []string
	for _, f := range distFields() {
		fields = append(fields, "."+f.Path)
	}
	k := j
	if k < len(expr) && expr[k] == '.' {
		k++
		for k < len(expr) && isName(expr[k]) {
			k++
		}
	}
	i = slices.IndexFunc(distFields(), func(f Field) bool { return "."+f.Path == expr[j:k] })
	if i < 0 {
		return p, at(j, "want one of %s after %s[%s]", strings.Join(fields, " "), base, strconv.Quote(name))
	}
	p.text, p.end, p.name, p.field = expr[:k], k, name, distFields()[i]
	return p, nil
}

// NothingAnalysed says why m holds no value for any assertion, or returns
// "" when it does. Nothing is analysed when the trace holds no complete
// generation (a recording cut inside its first, or a header alone): then
// the analysis saw no event, and every value would be a zero that was not
// measured.
func NothingAnalysed(m *Model) string {
	if m.Overview.Generations == 0 || m.Overview.Events == 0 {
		return "the trace holds no complete generation, so nothing was analysed"
	}
	return ""
}

// Eval measures a in m and decides whether it holds. A value the trace does
// not hold gives the result "no data", which does not pass.
func (a *Assertion) Eval(m *Model) { a.EvalBaseline(m, nil) }

// EvalBaseline measures a in m and, when base is not nil, in base too, and
// decides whether it holds; a value made from the baseline's is made from
// base's. A value either trace does not hold gives the result "no data".
func (a *Assertion) EvalBaseline(m, base *Model) {
	a.Got, a.Pass, a.Result, a.Reason, a.Base, a.Change = 0, false, ResultNoData, "", nil, nil
	if base != nil {
		if b, why := a.measure(base); why == "" {
			a.Base = &b
		} else if a.NeedsBaseline() {
			a.Reason = "in the baseline, " + why
			return
		}
	}
	if a.NeedsBaseline() {
		if a.Base == nil {
			a.Reason = "the value is made from the baseline's, and there is no baseline"
			return
		}
		a.Want = *a.Base*a.rel.factor + a.rel.offset
	}
	got, why := a.measure(m)
	if why != "" {
		a.Reason = why
		return
	}
	a.Got = got
	if a.Base != nil && *a.Base != 0 {
		c := a.Got / *a.Base - 1
		a.Change = &c
	}
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
	a.Result = ResultFail
	if a.Pass {
		a.Result = ResultPass
	}
}

// measure returns a's path in m, or why m holds no value for it.
func (a *Assertion) measure(m *Model) (float64, string) {
	if why := NothingAnalysed(m); why != "" {
		return 0, why
	}
	if a.named == nil {
		return m.Value(a.field), ""
	}
	rows := a.named.rows(m)
	i := slices.IndexFunc(rows, func(r NamedDist) bool { return r.Name == a.name })
	if i < 0 {
		why := fmt.Sprintf("no %s named %q ended in the trace", a.named.kind, a.name)
		var names []string
		for _, r := range rows {
			names = append(names, strconv.Quote(r.Name))
		}
		switch {
		case len(names) == 0:
			why += fmt.Sprintf(" (it has no %ss)", a.named.kind)
		case len(names) > 8:
			why += fmt.Sprintf(" (it has %s, and %d more)", strings.Join(names[:8], ", "), len(names)-8)
		default:
			why += fmt.Sprintf(" (it has %s)", strings.Join(names, ", "))
		}
		return 0, why
	}
	return reflect.ValueOf(rows[i].Dist).FieldByIndex(a.dist.index).Convert(reflect.TypeFor[float64]()).Float(), ""
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

// ParseRatio reads a share as a fraction (0.05) or a percentage (5%).
func ParseRatio(s string) (float64, error) {
	return parseValue(strings.TrimSpace(s), UnitRatio)
}
