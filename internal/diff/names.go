package diff

import (
	"regexp"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/stats"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// Compiler-made names differ between builds of the same code: closures are
// numbered in the order the compiler meets them (main.f.func1, and since
// Go 1.22 main.f.gowrap1 for go statements, main.f-range1 for range-over-func
// bodies), generic functions carry their shapes (main.Map[go.shape.int]),
// and some names hold addresses. Rows are matched on names with all of
// these left out, so one program built twice, or by two Go releases, gives
// the same rows.
var (
	closureRE = regexp.MustCompile(`^(\.func|\.gowrap|\.deferwrap|-range)[0-9]+`)
	wrapRE    = regexp.MustCompile(`\.(gowrap|deferwrap)[0-9]+$`)
	addressRE = regexp.MustCompile(`0x[0-9a-fA-F]+`)
)

// Normalize returns the name fn is matched by: closure numbers, generic
// type arguments and addresses dropped. Every closure of a function is
// its .func, however nested and whatever the release calls it: Go 1.26
// names a closure in the body of a range-over-func loop main.f.func2,
// Go 1.27 main.f-range1.1; both become main.f.func. A go or defer
// statement's wrapper keeps its kind: main.f.func.deferwrap, main.f.gowrap.
// main.Map[go.shape.int] becomes main.Map[...].
func Normalize(fn string) string {
	if strings.IndexByte(fn, '[') >= 0 {
		var b strings.Builder
		depth := 0
		for _, r := range fn {
			switch {
			case r == '[':
				if depth == 0 {
					b.WriteString("[...]")
				}
				depth++
			case r == ']' && depth > 0:
				depth--
			case depth == 0:
				b.WriteRune(r)
			}
		}
		fn = b.String()
	}
	fn = addressRE.ReplaceAllString(fn, "")
	for i := range len(fn) {
		if fn[i] != '.' && fn[i] != '-' {
			continue
		}
		m := closureRE.FindStringSubmatch(fn[i:])
		if m == nil {
			continue
		}
		head, rest := fn[:i], fn[i:]
		switch {
		case len(rest) == len(m[0]) && m[1] != "-range":
			return head + m[1] // one closure or wrapper
		case wrapRE.MatchString(rest):
			return head + ".func." + wrapRE.FindStringSubmatch(rest)[1]
		}
		return head + ".func"
	}
	return fn
}

// stackKey is the name a stack is matched by: the program's own frames,
// normalised, innermost first; the whole stack when none of it is the
// program's. Frames of the runtime and the standard library change
// between Go releases and say little about where the program waits.
func stackKey(st []stats.Frame) string {
	var user, all []string
	for _, f := range st {
		n := Normalize(f.Func)
		all = append(all, n)
		if timeline.IsUserFrame(f.Func) {
			user = append(user, n)
		}
	}
	if len(user) > 0 {
		return strings.Join(user, " < ")
	}
	return strings.Join(all, " < ")
}
