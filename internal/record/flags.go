package record

import (
	"fmt"
	"strings"
)

// SplitFlags splits a --build-flags value into words as a shell would for
// simple quoting: spaces separate words, and single or double quotes keep
// spaces inside one, as in -ldflags '-s -w' or -tags "a b".
func SplitFlags(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("build flags %q: unterminated %c quote", s, quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// testFlags are the go test flags a test binary knows as -test.NAME.
var testFlags = map[string]bool{
	"bench": true, "benchmem": true, "benchtime": true, "blockprofile": true,
	"blockprofilerate": true, "count": true, "coverprofile": true, "cpu": true,
	"cpuprofile": true, "failfast": true, "fullpath": true, "list": true,
	"memprofile": true, "memprofilerate": true, "mutexprofile": true,
	"mutexprofilefraction": true, "outputdir": true, "parallel": true,
	"run": true, "short": true, "shuffle": true, "skip": true, "timeout": true,
	"v": true,
}

// TestBinaryArgs rewrites go test flags (-run X, -v, -count=1) into the
// -test.* form a test binary takes; other arguments pass unchanged. As go
// test does, it starts with -test.paniconexit0 and the default
// -test.timeout=10m0s (a -timeout given later wins), so a test that hangs
// ends with a panic, and the complete generations of its trace are kept.
func TestBinaryArgs(args []string) []string {
	out := make([]string, 0, len(args)+2)
	out = append(out, "-test.paniconexit0", "-test.timeout=10m0s")
	for i, a := range args {
		if a == "--" || a == "-args" {
			return append(out, args[i+1:]...)
		}
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
			continue
		}
		dashes := "-"
		name := strings.TrimPrefix(a, "-")
		if strings.HasPrefix(name, "-") {
			dashes, name = "--", name[1:]
		}
		key, _, _ := strings.Cut(name, "=")
		if testFlags[key] {
			a = dashes + "test." + name
		}
		out = append(out, a)
	}
	return out
}
